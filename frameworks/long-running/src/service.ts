/**
 * The long-running services framework: apps, their instances on the cluster, deployments.
 *
 *   REST / CLI ──► apps & deployments (validated, persisted) ──► tick(): planner per app
 *        ▲                                                           │ launch n / kill these
 *        │ events (SSE)                                              ▼
 *   status updates ◄── master ◄── ACCEPT (write-ahead persisted) ◄── offers: role, resources,
 *   health probes ──► instance health ──► planner (circuit breaker)       constraints (why log)
 *
 * Everything that decides is pure (validateApp, plan, violation, unfit); this file is the plumbing:
 * the SchedulerDriver, timers, probes and the store. A single `tick()` recomputes what each app
 * needs after every change, so there is no per-deployment state machine to get stuck: a
 * restarted framework loads its instances and deployments and simply carries on.
 */
import { EventEmitter } from 'node:events';
import {
  FrameworkCapability,
  SchedulerDriver,
  TaskState,
  commandTask,
  idOf,
  isTerminalState,
  resources as res,
  taskStateName,
  type Logger,
  type Offer,
  type Resource,
  type TaskInfo,
  type TaskStatus,
} from '@agora/sdk';
import { absoluteId, configKey, validateApp, type AppSpec, type FieldError } from './app.js';
import { placementOf, type Placement } from './constraints.js';
import { unfit } from './fit.js';
import { ApiError, type AppRecord, type Deployment, type DeploymentKind, type Instance } from './model.js';
import { launchDelaySeconds, plan, isHealthy } from './planner.js';
import { HealthProber } from './probes.js';
import {
  HOUSEKEEPING_MS,
  KILL_RETRY_MS,
  STAGING_RECONCILE_MS,
  compile,
  deploymentId,
  iso,
  now,
  portsOf,
  taskIdFor,
  type AppRuntime,
  type Compiled,
  type LongRunningOptions,
  type OfferRecord,
} from './service-options.js';
import { StateStore, type StoredState } from './store.js';
import * as views from './views.js';

// Options and the offer record live in service-options.ts; re-exported so the package's
// public surface (index.ts imports them from here) does not change.
export type { LongRunningOptions, OfferRecord } from './service-options.js';

export class LongRunningService {
  readonly options: Compiled;
  readonly events = new EventEmitter();
  private readonly log: Logger;
  private readonly store: StateStore;
  private driver: SchedulerDriver | undefined;
  private frameworkId: string | undefined;
  readonly apps = new Map<string, AppRecord>();
  private readonly versions = new Map<string, AppRecord[]>();
  readonly instances = new Map<string, Instance>();
  readonly deployments = new Map<string, Deployment>();
  private readonly runtime = new Map<string, AppRuntime>();
  private timer: NodeJS.Timeout | undefined;
  private tickQueued = false;
  private persistQueued = false;
  private lastReconcile = 0;
  private lastDemand = 0;
  private stopped = false;
  readonly metrics = {
    offersReceived: 0, offersDeclined: 0, tasksLaunched: 0, tasksFailed: 0, tasksKilled: 0, healthChecks: 0, healthFailures: 0,
    deploymentsStarted: 0, deploymentsFinished: 0, deploymentsRolledBack: 0, statusUpdates: 0, orphansKilled: 0,
  };
  readonly startedAt = now();
  // These two are declared after the maps and `metrics` they are handed (initialisers run in order).
  /** Health and readiness probing (probes.ts), fed the state and callbacks it needs. */
  private readonly prober = new HealthProber({
    apps: this.apps,
    instances: this.instances,
    metrics: this.metrics,
    rt: (appId) => this.rt(appId),
    emit: (eventType, data) => this.emit(eventType, data),
    persistSoon: () => this.persistSoon(),
    scheduleTick: () => this.scheduleTick(),
  });
  /** Read access for views.ts to the state it shows, without making that state public. */
  private readonly viewSource: views.ViewSource = {
    apps: this.apps,
    deployments: this.deployments,
    instances: this.instances,
    runtime: this.runtime,
    rt: (appId) => this.rt(appId),
    instancesOf: (appId) => this.instancesOf(appId),
    lockedBy: (appId) => this.lockedBy(appId),
  };

  constructor(options: LongRunningOptions) {
    this.options = compile(options);
    this.log = this.options.logger;
    this.store = new StateStore(this.options.workDir);
    this.events.setMaxListeners(0);
  }

  get id(): string | undefined {
    return this.frameworkId;
  }

  get connected(): boolean {
    return this.driver?.connected ?? false;
  }

  // ---- life cycle ---------------------------------------------------------------------------

  /** Loads the stored state, subscribes (re-subscribing with the stored framework ID) and starts. */
  async start(): Promise<void> {
    const s = await this.store.load();
    if (s) this.restore(s);
    const self = this;
    this.driver = new SchedulerDriver({
      master: this.options.master,
      framework: {
        name: this.options.name,
        roles: this.options.roles,
        failoverTimeoutSeconds: this.options.failoverTimeoutSeconds,
        capabilities: [FrameworkCapability.PARTITION_AWARE, FrameworkCapability.MULTI_ROLE],
        ...(this.options.webuiUrl ? { webuiUrl: this.options.webuiUrl } : {}),
        ...(this.frameworkId ? { id: { value: this.frameworkId } } : {}),
      },
      logger: this.log,
      connectTimeoutMs: this.options.connectTimeoutMs,
      callbacks: {
        subscribed(_d, frameworkId) { return self.onSubscribed(frameworkId); },
        resourceOffers(d, offers) { return self.onOffers(d, offers); },
        statusUpdate(_d, status) { self.onStatus(status); },
        error(_d, message) { self.log.error({ message }, 'the master reported an error'); },
      },
    });
    await this.driver.start();
    this.timer = setInterval(() => this.housekeeping(), HOUSEKEEPING_MS);
    this.timer.unref();
  }

  /** Disconnects without tearing down (tasks keep running; a restart takes over). `teardown`: kill everything. */
  async stop(options: { teardown?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.persist();
    await this.driver?.stop({ failover: !options.teardown });
  }

  private restore(s: StoredState): void {
    this.frameworkId = s.frameworkId;
    for (const a of s.apps as AppRecord[]) this.apps.set(a.spec.id, a);
    for (const [id, list] of Object.entries(s.versions ?? {})) this.versions.set(id, list as AppRecord[]);
    for (const d of s.deployments as Deployment[]) this.deployments.set(d.id, { ...d, progressAt: now() });
    for (const i of s.instances as Instance[]) {
      // Health is re-learned; a kill in progress is re-sent by housekeeping.
      this.instances.set(i.taskId, { ...i, healthy: undefined, failing: false, ...(i.killReason ? { killSentAt: 0 } : {}) });
    }
    this.log.info({ apps: this.apps.size, instances: this.instances.size, deployments: this.deployments.size }, 'state restored');
  }

  private snapshot(): StoredState {
    return {
      v: 1,
      ...(this.frameworkId ? { frameworkId: this.frameworkId } : {}),
      apps: [...this.apps.values()],
      deployments: [...this.deployments.values()],
      instances: [...this.instances.values()],
      versions: Object.fromEntries(this.versions),
    };
  }

  /** Writes the state now (coalesced with concurrent writes). */
  persist(): Promise<void> {
    return this.store.save(() => this.snapshot());
  }

  private persistSoon(): void {
    if (this.persistQueued) return;
    this.persistQueued = true;
    setTimeout(() => {
      this.persistQueued = false;
      this.persist().catch((e) => this.log.error({ err: e }, 'could not persist the state'));
    }, 20).unref();
  }

  private async onSubscribed(frameworkId: string): Promise<void> {
    const first = this.frameworkId !== frameworkId;
    this.frameworkId = frameworkId;
    if (first) await this.persist();
    // Learn the truth about every task we know, and about tasks we do not (orphans: killed).
    const known = [...this.instances.values()].map((i) => ({ taskId: i.taskId, agentId: i.agentId }));
    if (known.length) this.driver?.reconcile(known);
    this.driver?.reconcile();
    this.lastReconcile = now();
    this.driver?.revive();
    this.emit('framework_subscribed', { frameworkId });
    this.scheduleTick();
  }

  // ---- events ---------------------------------------------------------------------------

  private emit(eventType: string, data: Record<string, unknown>): void {
    this.events.emit('event', { eventType, timestamp: iso(), ...data });
  }

  // ---- apps (the API's operations) ------------------------------------------------------

  private rt(appId: string): AppRuntime {
    let r = this.runtime.get(appId);
    if (!r) {
      r = { failures: 0, delayUntil: 0, offers: [], summary: {}, demand: 0 };
      this.runtime.set(appId, r);
    }
    return r;
  }

  /** Validates a definition; throws ApiError(422) listing every problem. */
  validate(json: unknown, base = '/'): AppSpec {
    const v = validateApp(json, { roles: this.options.roles }, base);
    if (!v.ok) throw new ApiError(422, 'Object is not valid', v.errors);
    return v.value;
  }

  private lockedBy(appId: string): Deployment | undefined {
    for (const d of this.deployments.values()) if (d.appId === appId) return d;
    return undefined;
  }

  /** Creates apps (all or none). Duplicates (existing or within the batch) are 422s. */
  async createApps(jsons: unknown[], base = '/'): Promise<Deployment[]> {
    const errors: FieldError[] = [];
    const specs: AppSpec[] = [];
    const seen = new Set<string>();
    jsons.forEach((j, i) => {
      const prefix = jsons.length > 1 ? `/apps/${i}` : '';
      const v = validateApp(j, { roles: this.options.roles }, base);
      if (!v.ok) { for (const e of v.errors) errors.push({ path: `${prefix}${e.path}`, message: e.message }); return; }
      const id = v.value.id;
      if (this.apps.has(id)) errors.push({ path: `${prefix}/id`, message: `an app with id ${id} already exists (use PUT /v2/apps${id} to change it)` });
      else if (seen.has(id)) errors.push({ path: `${prefix}/id`, message: `id ${id} is given twice` });
      seen.add(id);
      specs.push(v.value);
    });
    for (const s of specs) for (const d of s.dependencies) {
      if (!this.apps.has(d) && !seen.has(d)) errors.push({ path: '/dependencies', message: `${s.id} depends on ${d}, which does not exist` });
    }
    if (errors.length) throw new ApiError(422, 'Object is not valid', errors);
    const out: Deployment[] = [];
    for (const spec of specs) out.push(this.deploy(spec, 'create', undefined));
    await this.persist();
    this.scheduleTick();
    return out;
  }

  /**
   * Creates or replaces an app (PUT), or merges a partial definition into it (PATCH).
   * An app with a deployment in progress is locked (409) unless `force`.
   */
  async putApp(id: string, json: unknown, options: { force?: boolean; partial?: boolean } = {}): Promise<Deployment> {
    const appId = absoluteId(id);
    const current = this.apps.get(appId);
    if (options.partial && !current) throw new ApiError(404, `app ${appId} does not exist`);
    let body: Record<string, unknown> = typeof json === 'object' && json !== null && !Array.isArray(json) ? { ...(json as Record<string, unknown>) } : (json as Record<string, unknown>);
    if (body && typeof body === 'object' && body.id !== undefined && absoluteId(String(body.id)) !== appId) {
      throw new ApiError(422, 'Object is not valid', [{ path: '/id', message: `id ${String(body.id)} differs from the path's ${appId}` }]);
    }
    if (options.partial && current) body = { ...(current.spec as unknown as Record<string, unknown>), ...body };
    else if (current && body && typeof body === 'object') {
      // A PUT of only { instances } (Marathon's scale) keeps everything else.
      const keys = Object.keys(body).filter((k) => k !== 'id');
      if (keys.length === 1 && keys[0] === 'instances') body = { ...(current.spec as unknown as Record<string, unknown>), instances: body.instances };
    }
    if (body && typeof body === 'object') body.id = appId;
    const spec = this.validate(body);
    for (const d of spec.dependencies) if (!this.apps.has(d)) throw new ApiError(422, 'Object is not valid', [{ path: '/dependencies', message: `depends on ${d}, which does not exist` }]);
    const lock = this.lockedBy(appId);
    if (lock && !options.force) throw new ApiError(409, `app ${appId} is locked by deployment ${lock.id} (${lock.waitingFor || 'in progress'}); wait, roll it back, or use force`);
    let kind: DeploymentKind = 'create';
    if (current) kind = configKey(current.spec) === configKey(spec) ? 'scale' : 'update';
    const d = this.deploy(spec, kind, current, lock);
    await this.persist();
    this.scheduleTick();
    return d;
  }

  async restartApp(id: string, force = false): Promise<Deployment> {
    const appId = absoluteId(id);
    const current = this.apps.get(appId);
    if (!current) throw new ApiError(404, `app ${appId} does not exist`);
    const lock = this.lockedBy(appId);
    if (lock && !force) throw new ApiError(409, `app ${appId} is locked by deployment ${lock.id}; use force`);
    const d = this.deploy(current.spec, 'restart', current, lock);
    await this.persist();
    this.scheduleTick();
    return d;
  }

  async deleteApp(id: string, force = false): Promise<Deployment> {
    const appId = absoluteId(id);
    const current = this.apps.get(appId);
    if (!current) throw new ApiError(404, `app ${appId} does not exist`);
    const lock = this.lockedBy(appId);
    if (lock && !force && lock.kind !== 'delete') throw new ApiError(409, `app ${appId} is locked by deployment ${lock.id}; use force`);
    for (const other of this.apps.values()) {
      if (other.spec.dependencies.includes(appId)) throw new ApiError(409, `app ${other.spec.id} depends on ${appId}; remove or change it first`);
    }
    if (lock) this.deployments.delete(lock.id);
    const d: Deployment = this.newDeployment(appId, 'delete', current, undefined, iso());
    this.deployments.set(d.id, d);
    await this.persist();
    this.scheduleTick();
    return d;
  }

  /** Rolls a deployment back (DELETE /v2/deployments/id), or just forgets it with `force`. */
  async rollback(deploymentId: string, force = false): Promise<Deployment | undefined> {
    const d = this.deployments.get(deploymentId);
    if (!d) throw new ApiError(404, `deployment ${deploymentId} does not exist`);
    this.deployments.delete(d.id);
    if (force) {
      this.emit('deployment_failed', { id: d.id, appId: d.appId, reason: 'cancelled (force)' });
      await this.persist();
      return undefined;
    }
    this.metrics.deploymentsRolledBack++;
    let r: Deployment;
    if (!d.from) {
      // The app did not exist before: rolling back removes it.
      const cur = this.apps.get(d.appId);
      r = this.newDeployment(d.appId, 'delete', cur, undefined, iso());
      r.kind = 'rollback';
      this.deployments.set(r.id, r);
    } else {
      // Back to the old config — with the current instance count unless the deployment was a scale.
      r = this.deploy(d.from.spec, 'rollback', this.apps.get(d.appId), undefined, d.from.configVersion);
    }
    this.emit('deployment_failed', { id: d.id, appId: d.appId, reason: `rolled back by deployment ${r.id}` });
    await this.persist();
    this.scheduleTick();
    return r;
  }

  private newDeployment(appId: string, kind: DeploymentKind, from: AppRecord | undefined, to: AppRecord | undefined, version: string): Deployment {
    this.metrics.deploymentsStarted++;
    const d: Deployment = {
      id: deploymentId(), appId, kind, version, createdAt: iso(), status: 'running', waitingFor: 'starting',
      progressAt: now(), stepTimeoutSeconds: this.options.deploymentStepTimeoutSeconds,
      ...(from ? { from } : {}), ...(to ? { to } : {}),
    };
    this.emit('deployment_info', { id: d.id, appId, kind, version });
    return d;
  }

  /** Stores a new app version and starts a deployment towards it. */
  private deploy(spec: AppSpec, kind: DeploymentKind, current: AppRecord | undefined, replacing?: Deployment, configVersion?: string): Deployment {
    const version = iso();
    const sameConfig = current && configKey(current.spec) === configKey(spec) && kind !== 'restart';
    const rec: AppRecord = { spec, version, configVersion: configVersion ?? (sameConfig ? current.configVersion : version) };
    if (current) {
      const list = this.versions.get(spec.id) ?? [];
      list.push(current);
      while (list.length > 20) list.shift();
      this.versions.set(spec.id, list);
    }
    this.apps.set(spec.id, rec);
    if (kind !== 'scale') { const r = this.rt(spec.id); r.failures = 0; r.delayUntil = 0; }
    if (replacing) this.deployments.delete(replacing.id);
    const d = this.newDeployment(spec.id, kind, replacing?.from ?? current, rec, version);
    this.deployments.set(d.id, d);
    this.emit('api_post_event', { appDefinition: spec });
    return d;
  }

  versionsOf(appId: string): AppRecord[] {
    const cur = this.apps.get(appId);
    return [...(this.versions.get(appId) ?? []), ...(cur ? [cur] : [])];
  }

  // ---- the loop -------------------------------------------------------------------------

  scheduleTick(): void {
    if (this.tickQueued || this.stopped) return;
    this.tickQueued = true;
    setImmediate(() => { this.tickQueued = false; this.tick(); });
  }

  private instancesOf(appId: string): Instance[] {
    const out: Instance[] = [];
    for (const i of this.instances.values()) if (i.appId === appId) out.push(i);
    return out;
  }

  private dependencyBlock(spec: AppSpec): string | undefined {
    for (const dep of spec.dependencies) {
      const a = this.apps.get(dep);
      if (!a) return `dependency ${dep} does not exist`;
      if (this.lockedBy(dep)) return `dependency ${dep} is still deploying`;
      const healthy = this.instancesOf(dep).filter((i) => isHealthy(a.spec, i)).length;
      if (healthy < a.spec.instances) return `dependency ${dep} has ${healthy} of ${a.spec.instances} instances healthy`;
    }
    return undefined;
  }

  /** Recomputes every app's plan: sends kills, sets launch demand, moves deployments on. */
  tick(): void {
    if (this.stopped) return;
    const t = now();
    let demand = 0;
    let changed = false;
    for (const d of [...this.deployments.values()]) {
      if (d.kind !== 'delete' && !(d.kind === 'rollback' && !d.to)) continue;
      // Removal: kill everything, then forget the app.
      const left = this.instancesOf(d.appId);
      for (const i of left) if (!i.killReason) this.killInstance(i, 'app removed');
      d.waitingFor = left.length ? `${left.length} instance(s) to stop` : '';
      if (left.length === 0) {
        this.apps.delete(d.appId);
        this.versions.delete(d.appId);
        this.runtime.delete(d.appId);
        this.finishDeployment(d);
        this.emit('app_terminated_event', { appId: d.appId });
        changed = true;
      }
    }
    for (const app of this.apps.values()) {
      const spec = app.spec;
      const r = this.rt(spec.id);
      if (this.removing(spec.id)) { r.demand = 0; continue; }
      const mine = this.instancesOf(spec.id);
      const p = plan({ spec, configVersion: app.configVersion }, mine);
      r.plan = p;
      for (const k of p.kill) {
        const i = this.instances.get(k.taskId);
        if (i) this.killInstance(i, k.reason);
      }
      if (p.kill.length) changed = true;
      r.blockedBy = this.dependencyBlock(spec);
      const delayed = r.delayUntil > t;
      r.demand = r.blockedBy || delayed ? 0 : p.launch;
      demand += r.demand;
      const d = this.lockedBy(spec.id);
      if (d) {
        const waits = [p.waitingFor, r.blockedBy ? `waiting: ${r.blockedBy}` : '', delayed && p.launch > 0 ? `launch delayed ${((r.delayUntil - t) / 1000).toFixed(1)} s (backoff after ${r.failures} failure(s))` : '']
          .filter(Boolean).join('; ');
        const fp = JSON.stringify(p.counts) + p.launch;
        if (fp !== d.fingerprint) { d.fingerprint = fp; d.progressAt = t; if (d.status === 'stalled') d.status = 'running'; }
        d.waitingFor = waits;
        if (p.done) { this.finishDeployment(d); changed = true; }
        else if (d.status === 'running' && t - d.progressAt > d.stepTimeoutSeconds * 1000) {
          d.status = 'stalled';
          this.log.warn({ deployment: d.id, app: spec.id, waitingFor: waits }, 'deployment stalled');
          this.emit('deployment_stalled', { id: d.id, appId: spec.id, waitingFor: waits, stepTimeoutSeconds: d.stepTimeoutSeconds });
        }
      }
    }
    if (demand > this.lastDemand) this.driver?.revive();
    this.lastDemand = demand;
    if (changed) this.persistSoon();
  }

  private removing(appId: string): boolean {
    const d = this.lockedBy(appId);
    return !!d && !d.to;
  }

  private finishDeployment(d: Deployment): void {
    this.deployments.delete(d.id);
    this.metrics.deploymentsFinished++;
    this.emit('deployment_success', { id: d.id, appId: d.appId, kind: d.kind, version: d.version });
    this.persistSoon();
  }

  private killInstance(i: Instance, reason: string): void {
    i.killReason = reason;
    i.killSentAt = now();
    if (i.state !== 'unreachable') i.state = 'killing';
    const spec = this.apps.get(i.appId)?.spec;
    this.metrics.tasksKilled++;
    this.driver?.kill(i.taskId, i.agentId, spec?.taskKillGracePeriodSeconds !== undefined ? { gracePeriodSeconds: spec.taskKillGracePeriodSeconds } : undefined);
    this.emit('instance_kill', { appId: i.appId, taskId: i.taskId, reason });
  }

  private housekeeping(): void {
    const t = now();
    // Unreachable instances: inactive after inactiveAfterSeconds, killed after expunge.
    for (const i of this.instances.values()) {
      if (i.state === 'unreachable' && i.unreachableSince) {
        const spec = this.apps.get(i.appId)?.spec;
        const u = spec?.unreachableStrategy;
        if (u && u !== 'disabled') {
          if (!i.inactive && t - i.unreachableSince >= u.inactiveAfterSeconds * 1000) { i.inactive = true; this.scheduleTick(); }
          if (t - i.unreachableSince >= u.expungeAfterSeconds * 1000 && !i.killReason) this.killInstance(i, 'unreachable: expunged');
        }
      }
      // A kill that did not take (agent away, command dropped while disconnected): send it again.
      if (i.killReason && (i.killSentAt ?? 0) + KILL_RETRY_MS + 1000 * (this.apps.get(i.appId)?.spec.taskKillGracePeriodSeconds ?? 3) < t) {
        i.killSentAt = t;
        this.driver?.kill(i.taskId, i.agentId);
      }
    }
    // Launches that never reported (sent while disconnected, or lost): ask the master.
    if (t - this.lastReconcile > STAGING_RECONCILE_MS) {
      this.lastReconcile = t;
      const stale = [...this.instances.values()].filter((i) => (i.state === 'staging' || i.state === 'starting') && t - i.launchedAt > STAGING_RECONCILE_MS);
      if (stale.length) this.driver?.reconcile(stale.map((i) => ({ taskId: i.taskId, agentId: i.agentId })));
    }
    this.prober.run(t);
    this.tick();
  }

  // ---- offers ---------------------------------------------------------------------------

  private async onOffers(d: SchedulerDriver, offers: Offer[]): Promise<void> {
    this.metrics.offersReceived += offers.length;
    this.tick();
    const launches: { offerId: string; tasks: TaskInfo[] }[] = [];
    const wanting = [...this.apps.values()].filter((a) => (this.runtime.get(a.spec.id)?.demand ?? 0) > 0);
    const placed = new Map<string, Placement[]>();
    const placementsOf = (appId: string): Placement[] => {
      let p = placed.get(appId);
      if (!p) {
        p = this.instancesOf(appId).filter((i) => !i.killReason && !i.inactive).map((i) => ({ hostname: i.hostname, attributes: i.attributes }));
        placed.set(appId, p);
      }
      return p;
    };
    for (const offer of offers) {
      const offerId = idOf(offer.id);
      if (wanting.length === 0) {
        this.metrics.offersDeclined++;
        d.decline(offerId, { refuseSeconds: 30 });
        continue;
      }
      const placement = placementOf(offer);
      let left: Resource[] = offer.resources ?? [];
      const tasks: TaskInfo[] = [];
      for (const app of wanting) {
        const r = this.rt(app.spec.id);
        let launched = 0;
        let reason = '';
        let outcome = '';
        while (r.demand > 0) {
          const why = unfit(app, offer, left, placement, placementsOf(app.spec.id));
          if (why) { [outcome, reason] = why; break; }
          const task = this.buildTask(app, offer, left);
          left = res.subtract(left, task.resources ?? []);
          tasks.push(task);
          placementsOf(app.spec.id).push(placement);
          r.demand--;
          launched++;
        }
        if (launched > 0 || reason) {
          const rec: OfferRecord = { at: iso(), offerId, agentId: idOf(offer.agentId), hostname: offer.hostname ?? '', outcome: launched > 0 ? 'launched' : outcome, reason: launched > 0 ? `launched ${launched} instance(s)${reason ? `; then ${reason}` : ''}` : reason, ...(launched ? { launched } : {}) };
          r.offers.push(rec);
          while (r.offers.length > this.options.offerLogSize) r.offers.shift();
          r.summary[rec.outcome] = (r.summary[rec.outcome] ?? 0) + 1;
          if (launched === 0) this.emit('offer_declined', { appId: app.spec.id, ...rec });
        }
      }
      if (tasks.length) launches.push({ offerId, tasks });
      else {
        this.metrics.offersDeclined++;
        // Something still waits: come back soon so "why" stays current and new room is seen.
        d.decline(offerId, { refuseSeconds: 1 });
      }
    }
    if (launches.length === 0) return;
    // Write-ahead: the instances are on disk before the master hears of them.
    await this.persist();
    for (const l of launches) {
      d.launch(l.offerId, l.tasks, { refuseSeconds: 0.5 });
      this.metrics.tasksLaunched += l.tasks.length;
    }
  }

  private buildTask(app: AppRecord, offer: Offer, left: Resource[]): TaskInfo {
    const spec = app.spec;
    const taskId = taskIdFor(spec.id);
    const env: Record<string, string> = {
      ...spec.env,
      AGORA_APP_ID: spec.id,
      AGORA_APP_VERSION: app.version,
      MARATHON_APP_ID: spec.id,
      MARATHON_APP_VERSION: app.version,
    };
    for (const [k, v] of Object.entries(spec.labels)) if (/^[A-Za-z0-9_]+$/.test(k)) env[`MARATHON_APP_LABEL_${k.toUpperCase()}`] = v;
    const task = commandTask({ ...offer, resources: left }, {
      name: spec.id,
      taskId,
      command: spec.cmd !== undefined ? spec.cmd : { value: spec.args![0]!, arguments: spec.args, shell: false },
      cpus: spec.cpus,
      mem: spec.mem,
      disk: spec.disk,
      ports: spec.portDefinitions.length,
      env,
      uris: spec.fetch.map((f) => ({ value: f.uri, executable: !!f.executable, extract: f.extract !== false, cache: !!f.cache, ...(f.outputFile ? { outputFile: f.outputFile } : {}) })),
      labels: spec.labels,
      ...(spec.taskKillGracePeriodSeconds !== undefined ? { killGracePeriodSeconds: spec.taskKillGracePeriodSeconds } : {}),
    });
    const placement = placementOf(offer);
    this.instances.set(taskId, {
      taskId, appId: spec.id, configVersion: app.configVersion, version: app.version,
      agentId: idOf(offer.agentId), hostname: placement.hostname, attributes: placement.attributes,
      ports: portsOf(task.resources ?? []), state: 'staging', launchedAt: now(),
    });
    return task;
  }

  // ---- status updates -----------------------------------------------------------------------

  private onStatus(status: TaskStatus): void {
    this.metrics.statusUpdates++;
    const taskId = idOf(status.taskId);
    const i = this.instances.get(taskId);
    const state = status.state ?? TaskState.TASK_UNKNOWN;
    if (!i) {
      // Not ours (any more): a task we never recorded, or one we already gave up on.
      if (!isTerminalState(state) && state !== TaskState.TASK_UNKNOWN) {
        this.metrics.orphansKilled++;
        this.log.warn({ taskId }, 'killing a task this framework does not know (orphan)');
        this.driver?.kill(taskId, idOf(status.agentId) || undefined);
      }
      return;
    }
    const prev = i.state;
    this.emit('status_update_event', { appId: i.appId, taskId, taskStatus: taskStateName(state), agentId: i.agentId, host: i.hostname, ports: i.ports, version: i.version, message: status.message ?? '' });
    switch (state) {
      case TaskState.TASK_STAGING: if (!i.killReason) i.state = 'staging'; break;
      case TaskState.TASK_STARTING: if (!i.killReason) i.state = 'starting'; break;
      case TaskState.TASK_RUNNING:
        i.unreachableSince = undefined;
        i.inactive = false;
        if (!i.killReason) i.state = 'running';
        else if (i.state === 'unreachable') i.state = 'killing';
        i.startedAt ??= now();
        break;
      case TaskState.TASK_KILLING: i.state = 'killing'; break;
      case TaskState.TASK_UNREACHABLE:
        i.state = 'unreachable';
        i.unreachableSince ??= now();
        break;
      default:
        if (isTerminalState(state) || state === TaskState.TASK_UNKNOWN) {
          this.instances.delete(taskId);
          this.prober.forget(taskId);
          const expected = !!i.killReason && !i.killReason.startsWith('health');
          if (!expected) {
            const r = this.rt(i.appId);
            const spec = this.apps.get(i.appId)?.spec;
            r.failures++;
            this.metrics.tasksFailed++;
            r.lastFailure = { at: iso(), taskId, state: taskStateName(state), message: status.message ?? i.killReason ?? '' };
            if (spec) r.delayUntil = now() + launchDelaySeconds(spec, r.failures) * 1000;
          }
          this.persistSoon();
        }
    }
    if (prev !== i.state) this.persistSoon();
    this.scheduleTick();
  }

  // ---- views for the API (views.ts) ---------------------------------------------------------

  appCounts(appId: string): { tasksStaged: number; tasksRunning: number; tasksHealthy: number; tasksUnhealthy: number } {
    return views.appCounts(this.viewSource, appId);
  }

  appView(rec: AppRecord, embed: { tasks?: boolean } = {}): Record<string, unknown> {
    return views.appView(this.viewSource, rec, embed);
  }

  taskView(i: Instance): Record<string, unknown> {
    return views.taskView(this.viewSource, i);
  }

  deploymentView(d: Deployment): Record<string, unknown> {
    return views.deploymentView(d);
  }

  /** "Why isn't my app running": the queue entry of one app. */
  why(appId: string): Record<string, unknown> {
    return views.why(this.viewSource, appId);
  }

  queue(): Record<string, unknown>[] {
    return views.queue(this.viewSource);
  }

  metricsText(): string {
    return views.metricsText(this.viewSource, { metrics: this.metrics, stateWrites: this.store.writes, connected: this.connected });
  }
}

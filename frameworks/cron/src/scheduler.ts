/**
 * The cron scheduler: turns scheduled instants into runs, runs into tasks, task updates into
 * run outcomes, retries, and children's runs.
 *
 * Exactly once per instant. Each scheduled job has a persisted cursor: the latest instant already
 * turned into a run (or skipped). An instant is materialised by advancing the cursor and storing
 * the run (`job@<instant ISO>`) in the same group commit; a task is launched only after the
 * record naming its task ID (`<run id>.<attempt>`) is on disk. After a crash the cursor says
 * which instants are done, the records say which tasks may exist, and reconciliation with the
 * master says what became of them — so no instant runs twice and none is forgotten. The one
 * relaunch is a task recorded as launching that the master has never heard of: it never ran.
 *
 * On time. Runs start late when they wait for offers. So while an instant is due within
 * `readyAheadMs` the scheduler keeps the offers it gets instead of declining them, and revives
 * offers that much ahead of the next instant; when the instant comes the task is launched on an
 * offer already in hand. Start jitter (scheduled instant → TASK_RUNNING seen here) is measured
 * per run and exported.
 *
 * Time comes from the Clock passed in (CONVENTIONS §3): tests drive instants with a FakeClock.
 */
import {
  SchedulerDriver,
  TaskState,
  TaskStatusReason,
  commandTask,
  idOf,
  isTerminalState,
  offerFits,
  resources as res,
  silentLogger,
  systemClock,
  taskStateName,
  type Clock,
  type Logger,
  type Offer,
  type TaskInfo,
  type TaskStatus,
} from '@agora/sdk';
import { commandOf, compileJob, constraintsMatch, jobSchedule, validateGraph, validateJobSpec, type FieldError, type Job, type JobSpec } from './job.js';
import { dueTimes, nextTimes, type Schedule } from './schedule.js';
import { CronStore, TERMINAL, type RunRecord, type RunTrigger } from './store.js';
import { graphDot, statsView, type JobStatsView } from './stats.js';
import { CronMetrics } from './metrics.js';

/** Options of `CronScheduler.open` (and `startCron`). */
export interface CronSchedulerOptions {
  /** Master address(es) host:port. */
  master: string | string[];
  /** Where the state (jobs, runs, cursors, framework ID) is kept. */
  workDir: string;
  /** @default 'agora-cron' */
  frameworkName?: string;
  /** @default '*' */
  role?: string;
  /** How long the master keeps our tasks while we are away (restart, crash). @default 604800 (a week) */
  failoverTimeoutSeconds?: number;
  /** Offers are kept (and revived) this long before an instant, so runs start on time. @default 5000 */
  readyAheadMs?: number;
  /**
   * An instant handled more than this late counts as missed (the framework or cluster was
   * down) and follows the job's missedRunPolicy; a job's startingDeadlineSeconds wins.
   * @default 5000
   */
  missedAfterMs?: number;
  /** Finished runs kept per job. @default 100 */
  historyLimit?: number;
  /** Skip fsync of the journal (benchmarks only). @default false */
  noSync?: boolean;
  /** @default systemClock */
  clock?: Clock;
  /** @default silent */
  logger?: Logger;
  /** @default 15000 */
  connectTimeoutMs?: number;
}

interface Compiled {
  masters: string[];
  workDir: string;
  frameworkName: string;
  role: string;
  failoverTimeoutSeconds: number;
  readyAheadMs: number;
  missedAfterMs: number;
  historyLimit: number;
  noSync: boolean;
  clock: Clock;
  logger: Logger;
  connectTimeoutMs: number;
}

function compileOptions(o: CronSchedulerOptions): Compiled {
  if (!o.workDir) throw new Error('cron: option `workDir` is required');
  return {
    masters: Array.isArray(o.master) ? o.master : [o.master],
    workDir: o.workDir,
    frameworkName: o.frameworkName ?? 'agora-cron',
    role: o.role ?? '*',
    failoverTimeoutSeconds: o.failoverTimeoutSeconds ?? 7 * 86_400,
    readyAheadMs: o.readyAheadMs ?? 5000,
    missedAfterMs: o.missedAfterMs ?? 5000,
    historyLimit: o.historyLimit ?? 100,
    noSync: o.noSync ?? false,
    clock: o.clock ?? systemClock,
    logger: o.logger ?? silentLogger(),
    connectTimeoutMs: o.connectTimeoutMs ?? 15_000,
  };
}

/** A change the API asked for was refused: 422 (fields), 404, 409. */
export class CronError extends Error {
  constructor(readonly status: 404 | 409 | 422, message: string, readonly fields: FieldError[] = []) {
    super(message);
  }
}

const ACTIVE = (r: RunRecord): boolean => !TERMINAL.has(r.state);
const iso = (ms: number): string => new Date(ms).toISOString();
/** Launch failures (dropped, invalid offer) of one attempt before the run fails. */
const MAX_LAUNCH_FAILURES = 5;
/** A task recorded as launching with no word from the master this long is reconciled. */
const LAUNCH_CHECK_MS = 15_000;
const FAILED_STATES = new Set<number>([TaskState.TASK_FAILED, TaskState.TASK_KILLED, TaskState.TASK_LOST, TaskState.TASK_ERROR, TaskState.TASK_DROPPED, TaskState.TASK_GONE, TaskState.TASK_UNKNOWN, TaskState.TASK_UNREACHABLE]);

export class CronScheduler {
  readonly metrics = new CronMetrics();
  readonly driver: SchedulerDriver;
  private readonly o: Compiled;
  private readonly schedules = new Map<string, Schedule>();
  /** Next instant of each enabled scheduled job. */
  private readonly nextDue = new Map<string, number>();
  /** Runs waiting for an offer, in order. */
  private pending: string[] = [];
  private readonly held = new Map<string, Offer>();
  private readonly timeouts = new Map<string, { cancel(): void }>();
  private launchFailures = new Map<string, number>();
  /** IDs of runs not finished (the store also keeps history: never scan all of it per tick). */
  private readonly active = new Set<string>();
  private wake: { at: number; cancel(): void } | undefined;
  private lastRevive = -Infinity;
  private stopped = false;
  private started = false;
  private housekeeping: { cancel(): void } | undefined;

  private constructor(o: Compiled, readonly store: CronStore) {
    this.o = o;
    const fwId = store.state.frameworkId;
    this.driver = new SchedulerDriver({
      master: o.masters,
      framework: {
        name: o.frameworkName,
        roles: [o.role],
        failoverTimeoutSeconds: o.failoverTimeoutSeconds,
        checkpoint: true,
        ...(fwId ? { id: { value: fwId } } : {}),
      },
      clock: o.clock,
      logger: o.logger,
      connectTimeoutMs: o.connectTimeoutMs,
      callbacks: {
        subscribed: (d, id) => this.onSubscribed(id),
        resourceOffers: (_d, offers) => this.onOffers(offers),
        offerRescinded: (_d, id) => { this.held.delete(id); },
        statusUpdate: (_d, s) => this.onStatus(s),
        disconnected: () => { this.held.clear(); },
        error: (_d, m) => o.logger.warn(`cron: master says: ${m}`),
      },
    });
  }

  /** Loads the state from `workDir`; `start()` then subscribes and begins firing. */
  static async open(options: CronSchedulerOptions): Promise<CronScheduler> {
    const o = compileOptions(options);
    const store = await CronStore.open(o.workDir, { historyLimit: o.historyLimit, noSync: o.noSync });
    return new CronScheduler(o, store);
  }

  get clock(): Clock { return this.o.clock; }
  get frameworkId(): string | undefined { return this.driver.frameworkId ?? this.store.state.frameworkId; }

  /**
   * Subscribes (as the persisted framework when there is one) and starts firing. Instants that
   * came due while we were down are handled at once by each job's missed-run policy.
   */
  async start(): Promise<string> {
    for (const job of Object.values(this.store.state.jobs)) this.refreshJob(job);
    // Runs that were waiting when we stopped wait again; launching/running ones are reconciled.
    for (const r of Object.values(this.store.state.runs)) {
      if (ACTIVE(r)) this.active.add(r.id);
      if (r.state === 'pending') this.pending.push(r.id);
    }
    this.started = true;
    this.tick();
    const id = await this.driver.start();
    this.housekeep();
    return id;
  }

  /** Stops firing. failover (default): tasks keep running and a restart takes over; else TEARDOWN. */
  async stop(options: { failover?: boolean } = { failover: true }): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.wake?.cancel();
    this.housekeeping?.cancel();
    for (const t of this.timeouts.values()) t.cancel();
    await this.driver.stop({ failover: options.failover ?? true }).catch(() => undefined);
    await this.store.close();
  }

  // ---------------------------------------------------------------- jobs (the API's verbs)

  /** Creates or replaces a job; throws CronError(422) naming every bad field, storing nothing. */
  async putJob(spec: unknown, mode: 'create' | 'update' | 'upsert' = 'upsert'): Promise<Job> {
    const job = this.putJobNoFlush(spec, mode);
    await this.store.flush();
    this.tick();
    return job;
  }

  /**
   * Creates or replaces many jobs with one durable write (parents before children). Stops at
   * the first invalid one (CronError naming it); those before it are kept.
   */
  async putJobs(specs: readonly unknown[]): Promise<Job[]> {
    const out: Job[] = [];
    try {
      for (const s of specs) out.push(this.putJobNoFlush(s, 'upsert'));
    } finally {
      await this.store.flush();
      this.tick();
    }
    return out;
  }

  private putJobNoFlush(spec: unknown, mode: 'create' | 'update' | 'upsert'): Job {
    const now = this.o.clock.now();
    const errors = validateJobSpec(spec, now);
    const s = spec as JobSpec;
    if (errors.length === 0) {
      const exists = this.store.state.jobs[s.name] !== undefined;
      if (mode === 'create' && exists) throw new CronError(409, `job '${s.name}' exists; PUT /v1/jobs/${s.name} replaces it`);
      if (mode === 'update' && !exists) throw new CronError(404, `no job '${s.name}'`);
      const graph = new Map<string, readonly string[]>(Object.values(this.store.state.jobs).map((j) => [j.name, j.parents]));
      graph.set(s.name, s.schedule ? [] : (s.parents ?? []));
      errors.push(...validateGraph(graph, s.name));
    }
    if (errors.length > 0) throw new CronError(422, `invalid job: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, errors);
    const previous = this.store.state.jobs[s.name];
    const job = compileJob(s, now, previous);
    this.store.putJob(job);
    // A new or rescheduled job fires from now on: it has no past instants to catch up.
    if (job.schedule && (!previous || previous.schedule !== job.schedule || previous.timezone !== job.timezone || (previous.disabled && !job.disabled))) this.store.setCursor(job.name, now);
    if (!job.schedule) this.store.setCursor(job.name, now);
    this.refreshJob(job);
    return job;
  }

  /** Deletes a job (killing its active runs); children that named it keep nothing of it. */
  async deleteJob(name: string): Promise<void> {
    const job = this.requireJob(name);
    const children = Object.values(this.store.state.jobs).filter((j) => j.parents.includes(name)).map((j) => j.name);
    if (children.length) throw new CronError(409, `job '${name}' is a parent of ${children.map((c) => `'${c}'`).join(', ')}; change or remove those first`);
    this.kill(job.name);
    this.store.deleteJob(name);
    this.schedules.delete(name);
    this.nextDue.delete(name);
    await this.store.flush();
  }

  /** Runs a job now (with extra arguments), outside its schedule; children follow as usual. */
  async runNow(name: string, args: string[] = []): Promise<RunRecord> {
    const job = this.requireJob(name);
    let at = this.o.clock.now();
    while (this.store.state.runs[runId(name, at)]) at++;
    const run = this.materialise(job, at, 'manual', args);
    if (run.state === 'skipped') throw new CronError(409, run.message ?? 'not started');
    await this.store.flush();
    this.dispatch();
    return run;
  }

  /** Kills every active run of the job (no retries); returns their IDs. */
  kill(name: string): string[] {
    this.requireJob(name);
    const killed: string[] = [];
    for (const r of this.activeRuns(name)) {
      this.killRun(r, 'user');
      killed.push(r.id);
    }
    return killed;
  }

  jobs(): Job[] {
    return Object.values(this.store.state.jobs).sort((a, b) => a.name.localeCompare(b.name));
  }

  job(name: string): Job | undefined {
    return this.store.state.jobs[name];
  }

  requireJob(name: string): Job {
    const j = this.store.state.jobs[name];
    if (!j) throw new CronError(404, `no job '${name}'`);
    return j;
  }

  /** Active runs first (newest first), then finished ones (newest first). */
  history(name: string, limit = 100): RunRecord[] {
    this.requireJob(name);
    const active = this.activeRuns(name).sort((a, b) => b.scheduledAt - a.scheduledAt);
    return [...active, ...this.store.history(name)].slice(0, limit);
  }

  stats(name: string): JobStatsView {
    this.requireJob(name);
    return statsView(name, this.store.state.stats[name]);
  }

  /** Next `n` fire times of a scheduled job (after its cursor, i.e. those not yet fired). */
  next(name: string, n: number): number[] {
    const job = this.requireJob(name);
    const s = this.schedules.get(name) ?? jobSchedule(job);
    if (!s) return [];
    return nextTimes(s, Math.max(this.cursorOf(job), this.o.clock.now() - 1), n);
  }

  graph(): string {
    return graphDot(this.jobs(), (name) => this.store.history(name)[0]);
  }

  activeRuns(name?: string): RunRecord[] {
    const out: RunRecord[] = [];
    for (const id of this.active) {
      const r = this.store.state.runs[id];
      if (!r || !ACTIVE(r)) { this.active.delete(id); continue; }
      if (name === undefined || r.job === name) out.push(r);
    }
    return out;
  }

  run(id: string): RunRecord | undefined {
    return this.store.state.runs[id];
  }

  // ---------------------------------------------------------------- firing

  private cursorOf(job: Job): number {
    return this.store.state.cursors[job.name] ?? job.createdAt;
  }

  private refreshJob(job: Job): void {
    this.nextDue.delete(job.name);
    const s = jobSchedule(job);
    if (!s) { this.schedules.delete(job.name); return; }
    this.schedules.set(job.name, s);
    if (job.disabled) return; // a disabled job does not fire; enabling it starts from then
    const n = s.next(this.cursorOf(job));
    if (n !== undefined) this.nextDue.set(job.name, n);
  }

  /** Fires every due instant, applies deadlines and retries, then re-arms the one timer. */
  private tick(): void {
    if (this.stopped || !this.started) return;
    const now = this.o.clock.now();
    for (const [name, at] of [...this.nextDue]) {
      if (at > now) continue;
      const job = this.store.state.jobs[name];
      if (job) this.fire(job, now);
    }
    for (const r of this.activeRuns()) {
      if (r.state === 'retry-wait' && (r.retryAt ?? 0) <= now) {
        r.state = 'pending';
        r.retryAt = undefined;
        this.store.putRun(r);
        this.pending.push(r.id);
      }
    }
    this.expirePending(now);
    this.dispatch();
    this.arm(now);
  }

  /**
   * Turns the instants in (cursor, now] into runs per the missed-run policy. Normally that is
   * one instant, fired on time. After an outage: `skip` runs none that are late, `run-once`
   * runs only the latest, `catch-up` runs the latest `maxCatchUp` oldest first; the others are
   * recorded as skipped (the latest few) or counted.
   */
  private fire(job: Job, now: number): void {
    const s = this.schedules.get(job.name);
    if (!s) return;
    const keep = job.missedRunPolicy === 'catch-up' ? job.maxCatchUp : 10;
    const due = dueTimes(s, this.cursorOf(job), now, keep);
    if (due.total === 0 || due.last === undefined) { this.refreshJob(job); return; }
    const lateMs = job.startingDeadlineSeconds !== undefined ? job.startingDeadlineSeconds * 1000 : this.o.missedAfterMs;
    const last = due.last;
    const lastLate = now - last > lateMs;
    const missed = due.total - 1 + (lastLate ? 1 : 0);
    let run: number[];
    if (job.missedRunPolicy === 'catch-up') run = due.latest;
    else if (job.missedRunPolicy === 'run-once') run = [last];
    else run = lastLate ? [] : [last];
    const toRun = new Set(run);
    if (missed > 0) {
      this.metrics.missedInstants += missed;
      this.o.logger.warn(`cron: job '${job.name}': ${missed} instant(s) missed up to ${iso(last)}; policy ${job.missedRunPolicy} runs ${run.length}`);
    }
    this.store.setCursor(job.name, last);
    for (const t of due.latest) {
      if (toRun.has(t)) this.materialise(job, t, t === last && !lastLate && due.total === 1 ? 'schedule' : 'catch-up');
      else this.skipInstant(job, t, `missed (policy ${job.missedRunPolicy})`);
    }
    // Older skipped instants beyond those recorded are only counted.
    const unrecorded = due.total - due.latest.length;
    if (unrecorded > 0) {
      const st = this.store.state.stats[job.name];
      if (st) st.skippedCount += unrecorded;
      this.metrics.runsSkipped += unrecorded;
    }
    const n = s.next(last);
    if (n === undefined) this.nextDue.delete(job.name);
    else this.nextDue.set(job.name, n);
  }

  private skipInstant(job: Job, at: number, why: string): void {
    const id = runId(job.name, at);
    if (this.store.state.runs[id]) return;
    const now = this.o.clock.now();
    this.store.putRun({ id, job: job.name, scheduledAt: at, trigger: 'schedule', state: 'skipped', attempt: 0, endedAt: now, message: why });
    this.metrics.runsSkipped++;
  }

  /** Creates the run of `job` at instant `at` (pending, or skipped by the concurrency policy). */
  private materialise(job: Job, at: number, trigger: RunTrigger, args?: string[]): RunRecord {
    const id = runId(job.name, at);
    const existing = this.store.state.runs[id];
    if (existing) return existing; // the same instant never makes a second run
    const now = this.o.clock.now();
    const active = this.activeRuns(job.name);
    const run: RunRecord = { id, job: job.name, scheduledAt: at, trigger, state: 'pending', attempt: 0, ...(args?.length ? { arguments: args } : {}) };
    if (active.length > 0 && job.concurrencyPolicy === 'forbid') {
      Object.assign(run, { state: 'skipped', endedAt: now, message: `concurrencyPolicy forbid: run ${active[0]!.id} is still ${active[0]!.state}` });
      this.store.putRun(run);
      this.metrics.runsSkipped++;
      return run;
    }
    if (active.length > 0 && job.concurrencyPolicy === 'replace') for (const r of active) this.killRun(r, 'replaced');
    this.store.putRun(run);
    this.active.add(id);
    this.pending.push(id);
    return run;
  }

  /** A pending scheduled run that could not start before the job's deadline is skipped. */
  private expirePending(now: number): void {
    if (this.pending.length === 0) return;
    this.pending = this.pending.filter((id) => {
      const r = this.store.state.runs[id];
      if (!r || r.state !== 'pending') return false;
      const job = this.store.state.jobs[r.job];
      if (!job) return false;
      if (r.trigger === 'schedule' && r.attempt === 0 && job.startingDeadlineSeconds !== undefined && now - r.scheduledAt > job.startingDeadlineSeconds * 1000) {
        this.finish(r, 'skipped', `not started within startingDeadlineSeconds (${job.startingDeadlineSeconds})`);
        return false;
      }
      return true;
    });
  }

  /** One timer for the earliest of: next instant − readyAhead (revive), next instant, next retry. */
  private arm(now: number): void {
    let at = Infinity;
    let soonest = Infinity;
    for (const t of this.nextDue.values()) soonest = Math.min(soonest, t);
    for (const r of this.activeRuns()) if (r.state === 'retry-wait' && r.retryAt !== undefined) at = Math.min(at, r.retryAt);
    at = Math.min(at, soonest);
    if (soonest - this.o.readyAheadMs > now) at = Math.min(at, soonest - this.o.readyAheadMs);
    else if (this.held.size === 0 && soonest !== Infinity) this.revive(now);
    if (this.wake && this.wake.at === at) return;
    this.wake?.cancel();
    this.wake = undefined;
    if (at === Infinity) return;
    const h = this.o.clock.setTimeout(() => { this.wake = undefined; this.tick(); }, Math.max(0, at - now));
    this.wake = { at, cancel: () => h.cancel() };
  }

  private revive(now: number): void {
    if (now - this.lastRevive < 200 || !this.driver.connected) return;
    this.lastRevive = now;
    this.driver.revive();
  }

  // ---------------------------------------------------------------- offers and launches

  private onOffers(offers: Offer[]): void {
    for (const o of offers) this.held.set(idOf(o.id), o);
    this.dispatch();
    this.releaseUnneeded();
  }

  /** Keeps offers only while an instant is near or runs wait; declines the rest for a while. */
  private releaseUnneeded(): void {
    if (this.held.size === 0 || this.pending.length > 0) return;
    const now = this.o.clock.now();
    let soonest = Infinity;
    for (const t of this.nextDue.values()) soonest = Math.min(soonest, t);
    if (soonest - now <= this.o.readyAheadMs) return;
    // The revive ahead of the next instant clears this filter, so it can be long.
    const refuseSeconds = Math.min(3600, Math.max(1, (soonest - now) / 1000));
    this.driver.decline([...this.held.keys()], { refuseSeconds });
    this.held.clear();
  }

  /**
   * Launches waiting runs on held offers. The records (state launching, task ID) are committed
   * before the tasks are handed to the master — the exactly-once line.
   */
  private dispatch(): void {
    if (this.pending.length === 0 || this.stopped) return;
    if (!this.driver.connected) return;
    const launches: { offerId: string; tasks: TaskInfo[] }[] = [];
    const now = this.o.clock.now();
    const waiting: string[] = [];
    const queue = this.pending;
    this.pending = [];
    for (const id of queue) {
      const r = this.store.state.runs[id];
      if (!r || r.state !== 'pending') continue;
      const job = this.store.state.jobs[r.job];
      if (!job) { this.finish(r, 'killed', 'job deleted'); continue; }
      let placed = false;
      for (const [offerId, offer] of this.held) {
        const attrs = attributesOf(offer);
        if (!constraintsMatch(job.constraints, offer.hostname ?? '', attrs)) continue;
        if (!offerFits(offer, { cpus: job.cpus, mem: job.mem, disk: job.disk })) continue;
        r.attempt++;
        const taskId = `${r.id}.${r.attempt}`;
        let task: TaskInfo;
        try {
          task = commandTask(offer, {
            name: `cron ${job.name}`,
            taskId,
            command: commandOf(job, r.arguments),
            cpus: job.cpus,
            mem: job.mem,
            disk: job.disk,
            env: { ...job.env, AGORA_CRON_JOB: job.name, AGORA_CRON_RUN: r.id, AGORA_CRON_SCHEDULED_AT: iso(r.scheduledAt) },
            uris: job.fetch.map((f) => ({ value: f.uri, executable: f.executable, extract: f.extract, cache: f.cache })),
            labels: { 'agora.cron.job': job.name, 'agora.cron.run': r.id },
          });
        } catch (e) {
          r.attempt--;
          this.o.logger.warn(`cron: ${(e as Error).message}`);
          continue;
        }
        // What is left of the offer stays held for the next run.
        const left = res.subtract(offer.resources ?? [], task.resources ?? []);
        this.held.set(offerId, { ...offer, resources: left });
        let l = launches.find((x) => x.offerId === offerId);
        if (!l) launches.push((l = { offerId, tasks: [] }));
        l.tasks.push(task);
        r.state = 'launching';
        r.taskId = taskId;
        r.agentId = idOf(offer.agentId);
        r.launchedAt ??= now;
        r.attemptStartedAt = now;
        this.store.putRun(r);
        placed = true;
        break;
      }
      if (!placed) waiting.push(id);
    }
    this.pending = [...waiting, ...this.pending];
    // Offers we launched on are spent; their remainder comes back in a fresh offer.
    for (const l of launches) this.held.delete(l.offerId);
    if (this.pending.length > 0 && this.held.size === 0) this.revive(now);
    if (launches.length === 0) return;
    void this.store.flush().then(() => {
      for (const l of launches) {
        this.driver.launch(l.offerId, l.tasks, { refuseSeconds: 0 });
        this.metrics.tasksLaunched += l.tasks.length;
      }
    }, (e: unknown) => {
      // Not on disk: launching now could run an instant twice after a crash. Back to pending.
      this.o.logger.error(`cron: cannot persist runs before launch: ${(e as Error).message}`);
      for (const l of launches) for (const t of l.tasks) {
        const r = this.store.state.runs[runOfTask(idOf(t.taskId))];
        if (r && r.state === 'launching') { r.state = 'pending'; r.attempt--; this.pending.push(r.id); }
      }
      this.driver.decline(launches.map((l) => l.offerId), { refuseSeconds: 1 });
    });
  }

  // ---------------------------------------------------------------- task updates

  private async onSubscribed(id: string): Promise<void> {
    this.held.clear();
    if (this.store.state.frameworkId !== id) {
      this.store.setFrameworkId(id);
      await this.store.flush();
    }
    const tasks = this.activeRuns().filter((r) => (r.state === 'launching' || r.state === 'running') && r.taskId)
      .map((r) => ({ taskId: r.taskId!, ...(r.agentId ? { agentId: r.agentId } : {}) }));
    if (tasks.length) this.driver.reconcile(tasks);
    this.lastRevive = -Infinity;
    this.tick();
  }

  private async onStatus(s: TaskStatus): Promise<void> {
    const taskId = idOf(s.taskId);
    const r = this.store.state.runs[runOfTask(taskId)];
    if (!r || r.taskId !== taskId) {
      // An earlier attempt, or a run we no longer keep: make sure it does not linger.
      if (!isTerminalState(s.state) && r && TERMINAL.has(r.state)) this.driver.kill(taskId, idOf(s.agentId) || undefined);
      return;
    }
    const now = this.o.clock.now();
    const job = this.store.state.jobs[r.job];
    if (s.state === TaskState.TASK_RUNNING) {
      if (r.state === 'launching') {
        r.state = 'running';
        if (r.startedAt === undefined) {
          r.startedAt = now;
          if (r.trigger === 'schedule' && r.attempt === 1) {
            r.jitterMs = now - r.scheduledAt;
            this.metrics.observeJitter(r.jitterMs);
          }
        }
        r.attemptStartedAt = now;
        if (idOf(s.agentId)) r.agentId = idOf(s.agentId);
        this.store.putRun(r);
        if (job && job.timeoutSeconds > 0) {
          this.timeouts.get(r.id)?.cancel();
          this.timeouts.set(r.id, this.o.clock.setTimeout(() => {
            this.timeouts.delete(r.id);
            if (r.state === 'running' && r.taskId === taskId) this.killRun(r, 'timeout');
          }, job.timeoutSeconds * 1000));
        }
      }
      return;
    }
    if (!isTerminalState(s.state) || TERMINAL.has(r.state) || r.state === 'pending' || r.state === 'retry-wait') return;
    this.timeouts.get(r.id)?.cancel();
    this.timeouts.delete(r.id);
    if (s.exitCode !== undefined && s.exitCode !== null) r.exitCode = s.exitCode;
    if (s.state === TaskState.TASK_FINISHED) {
      r.startedAt ??= r.attemptStartedAt ?? now;
      this.finish(r, 'succeeded', s.message || undefined);
      return;
    }
    const neverRan = r.state === 'launching' && (s.state === TaskState.TASK_DROPPED
      || ((s.state === TaskState.TASK_LOST || s.state === TaskState.TASK_UNKNOWN) && s.reason === TaskStatusReason.REASON_RECONCILIATION && /unknown/i.test(s.message ?? '')));
    if (neverRan && !r.killReason) {
      const n = (this.launchFailures.get(r.id) ?? 0) + 1;
      this.launchFailures.set(r.id, n);
      if (n < MAX_LAUNCH_FAILURES) {
        // The task never existed (dropped offer, or lost before the master saw it): launch again.
        r.state = 'pending';
        r.attempt--;
        r.message = `relaunching: ${taskStateName(s.state)} ${s.message ?? ''}`.trim();
        this.store.putRun(r);
        this.pending.push(r.id);
        this.dispatch();
        return;
      }
    }
    this.launchFailures.delete(r.id);
    if (r.killReason === 'user' || r.killReason === 'replaced') {
      this.finish(r, 'killed', r.killReason === 'user' ? 'killed by user' : 'replaced by a newer run (concurrencyPolicy replace)');
      return;
    }
    const why = r.killReason === 'timeout' ? `timed out after ${job?.timeoutSeconds} s` : `${taskStateName(s.state)}${s.message ? `: ${s.message}` : ''}`;
    if (FAILED_STATES.has(s.state ?? 0) && job && r.attempt <= job.retries) {
      r.state = 'retry-wait';
      r.killReason = undefined;
      r.retryAt = now + job.retryDelaySeconds * 1000;
      r.message = `attempt ${r.attempt} failed (${why}); retrying`;
      this.store.putRun(r);
      this.metrics.retries++;
      this.arm(now);
      return;
    }
    this.finish(r, 'failed', why);
  }

  private killRun(r: RunRecord, reason: 'user' | 'replaced' | 'timeout'): void {
    if (r.state === 'pending' || r.state === 'retry-wait') {
      this.pending = this.pending.filter((id) => id !== r.id);
      this.finish(r, 'killed', reason === 'user' ? 'killed by user before it started' : 'replaced by a newer run before it started');
      return;
    }
    if (r.state !== 'launching' && r.state !== 'running') return;
    r.killReason = reason;
    this.store.putRun(r);
    if (r.taskId) this.driver.kill(r.taskId, r.agentId);
  }

  /** A run ended: record it, count it, and let its children know. */
  private finish(r: RunRecord, state: 'succeeded' | 'failed' | 'killed' | 'skipped', message?: string): void {
    const now = this.o.clock.now();
    r.state = state;
    r.endedAt = now;
    r.retryAt = undefined;
    if (message !== undefined) r.message = message;
    this.store.putRun(r);
    this.active.delete(r.id);
    this.launchFailures.delete(r.id);
    if (state === 'succeeded') this.metrics.runsSucceeded++;
    else if (state === 'failed') this.metrics.runsFailed++;
    else if (state === 'killed') this.metrics.runsKilled++;
    else this.metrics.runsSkipped++;
    const job = this.store.state.jobs[r.job];
    if (job && (state === 'succeeded' || (state === 'failed' && job.softError))) this.parentDone(job, r);
  }

  /**
   * A parent's run counted: each child notes it (persisted — dependency state survives a
   * failover, unlike chronos#811) and runs once every parent has a run since its last one.
   * The child's instant is the latest of those parents' instants, so its run ID is as
   * deterministic as a scheduled one.
   */
  private parentDone(parent: Job, r: RunRecord): void {
    for (const child of Object.values(this.store.state.jobs)) {
      if (!child.parents.includes(parent.name)) continue;
      const deps = { ...(this.store.state.deps[child.name] ?? {}), [parent.name]: r.scheduledAt };
      if (child.parents.every((p) => deps[p] !== undefined)) {
        const at = Math.max(...child.parents.map((p) => deps[p]!));
        this.store.setDeps(child.name, {});
        if (child.disabled) this.skipInstant(child, at, 'job disabled');
        else this.materialise(child, at, 'parents');
      } else {
        this.store.setDeps(child.name, deps);
      }
    }
    this.dispatch();
  }

  /** Every 5 s: reconcile launches the master never answered (a lost LAUNCH). */
  private housekeep(): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    const stale = this.activeRuns().filter((r) => r.state === 'launching' && r.taskId && now - (r.attemptStartedAt ?? now) > LAUNCH_CHECK_MS);
    if (stale.length && this.driver.connected) this.driver.reconcile(stale.map((r) => ({ taskId: r.taskId!, ...(r.agentId ? { agentId: r.agentId } : {}) })));
    this.housekeeping = this.o.clock.setTimeout(() => this.housekeep(), 5000);
  }
}

/** `job@2025-01-01T00:00:02.000Z`: the run of a job at an instant. */
export function runId(job: string, at: number): string {
  return `${job}@${iso(at)}`;
}

/** The run a task belongs to (task IDs are `<run id>.<attempt>`). */
export function runOfTask(taskId: string): string {
  const i = taskId.lastIndexOf('.');
  return i < 0 ? taskId : taskId.slice(0, i);
}

function attributesOf(offer: Offer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of offer.attributes ?? []) {
    if (!a.name) continue;
    if (a.text?.value !== undefined && a.text.value !== null) out[a.name] = a.text.value;
    else if (a.scalar?.value !== undefined && a.scalar.value !== null) out[a.name] = String(a.scalar.value);
  }
  return out;
}

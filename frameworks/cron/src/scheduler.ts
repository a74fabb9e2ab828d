/**
 * The cron scheduler: turns scheduled instants into runs, runs into tasks, task updates into
 * run outcomes, retries, and children's runs. The design is told in full in the README
 * ("Exactly once", "On time"); in short:
 *
 * Exactly once per instant. An instant is materialised by advancing the job's persisted cursor
 * and storing the run (`job@<instant ISO>`) in one group commit; a task is launched only after
 * the record naming its task ID is on disk. After a crash the cursor says which instants are
 * done and reconciliation says what became of the recorded tasks. A task is relaunched only
 * when it surely never ran (unknown to the master, dropped, or its executor died before the
 * instant).
 *
 * On time. A run due at T is launched `launchAheadMs` before T onto the cron executor of an
 * agent where it is known to be up (executor.ts, one per agent, reused), which starts the
 * command at T, never before, and reports TASK_RUNNING at the real start. Runs whose launch
 * falls in one `launchBatchMs` window go in one fsync and one ACCEPT per offer. Without a ready
 * executor a run goes at T as a command task. forbid / replace are decided at T.
 *
 * Time comes from the Clock passed in (CONVENTIONS §3).
 */
import {
  SchedulerDriver,
  TaskState,
  TaskStatusReason,
  idOf,
  isTerminalState,
  offerFits,
  resources as res,
  taskStateName,
  type Clock,
  type Offer,
  type TaskInfo,
  type TaskStatus,
} from '@agora/sdk';
import { compileJob, constraintsMatch, jobSchedule, validateGraph, validateJobSpec, type FieldError, type Job, type JobSpec } from './job.js';
import { dueTimes, nextTimes, type Schedule } from './schedule.js';
import { CronStore, TERMINAL, type RunRecord, type RunTrigger } from './store.js';
import { graphDot, statsView, type JobStatsView } from './stats.js';
import { CronMetrics } from './metrics.js';
import { compileOptions, type Compiled, type CronSchedulerOptions } from './scheduler-options.js';
import { ExecutorWarmth, WARMUP_PREFIX } from './executor-warmth.js';
import { decodeStarted } from './run-spec.js';
import { EXECUTOR_ID, attributesOf, realStart, runId, runOfTask, runTask, taskIdOf, viaExecutor } from './launch.js';

export { runId, runOfTask } from './launch.js';

export type { CronSchedulerOptions } from './scheduler-options.js';

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
/** Instants of one job launched ahead in one tick (a job firing faster than this per lead is capped). */
const MAX_AHEAD_PER_TICK = 50;
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
  private readonly warmth = new ExecutorWarmth();
  private readonly timeouts = new Map<string, { cancel(): void }>();
  private launchFailures = new Map<string, number>();
  /** IDs of runs not finished (the store also keeps history: never scan all of it per tick). */
  private readonly active = new Set<string>();
  private wake: { at: number; cancel(): void } | undefined;
  /** A tick asked for as soon as possible (a run ended that held back a launch). */
  private soon: { cancel(): void } | undefined;
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
        failure: (_d, agentId, executorId) => { if (!executorId || executorId === EXECUTOR_ID) this.warmth.forget(agentId); },
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
    this.soon?.cancel();
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
    if (previous && (job.disabled || previous.schedule !== job.schedule || previous.timezone !== job.timezone)) {
      // Runs launched ahead for instants the job no longer has must not start.
      for (const r of this.activeRuns(job.name)) {
        if (r.trigger === 'schedule' && r.startedAt === undefined && r.scheduledAt > now && (r.state === 'pending' || r.state === 'launching')) this.killRun(r, 'unscheduled');
      }
    }
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

  /**
   * Next `n` fire times of a scheduled job: instants not yet come, those already launched ahead
   * included (they have not started). An instant fired at exactly now is not next any more.
   */
  next(name: string, n: number): number[] {
    const job = this.requireJob(name);
    const s = this.schedules.get(name) ?? jobSchedule(job);
    if (!s) return [];
    const now = this.o.clock.now();
    return nextTimes(s, this.cursorOf(job) >= now ? now : now - 1, n);
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
      const job = this.store.state.jobs[name];
      if (!job) continue;
      if (at > now && at - this.leadOf(job) > now) continue;
      this.fire(job, now);
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

  /** Turns due instants into runs: those past (firePast), then those due within the launch lead. */
  private fire(job: Job, now: number): void {
    const s = this.schedules.get(job.name);
    if (!s) return;
    if ((this.nextDue.get(job.name) ?? Infinity) <= now) this.firePast(job, s, now);
    // Launch ahead: the instants due within the lead (and the batch window after it).
    let next = this.nextDue.get(job.name);
    const lead = this.leadOf(job);
    if (lead > 0) {
      const horizon = now + lead + this.o.launchBatchMs;
      for (let n = 0; next !== undefined && next <= horizon && n < MAX_AHEAD_PER_TICK; n++) {
        // forbid / replace decide at the instant: ahead only while nothing of the job is active.
        if (job.concurrencyPolicy !== 'allow' && this.activeRuns(job.name).length > 0) break;
        this.store.setCursor(job.name, next);
        this.materialise(job, next, 'schedule');
        next = s.next(next);
      }
      if (next === undefined) this.nextDue.delete(job.name);
      else this.nextDue.set(job.name, next);
    }
  }

  /** How long before its instant a run of `job` is launched. */
  private leadOf(job: Job): number {
    return viaExecutor(job, this.o.executorCommand) && this.warmth.anyWarm ? this.o.launchAheadMs : 0;
  }

  /** Agents with a cron executor known to be up (runs are launched ahead onto those only). */
  get readyExecutors(): number { return this.warmth.size; }

  /**
   * The instants in (cursor, now], per the missed-run policy: normally one, fired on time.
   * After an outage: `skip` runs none that are late, `run-once` runs only the latest,
   * `catch-up` runs the latest `maxCatchUp` oldest first; the others are recorded as skipped
   * (the latest few) or counted.
   */
  private firePast(job: Job, s: Schedule, now: number): void {
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
      this.metrics.missed(missed);
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
      this.metrics.finished('skipped', unrecorded);
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
    this.metrics.finished('skipped');
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
      this.metrics.finished('skipped');
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

  /**
   * When the next run of each job is launched: its instant minus the lead, or the instant itself
   * when that point has passed without a launch (a forbid/replace job with an active run).
   */
  private soonestLaunch(now: number): number {
    let soonest = Infinity;
    for (const [name, t] of this.nextDue) {
      const job = this.store.state.jobs[name];
      const ahead = job ? t - this.leadOf(job) : t;
      soonest = Math.min(soonest, ahead > now ? ahead : t);
    }
    return soonest;
  }

  /** One timer for the earliest of: next launch − readyAhead (revive), next launch, next retry. */
  private arm(now: number): void {
    let at = Infinity;
    const soonest = this.soonestLaunch(now);
    for (const r of this.activeRuns()) if (r.state === 'retry-wait' && r.retryAt !== undefined) at = Math.min(at, r.retryAt);
    // A run that found no warm executor waits for its instant, then goes as a command task.
    for (const id of this.pending) {
      const r = this.store.state.runs[id];
      if (r && r.attempt === 0 && r.scheduledAt > now) at = Math.min(at, r.scheduledAt);
    }
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
    this.warmUp();
    this.releaseUnneeded();
  }

  /** Starts the cron executor on every offering agent that has none: runs find it ready. */
  private warmUp(): void {
    const cmd = this.o.executorCommand;
    if (cmd === undefined || this.held.size === 0 || !this.driver.connected) return;
    this.warmth.warmUp(this.held, { command: cmd, resources: this.o.executorResources }, this.o.clock.now(), (offerId, task) => this.driver.launch(offerId, [task], { refuseSeconds: 0 }));
  }

  /** Keeps offers only while an instant is near or runs wait; declines the rest for a while. */
  private releaseUnneeded(): void {
    if (this.held.size === 0 || this.pending.length > 0) return;
    const now = this.o.clock.now();
    const soonest = this.soonestLaunch(now);
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
      // The first attempt waits for its instant in the executor; retries start at once.
      const startAt = r.attempt === 0 ? r.scheduledAt : 0;
      const viaExec = viaExecutor(job, this.o.executorCommand);
      if (viaExec && startAt > now && !this.warmth.anyWarm) { waiting.push(id); continue; }
      for (const [offerId, offer] of this.held) {
        let executorCommand = viaExec ? this.o.executorCommand : undefined;
        if (executorCommand !== undefined && !this.warmth.isWarm(idOf(offer.agentId))) {
          // No executor known to be up on this agent (its start takes seconds on a busy host):
          // look for a warm agent; at the instant, a plain command task started by the agent.
          if (startAt > now) continue;
          executorCommand = undefined;
        }
        if (job.constraints.length > 0 && !constraintsMatch(job.constraints, offer.hostname ?? '', attributesOf(offer))) continue;
        if (!offerFits(offer, { cpus: job.cpus, mem: job.mem, disk: job.disk })) continue;
        r.attempt++;
        const taskId = taskIdOf(r.id, r.attempt, r.relaunches ?? 0);
        let task: TaskInfo;
        try {
          task = runTask(offer, job, r, { taskId, from: offer.resources ?? [], executorCommand, executorResources: this.o.executorResources, startAt });
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
        this.metrics.launched(l.tasks.length);
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
    this.warmth.observe(s);
    const taskId = idOf(s.taskId);
    if (taskId.startsWith(WARMUP_PREFIX)) return;
    const r = this.store.state.runs[runOfTask(taskId)];
    if (!r || r.taskId !== taskId) {
      // An earlier attempt, or a run we no longer keep: make sure it does not linger.
      if (!isTerminalState(s.state) && r && TERMINAL.has(r.state)) this.driver.kill(taskId, idOf(s.agentId) || undefined);
      return;
    }
    const now = this.o.clock.now();
    const job = this.store.state.jobs[r.job];
    if (TERMINAL.has(r.state)) {
      // Back from away, reconciliation may have told us the outcome before the executor's own
      // updates (which say when the command started) arrive: take the real start from them.
      const started = decodeStarted(s.data);
      if (started !== undefined && r.jitterMs === undefined && r.trigger === 'schedule' && r.attempt === 1) {
        r.startedAt = realStart(r, s, now);
        r.jitterMs = r.startedAt - r.scheduledAt;
        this.metrics.observeJitter(r.jitterMs);
        this.store.putRun(r);
      }
      return;
    }
    if (s.state === TaskState.TASK_RUNNING) {
      if (r.state === 'launching') {
        r.state = 'running';
        const startedAt = realStart(r, s, now);
        this.markStarted(r, startedAt);
        if (idOf(s.agentId)) r.agentId = idOf(s.agentId);
        this.store.putRun(r);
        if (job && job.timeoutSeconds > 0) {
          this.timeouts.get(r.id)?.cancel();
          this.timeouts.set(r.id, this.o.clock.setTimeout(() => {
            this.timeouts.delete(r.id);
            if (r.state === 'running' && r.taskId === taskId) this.killRun(r, 'timeout');
          }, Math.max(0, job.timeoutSeconds * 1000 - (now - startedAt))));
        }
      }
      return;
    }
    if (!isTerminalState(s.state) || TERMINAL.has(r.state) || r.state === 'pending' || r.state === 'retry-wait') return;
    this.timeouts.get(r.id)?.cancel();
    this.timeouts.delete(r.id);
    if (s.exitCode !== undefined && s.exitCode !== null) r.exitCode = s.exitCode;
    // A run we never saw running (we were away): its terminal update says when it started.
    if (r.state === 'launching' && decodeStarted(s.data) !== undefined) this.markStarted(r, realStart(r, s, now));
    if (s.state === TaskState.TASK_FINISHED) {
      // Start unknown (reconciliation says only that it ended): not before its launch, nor,
      // launched ahead, before its instant.
      r.startedAt ??= Math.min(now, Math.max(r.attemptStartedAt ?? now, r.attempt === 1 ? r.scheduledAt : 0));
      this.finish(r, 'succeeded', s.message || undefined);
      return;
    }
    const neverRan = r.state === 'launching' && (s.state === TaskState.TASK_DROPPED
      || ((s.state === TaskState.TASK_LOST || s.state === TaskState.TASK_UNKNOWN) && s.reason === TaskStatusReason.REASON_RECONCILIATION && /unknown/i.test(s.message ?? ''))
      // The cron executor never came up, or died while the run waited for its instant (it
      // starts commands only at the instant, so before it nothing ran).
      || s.reason === TaskStatusReason.REASON_EXECUTOR_REGISTRATION_TIMEOUT
      || s.reason === TaskStatusReason.REASON_CONTAINER_LAUNCH_FAILED
      || (s.reason === TaskStatusReason.REASON_EXECUTOR_TERMINATED && r.attempt === 1 && now < r.scheduledAt));
    if (neverRan && !r.killReason) {
      const n = (this.launchFailures.get(r.id) ?? 0) + 1;
      this.launchFailures.set(r.id, n);
      if (n < MAX_LAUNCH_FAILURES) {
        // The task never existed (dropped offer, or lost before the master saw it): launch again.
        r.state = 'pending';
        r.attempt--;
        r.relaunches = (r.relaunches ?? 0) + 1;
        r.message = `relaunching: ${taskStateName(s.state)} ${s.message ?? ''}`.trim();
        this.store.putRun(r);
        this.pending.push(r.id);
        this.dispatch();
        return;
      }
    }
    this.launchFailures.delete(r.id);
    if (r.killReason === 'unscheduled') {
      this.finish(r, r.startedAt === undefined ? 'skipped' : 'killed', 'job disabled or rescheduled before the instant');
      return;
    }
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
      this.metrics.retried();
      this.arm(now);
      return;
    }
    this.finish(r, 'failed', why);
  }

  /** The attempt started at `startedAt`: the run's start and, for an on-time first attempt, its jitter. */
  private markStarted(r: RunRecord, startedAt: number): void {
    if (r.startedAt === undefined) {
      r.startedAt = startedAt;
      this.metrics.started();
      if (r.trigger === 'schedule' && r.attempt === 1) {
        r.jitterMs = startedAt - r.scheduledAt;
        this.metrics.observeJitter(r.jitterMs);
      }
    }
    r.attemptStartedAt = startedAt;
  }

  private killRun(r: RunRecord, reason: NonNullable<RunRecord['killReason']>): void {
    if (r.state === 'pending' || r.state === 'retry-wait') {
      this.pending = this.pending.filter((id) => id !== r.id);
      if (reason === 'unscheduled') this.finish(r, 'skipped', 'job disabled or rescheduled before the instant');
      else this.finish(r, 'killed', reason === 'user' ? 'killed by user before it started' : 'replaced by a newer run before it started');
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
    this.metrics.finished(state);
    const job = this.store.state.jobs[r.job];
    if (job && (state === 'succeeded' || (state === 'failed' && job.softError))) this.parentDone(job, r);
    // A forbid/replace job waits for its active run to end before it launches ahead again.
    if (job && job.concurrencyPolicy !== 'allow' && !this.soon) {
      const next = this.nextDue.get(job.name);
      if (next !== undefined && next - this.leadOf(job) <= now) {
        this.soon = this.o.clock.setTimeout(() => { this.soon = undefined; this.tick(); }, 0);
      }
    }
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

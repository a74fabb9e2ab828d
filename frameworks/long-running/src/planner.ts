/**
 * The deployment planner: pure, from (app, its instances) to what to do now — how many
 * instances to launch, which to kill, what we are waiting for, whether the target is reached.
 *
 * One function covers keeping the count, scaling, restarting and rolling upgrades: an instance
 * whose config version differs from the app's is "old". Old instances are killed only while
 * enough healthy instances remain (`minimumHealthCapacity`), new ones are launched only while
 * the total stays under `instances × (1 + maximumOverCapacity)`. A scale-only change keeps the
 * config version, so it never restarts anything.
 *
 * The health circuit breaker (marathon#3317) lives here too: instances whose health checks
 * failed are killed at most `budget` at a time — the number the upgrade strategy allows to be
 * down — counting those already being killed and the replacements not yet healthy. A
 * health-check outage across the whole app therefore costs at most `budget` instances per
 * wave, never the app.
 */
import { capacityBounds, type AppSpec } from './app.js';

export type InstanceState = 'staging' | 'starting' | 'running' | 'killing' | 'unreachable';

/** What the planner needs to know about one non-terminal instance. */
export interface PlanInstance {
  taskId: string;
  configVersion: string;
  state: InstanceState;
  /** ms since the epoch (kill selection). */
  launchedAt: number;
  /** true / false from health checks; undefined = no result yet (or no checks). */
  healthy?: boolean;
  /** Readiness checks passed (undefined when the app has none). */
  ready?: boolean;
  /** Health checks failed maxConsecutiveFailures times (after the grace period). */
  failing?: boolean;
  /** Was healthy at least once. */
  everHealthy?: boolean;
  /** A kill was sent; reason. */
  killReason?: string;
  /** Unreachable for longer than the app's inactiveAfterSeconds: replaced. */
  inactive?: boolean;
}

export interface PlanKill {
  taskId: string;
  reason: string;
}

export interface Plan {
  launch: number;
  kill: PlanKill[];
  /** The app's target is reached: right count, right version, all healthy, nothing old left. */
  done: boolean;
  /** In words, what the app waits for (empty when done). */
  waitingFor: string;
  /** The health circuit breaker held back kills. */
  breakerOpen: boolean;
  counts: { new: number; old: number; healthy: number; killing: number };
}

export interface PlanApp {
  spec: Pick<AppSpec, 'instances' | 'upgradeStrategy' | 'killSelection' | 'healthChecks' | 'readinessChecks'>;
  configVersion: string;
}

/** Healthy in the sense of the upgrade strategy: running, passing its checks, not being killed. */
export function isHealthy(app: PlanApp['spec'], i: PlanInstance): boolean {
  if (i.state !== 'running' || i.killReason || i.inactive) return false;
  if (app.healthChecks.length > 0 && i.healthy !== true) return false;
  if (app.readinessChecks.length > 0 && i.ready !== true) return false;
  return true;
}

function byKillPreference(app: PlanApp['spec']): (a: PlanInstance, b: PlanInstance) => number {
  const rank = (i: PlanInstance): number => (i.state === 'unreachable' ? 0 : i.state !== 'running' ? 1 : isHealthy(app, i) ? 3 : 2);
  return (a, b) => rank(a) - rank(b) || (app.killSelection === 'OLDEST_FIRST' ? a.launchedAt - b.launchedAt : b.launchedAt - a.launchedAt);
}

/** What to do for `app` now, given its non-terminal instances. */
export function plan(app: PlanApp, instances: readonly PlanInstance[]): Plan {
  const spec = app.spec;
  const n = spec.instances;
  const { minHealthy, maxTotal } = capacityBounds(spec);
  const kill: PlanKill[] = [];
  const killing = instances.filter((i) => i.killReason || i.state === 'killing');
  const active = instances.filter((i) => !i.killReason && i.state !== 'killing' && !i.inactive);
  const killed = new Set<string>();
  const doKill = (i: PlanInstance, reason: string): void => { kill.push({ taskId: i.taskId, reason }); killed.add(i.taskId); };
  const prefer = byKillPreference(spec);

  let fresh = active.filter((i) => i.configVersion === app.configVersion);
  let old = active.filter((i) => i.configVersion !== app.configVersion);

  // 1. Health circuit breaker: kill failing instances, at most `budget` down at once.
  const budget = Math.max(1, n - minHealthy);
  const healthKillsInFlight = killing.filter((i) => i.killReason?.startsWith('health')).length
    + active.filter((i) => !i.everHealthy && !i.failing && i.configVersion === app.configVersion).length;
  const failing = active.filter((i) => i.failing).sort(prefer);
  let room = budget - healthKillsInFlight;
  let breakerOpen = false;
  for (const i of failing) {
    if (room <= 0) { breakerOpen = true; break; }
    doKill(i, 'health checks failed');
    room--;
  }
  fresh = fresh.filter((i) => !killed.has(i.taskId));
  old = old.filter((i) => !killed.has(i.taskId));

  // 2. Too many of the current version (scale down): kill the surplus by kill selection.
  if (fresh.length > n) {
    const surplus = [...fresh].sort(prefer).slice(0, fresh.length - n);
    for (const i of surplus) doKill(i, 'scaling down');
    fresh = fresh.filter((i) => !killed.has(i.taskId));
  }

  // 3. Old instances: kill those not healthy at once; healthy ones while capacity allows.
  let healthy = [...fresh, ...old].filter((i) => isHealthy(spec, i)).length;
  for (const i of [...old].sort(prefer)) {
    if (!isHealthy(spec, i)) { doKill(i, 'replaced by a new version'); continue; }
    if (healthy - 1 >= minHealthy) {
      doKill(i, 'replaced by a new version');
      healthy--;
    }
  }
  old = old.filter((i) => !killed.has(i.taskId));

  // 4. Launch new-version instances within the over-capacity bound.
  const total = fresh.length + old.length;
  const launch = Math.max(0, Math.min(n - fresh.length, maxTotal - total));

  const freshHealthy = fresh.filter((i) => isHealthy(spec, i)).length;
  const oldLeft = old.length + killing.filter((i) => i.configVersion !== app.configVersion).length;
  const done = fresh.length === n && freshHealthy === n && oldLeft === 0 && launch === 0 && kill.length === 0
    && killing.filter((i) => !i.killReason?.startsWith('health')).length === 0;
  const waits: string[] = [];
  if (!done) {
    const checks = spec.healthChecks.length > 0 ? 'healthy' : 'running';
    if (freshHealthy < n) waits.push(`${freshHealthy} of ${n} instances of the current version ${checks}`);
    if (oldLeft > 0) waits.push(`${oldLeft} old instance(s) to stop (keeping ≥ ${minHealthy} healthy, ≤ ${maxTotal} in all)`);
    if (fresh.length > n) waits.push(`${fresh.length - n} surplus instance(s) to stop`);
    const stopping = killing.length;
    if (stopping > 0 && oldLeft === 0) waits.push(`${stopping} instance(s) stopping`);
    if (breakerOpen) waits.push(`health circuit breaker: ${failing.length} failing, killing at most ${budget} at a time`);
  }
  return { launch, kill, done, waitingFor: waits.join('; '), breakerOpen, counts: { new: fresh.length, old: old.length, healthy, killing: killing.length + kill.length } };
}

/** Launch delay after `failures` consecutive failures (Marathon's backoff), seconds. */
export function launchDelaySeconds(spec: Pick<AppSpec, 'backoffSeconds' | 'backoffFactor' | 'maxLaunchDelaySeconds'>, failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(spec.maxLaunchDelaySeconds, spec.backoffSeconds * spec.backoffFactor ** (failures - 1));
}

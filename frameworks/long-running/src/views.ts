/**
 * The read side of the service as the REST API shows it (Marathon's JSON shapes): app, task and
 * deployment views, "why isn't my app running", the launch queue and the Prometheus metrics.
 *
 * These are pure reads of the service's state, which they reach through `ViewSource` so that the
 * service can keep its runtime map and helpers private; `LongRunningService` keeps the public
 * methods (appView, why, …) and delegates here.
 */
import { absoluteId } from './app.js';
import { ApiError, type AppRecord, type Deployment, type Instance } from './model.js';
import { iso, now, type AppRuntime } from './service-options.js';

/** What the views read of the service. */
export interface ViewSource {
  readonly apps: ReadonlyMap<string, AppRecord>;
  readonly deployments: ReadonlyMap<string, Deployment>;
  readonly instances: ReadonlyMap<string, Instance>;
  readonly runtime: ReadonlyMap<string, AppRuntime>;
  /** The app's runtime record (created if missing). */
  rt(appId: string): AppRuntime;
  instancesOf(appId: string): Instance[];
  /** The deployment in progress for the app, if any. */
  lockedBy(appId: string): Deployment | undefined;
}

export function appCounts(s: ViewSource, appId: string): { tasksStaged: number; tasksRunning: number; tasksHealthy: number; tasksUnhealthy: number } {
  const spec = s.apps.get(appId)?.spec;
  let tasksStaged = 0, tasksRunning = 0, tasksHealthy = 0, tasksUnhealthy = 0;
  for (const i of s.instancesOf(appId)) {
    if (i.state === 'staging' || i.state === 'starting') tasksStaged++;
    if (i.state === 'running') {
      tasksRunning++;
      if (spec?.healthChecks.length) { if (i.healthy === true) tasksHealthy++; else if (i.healthy === false) tasksUnhealthy++; }
    }
  }
  return { tasksStaged, tasksRunning, tasksHealthy, tasksUnhealthy };
}

export function appView(s: ViewSource, rec: AppRecord, embed: { tasks?: boolean } = {}): Record<string, unknown> {
  const r = s.runtime.get(rec.spec.id);
  return {
    ...rec.spec,
    version: rec.version,
    versionInfo: { lastScalingAt: rec.version, lastConfigChangeAt: rec.configVersion },
    ...appCounts(s, rec.spec.id),
    deployments: [...s.deployments.values()].filter((d) => d.appId === rec.spec.id).map((d) => ({ id: d.id })),
    ...(r?.lastFailure ? { lastTaskFailure: r.lastFailure } : {}),
    ...(embed.tasks ? { tasks: s.instancesOf(rec.spec.id).map((i) => taskView(s, i)) } : {}),
  };
}

export function taskView(s: ViewSource, i: Instance): Record<string, unknown> {
  const spec = s.apps.get(i.appId)?.spec;
  return {
    id: i.taskId,
    appId: i.appId,
    host: i.hostname,
    agentId: i.agentId,
    slaveId: i.agentId,
    ports: i.ports,
    state: `TASK_${i.state.toUpperCase()}`,
    stagedAt: iso(i.launchedAt),
    ...(i.startedAt ? { startedAt: iso(i.startedAt) } : {}),
    version: i.version,
    ...(i.killReason ? { killReason: i.killReason } : {}),
    ...(spec?.healthChecks.length ? { healthCheckResults: [{ alive: i.healthy === true, detail: i.healthDetail ?? 'no result yet', failing: !!i.failing }] } : {}),
    ...(i.ready !== undefined ? { ready: i.ready } : {}),
  };
}

export function deploymentView(d: Deployment): Record<string, unknown> {
  const action = { create: 'StartApplication', scale: 'ScaleApplication', restart: 'RestartApplication', update: 'RestartApplication', rollback: d.to ? 'RestartApplication' : 'StopApplication', delete: 'StopApplication' }[d.kind];
  const stalledFor = now() - d.progressAt;
  return {
    id: d.id,
    version: d.version,
    kind: d.kind,
    status: d.status,
    affectedApps: [d.appId],
    createdAt: d.createdAt,
    steps: [{ actions: [{ action, app: d.appId }] }],
    currentStep: 1,
    totalSteps: 1,
    currentActions: [{ action, app: d.appId, readinessCheckResults: [] }],
    waitingFor: d.waitingFor,
    stepTimeoutSeconds: d.stepTimeoutSeconds,
    secondsSinceProgress: Math.round(stalledFor / 100) / 10,
  };
}

/** "Why isn't my app running": the queue entry of one app. */
export function why(s: ViewSource, appId: string): Record<string, unknown> {
  const id = absoluteId(appId);
  const rec = s.apps.get(id);
  if (!rec) throw new ApiError(404, `app ${id} does not exist`);
  const r = s.rt(id);
  const t = now();
  const counts = appCounts(s, id);
  const p = r.plan;
  const waiting = p ? p.launch : 0;
  const dep = s.lockedBy(id);
  const reasons: string[] = [];
  if (r.blockedBy) reasons.push(r.blockedBy);
  if (r.delayUntil > t && waiting > 0) reasons.push(`launches delayed ${((r.delayUntil - t) / 1000).toFixed(1)} s by backoff after ${r.failures} failure(s)${r.lastFailure ? ` (last: ${r.lastFailure.state} ${r.lastFailure.message})` : ''}`);
  const declined = r.offers.filter((o) => o.outcome !== 'launched');
  if (waiting > 0 && declined.length) {
    const byReason = new Map<string, number>();
    for (const o of declined) byReason.set(o.reason, (byReason.get(o.reason) ?? 0) + 1);
    for (const [reason, n] of [...byReason].sort((a, b) => b[1] - a[1])) reasons.push(`${n} of the last ${r.offers.length} offers declined: ${reason}`);
  }
  if (waiting > 0 && r.offers.length === 0 && !r.blockedBy) reasons.push('no offer considered yet (no agent has free resources for this framework, or offers are on their way)');
  return {
    app: { id, instances: rec.spec.instances, version: rec.version },
    ...counts,
    waiting,
    running: waiting === 0 && !dep,
    summary: reasons.length ? reasons : waiting > 0 ? ['launching'] : ['nothing is waiting'],
    waitingFor: dep?.waitingFor ?? p?.waitingFor ?? '',
    delay: { timeLeftSeconds: Math.max(0, (r.delayUntil - t) / 1000), overdue: r.delayUntil <= t },
    processedOffersSummary: { processedOffersCount: Object.values(r.summary).reduce((a, b) => a + b, 0), byOutcome: r.summary },
    lastUnusedOffers: declined,
    lastOffers: r.offers,
    ...(r.lastFailure ? { lastTaskFailure: r.lastFailure } : {}),
  };
}

/** Apps waiting for launches, each with its "why". */
export function queue(s: ViewSource): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const app of s.apps.values()) {
    const r = s.runtime.get(app.spec.id);
    if (!r?.plan || r.plan.launch === 0) continue;
    out.push({ ...why(s, app.spec.id), count: r.plan.launch, since: iso() });
  }
  return out;
}

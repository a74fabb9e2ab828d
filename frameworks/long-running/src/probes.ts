/**
 * Runs the health and readiness probes of running instances and folds their results into each
 * instance (healthy, ready, failing) for the planner to act on. The probes themselves are in
 * health.ts; this is the scheduling and bookkeeping around them.
 *
 * It reaches the service only through `ProbeHost`, so the service's private state stays private:
 * the host hands over exactly the maps and callbacks probing needs.
 */
import type { AppSpec } from './app.js';
import { runHealthCheck, runReadinessCheck } from './health.js';
import type { AppRecord, Instance } from './model.js';
import { now, type AppRuntime } from './service-options.js';

/** What the prober needs of the service. */
export interface ProbeHost {
  readonly apps: ReadonlyMap<string, AppRecord>;
  readonly instances: ReadonlyMap<string, Instance>;
  /** Counters incremented in place (the service's own `metrics` object). */
  readonly metrics: { healthChecks: number; healthFailures: number };
  /** The app's runtime record (created if missing). */
  rt(appId: string): AppRuntime;
  emit(eventType: string, data: Record<string, unknown>): void;
  persistSoon(): void;
  scheduleTick(): void;
}

/** Probe schedule and consecutive-failure counts of one instance. */
interface ProbeState {
  next: number;
  busy: boolean;
  failures: number[];
  results: (boolean | undefined)[];
  readyNext: number;
}

export class HealthProber {
  private readonly probes = new Map<string, ProbeState>();

  constructor(private readonly host: ProbeHost) {}

  /** Drops the probe state of a task that ended. */
  forget(taskId: string): void {
    this.probes.delete(taskId);
  }

  /** Starts the probes that are due at `t` (one probe round per instance at a time). */
  run(t: number): void {
    for (const i of this.host.instances.values()) {
      if (i.state !== 'running' || i.killReason) continue;
      const spec = this.host.apps.get(i.appId)?.spec;
      if (!spec || (spec.healthChecks.length === 0 && spec.readinessChecks.length === 0)) continue;
      let p = this.probes.get(i.taskId);
      if (!p) {
        p = { next: t, busy: false, failures: spec.healthChecks.map(() => 0), results: spec.healthChecks.map(() => undefined), readyNext: t };
        this.probes.set(i.taskId, p);
      }
      if (p.busy || p.next > t) continue;
      p.busy = true;
      const probe = p;
      const interval = Math.min(...spec.healthChecks.map((h) => h.intervalSeconds), ...spec.readinessChecks.map((h) => h.intervalSeconds));
      void this.probeOnce(i, spec, probe).finally(() => { probe.busy = false; probe.next = now() + interval * 1000; });
    }
  }

  private async probeOnce(i: Instance, spec: AppSpec, p: { failures: number[]; results: (boolean | undefined)[] }): Promise<void> {
    const host = this.host;
    const target = { host: i.hostname, ports: i.ports };
    if (spec.readinessChecks.length > 0 && !i.ready) {
      const rs = await Promise.all(spec.readinessChecks.map((c) => runReadinessCheck(c, target)));
      const ready = rs.every((r) => r.ok);
      if (ready) i.ready = true;
      else { i.ready = false; i.healthDetail = `not ready: ${rs.find((r) => !r.ok)?.detail}`; }
    }
    if (spec.healthChecks.length === 0) { host.scheduleTick(); return; }
    const results = await Promise.all(spec.healthChecks.map((c) => runHealthCheck(c, target)));
    host.metrics.healthChecks += results.length;
    if (!host.instances.has(i.taskId) || i.killReason) return;
    const t = now();
    const inGrace = (c: { gracePeriodSeconds: number }): boolean => !i.everHealthy && t - (i.startedAt ?? t) < c.gracePeriodSeconds * 1000;
    results.forEach((r, k) => {
      p.results[k] = r.ok;
      if (r.ok) p.failures[k] = 0;
      else {
        host.metrics.healthFailures++;
        if (!inGrace(spec.healthChecks[k]!)) p.failures[k] = (p.failures[k] ?? 0) + 1;
      }
    });
    const was = i.healthy;
    const healthy = results.every((r) => r.ok);
    i.healthy = healthy;
    i.healthDetail = healthy ? 'healthy' : `${spec.healthChecks[results.findIndex((r) => !r.ok)]!.protocol} check: ${results.find((r) => !r.ok)!.detail}`;
    if (healthy) {
      i.everHealthy = true;
      // A healthy instance ends the backoff streak (as Marathon resets its delay).
      const r = host.rt(i.appId);
      r.failures = 0;
      r.delayUntil = 0;
    }
    i.failing = spec.healthChecks.some((c, k) => c.maxConsecutiveFailures > 0 && (p.failures[k] ?? 0) >= c.maxConsecutiveFailures);
    if (was !== healthy) {
      host.emit('health_status_changed_event', { appId: i.appId, taskId: i.taskId, alive: healthy, detail: i.healthDetail });
      host.persistSoon();
    }
    host.scheduleTick();
  }
}

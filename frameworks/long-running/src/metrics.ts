/**
 * The framework's Prometheus metrics with prom-client, in a registry of its own (several
 * frameworks run in one `agora local` process). The service keeps plain counters where things
 * happen; this module exposes them, and reads the gauges (apps, deployments, instances by
 * state) from the service's state at scrape time.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { ViewSource } from './views.js';

/** The service's counters, incremented in place. */
export interface ServiceCounters {
  offersReceived: number; offersDeclined: number; tasksLaunched: number; tasksFailed: number; tasksKilled: number; healthChecks: number; healthFailures: number;
  deploymentsStarted: number; deploymentsSucceeded: number; deploymentsFailed: number; deploymentsRolledBack: number; statusUpdates: number; orphansKilled: number;
}

/** What the metrics read. */
export interface MetricsSource {
  view: ViewSource;
  counters: ServiceCounters;
  stateWrites(): number;
  connected(): boolean;
}

/** Instance states always reported (0 when none), so dashboards see every series. */
const INSTANCE_STATES = ['staging', 'starting', 'running', 'killing', 'unreachable'];

/** Builds the registry; `registry.metrics()` renders the text format. */
export function metricsRegistry(src: MetricsSource): Registry {
  const registry = new Registry();
  const registers = [registry];
  const counter = (name: string, help: string, read: () => number): void => {
    new Counter({ name: `agora_lr_${name}`, help, registers, collect() { this.reset(); this.inc(read()); } });
  };
  const c = src.counters;
  counter('offers_received_total', 'Offers received.', () => c.offersReceived);
  counter('offers_declined_total', 'Offers declined.', () => c.offersDeclined);
  counter('tasks_launched_total', 'Instances launched.', () => c.tasksLaunched);
  counter('tasks_failed_total', 'Instances that ended unexpectedly.', () => c.tasksFailed);
  counter('tasks_killed_total', 'Kills sent.', () => c.tasksKilled);
  counter('orphans_killed_total', 'Unknown tasks killed after reconciliation.', () => c.orphansKilled);
  counter('health_checks_total', 'Health probes run.', () => c.healthChecks);
  counter('health_check_failures_total', 'Health probes failed.', () => c.healthFailures);
  counter('deployments_started_total', 'Deployments started.', () => c.deploymentsStarted);
  counter('deployments_succeeded_total', 'Deployments that reached their target.', () => c.deploymentsSucceeded);
  counter('deployments_failed_total', 'Deployments that ended without reaching their target (rolled back or cancelled).', () => c.deploymentsFailed);
  counter('deployments_rolled_back_total', 'Rollbacks started.', () => c.deploymentsRolledBack);
  counter('status_updates_total', 'Status updates received.', () => c.statusUpdates);
  counter('state_writes_total', 'State writes to disk.', () => src.stateWrites());
  new Gauge({ name: 'agora_lr_apps', help: 'Apps defined.', registers, collect() { this.set(src.view.apps.size); } });
  new Gauge({ name: 'agora_lr_deployments', help: 'Deployments in progress.', registers, collect() { this.set(src.view.deployments.size); } });
  new Gauge({
    name: 'agora_lr_instances', help: 'Instances by state.', labelNames: ['state'], registers,
    collect() {
      this.reset();
      for (const st of INSTANCE_STATES) this.set({ state: st }, 0);
      for (const i of src.view.instances.values()) this.inc({ state: i.state });
    },
  });
  new Gauge({ name: 'agora_lr_connected', help: '1 while subscribed to a master.', registers, collect() { this.set(src.connected() ? 1 : 0); } });
  return registry;
}

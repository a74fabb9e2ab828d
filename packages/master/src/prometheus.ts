/**
 * The master's metrics in Prometheus text format (GET /metrics), on a registry of its own so
 * that several masters in one process (tests, benches, embedding) do not clash.
 *
 * Counters the books already keep as plain numbers (MasterMetrics) are read at scrape time;
 * gauges (resources per role, agents, tasks by state, stream backlogs) are computed at scrape
 * time from counters the books keep incrementally, never by walking every task. Only the
 * histograms and the transition counter are fed as things happen, from the change feed.
 */
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { TaskState, isTerminalState, taskStateName } from '@agora/core';
import type { MasterEvents } from './events.js';
import { addScalars, type Scalars } from './ledger.js';
import type { MasterState } from './master-state.js';
import type { TaskRecord } from './tasks.js';

/** What the metrics read besides the books. */
export interface MetricsSources {
  /** 1 while this master leads. */
  isLeader: () => boolean;
  /** Connected event-stream (SSE) clients and clients dropped for being slow. */
  sse?: () => { clients: number; dropped: number };
}

/** A counter whose value is read from the books at scrape time. */
function readCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name, help, registers: [registry],
    collect() {
      this.reset();
      this.inc(Math.max(0, read()));
    },
  });
}

/** Scalars held per role (allocated + offered, from the frameworks' incremental usage) and offered per role. */
function roleScalars(m: MasterState): { allocated: Map<string, Scalars>; offered: Map<string, Scalars> } {
  const allocated = new Map<string, Scalars>();
  const offered = new Map<string, Scalars>();
  for (const fw of m.frameworks.values()) {
    for (const [role, usage] of fw.roleUsage) {
      let s = allocated.get(role);
      if (!s) allocated.set(role, (s = new Map()));
      for (const [k, v] of usage) s.set(k, (s.get(k) ?? 0) + v);
    }
  }
  for (const o of m.offers.all()) {
    let s = offered.get(o.role);
    if (!s) offered.set(o.role, (s = new Map()));
    addScalars(s, o.resources, 1);
    const a = allocated.get(o.role);
    if (a) addScalars(a, o.resources, -1);
  }
  return { allocated, offered };
}

/** Builds the registry of one master. */
export function createMasterRegistry(m: MasterState, events: MasterEvents, sources: MetricsSources): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const mm = m.metrics;

  readCounter(registry, 'agora_master_offers_made_total', 'Offers sent to frameworks.', () => mm.offersSent);
  readCounter(registry, 'agora_master_offers_declined_total', 'Offers declined by frameworks.', () => mm.offersDeclined);
  readCounter(registry, 'agora_master_offers_rescinded_total', 'Offers taken back (timeout, agent or framework gone).', () => mm.offersRescinded);
  readCounter(registry, 'agora_master_offers_accepted_total', 'Offers accepted (used by LAUNCH or another operation).', () => mm.offersAccepted);
  readCounter(registry, 'agora_master_tasks_launched_total', 'Tasks sent to agents.', () => mm.tasksLaunched);
  readCounter(registry, 'agora_master_tasks_error_total', 'Tasks refused at launch (TASK_ERROR).', () => mm.tasksError);
  readCounter(registry, 'agora_master_tasks_dropped_total', 'Tasks dropped at launch (TASK_DROPPED).', () => mm.tasksDropped);
  readCounter(registry, 'agora_master_status_updates_total', 'Status updates received from agents.', () => mm.statusUpdatesReceived);
  readCounter(registry, 'agora_master_allocation_runs_total', 'Allocation rounds run.', () => mm.allocationRuns);
  readCounter(registry, 'agora_master_agents_registered_total', 'Agent registrations (first time).', () => mm.agentsRegistered);
  readCounter(registry, 'agora_master_agents_reregistered_total', 'Agent re-registrations.', () => mm.agentsReregistered);
  readCounter(registry, 'agora_master_agents_unreachable_total', 'Agents marked unreachable.', () => mm.agentsUnreachable);
  readCounter(registry, 'agora_master_agents_gone_total', 'Agents marked gone.', () => mm.agentsGone);
  readCounter(registry, 'agora_master_frameworks_subscribed_total', 'Framework subscriptions (and re-subscriptions).', () => mm.frameworksSubscribed);
  readCounter(registry, 'agora_master_frameworks_torn_down_total', 'Frameworks removed.', () => mm.frameworksTornDown);
  readCounter(registry, 'agora_master_invalid_calls_total', 'Calls refused as invalid.', () => mm.invalidCalls);

  const allocation = new Histogram({
    name: 'agora_master_allocation_cycle_seconds', help: 'Duration of one allocation round (sorting, allocating, building offers).', registers: [registry],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
  });
  mm.onAllocation = (ms) => allocation.observe(ms / 1000);

  const transitions = new Counter({ name: 'agora_master_task_state_transitions_total', help: 'Task state changes seen by the master (from "NONE" for a new task).', labelNames: ['from', 'to'], registers: [registry] });
  const launchLatency = new Histogram({
    name: 'agora_master_task_launch_latency_seconds', help: 'From the accepted LAUNCH to the first TASK_RUNNING.', registers: [registry],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  });
  const acceptedAt = new WeakMap<TaskRecord, number>();
  events.on((e) => {
    if (e.type !== 'task_updated') return;
    const rec = e.task;
    if (e.previous === rec.state && e.previous !== undefined) return;
    transitions.inc({ from: e.previous === undefined ? 'NONE' : taskStateName(e.previous), to: taskStateName(rec.state) });
    if (e.previous === undefined) {
      if (rec.state === TaskState.TASK_STAGING) acceptedAt.set(rec, performance.now());
      return;
    }
    const t0 = acceptedAt.get(rec);
    if (t0 === undefined) return;
    if (rec.state === TaskState.TASK_RUNNING) launchLatency.observe((performance.now() - t0) / 1000);
    if (rec.state === TaskState.TASK_RUNNING || isTerminalState(rec.state)) acceptedAt.delete(rec);
  });

  new Gauge({
    name: 'agora_master_resources_total', help: 'Resources of active agents (scalars).', labelNames: ['resource'], registers: [registry],
    collect() {
      this.reset();
      for (const [name, v] of m.ledger.totals) this.set({ resource: name }, v);
    },
  });
  const byRole = (kind: 'allocated' | 'offered') => new Gauge({
    name: `agora_master_resources_${kind}`, help: `Resources ${kind === 'allocated' ? 'held by tasks and executors' : 'in outstanding offers'}, per role (scalars).`,
    labelNames: ['role', 'resource'], registers: [registry],
    collect() {
      this.reset();
      for (const [role, s] of roleScalars(m)[kind]) for (const [name, v] of s) if (v > 0) this.set({ role, resource: name }, Math.round(v * 1000) / 1000);
    },
  });
  byRole('allocated');
  byRole('offered');

  new Gauge({ name: 'agora_master_offers_outstanding', help: 'Offers outstanding now.', registers: [registry], collect() { this.set(m.offers.size); } });
  new Gauge({
    name: 'agora_master_tasks', help: 'Live tasks by state.', labelNames: ['state'], registers: [registry],
    collect() {
      this.reset();
      for (const [state, n] of m.tasks.stateCounts) this.set({ state: taskStateName(state) }, n);
    },
  });
  new Gauge({ name: 'agora_master_tasks_completed_kept', help: 'Completed tasks remembered for the operator API.', registers: [registry], collect() { this.set(m.tasks.completedCount); } });
  new Gauge({
    name: 'agora_master_agents', help: 'Agents known, by condition.', labelNames: ['state'], registers: [registry],
    collect() {
      const c = { active: 0, inactive: 0, unreachable: 0, draining: 0 };
      for (const a of m.agents.values()) {
        if (a.active) c.active++;
        else c.inactive++;
        if (a.unreachableSince !== undefined) c.unreachable++;
        if (a.drain) c.draining++;
      }
      for (const [state, n] of Object.entries(c)) this.set({ state }, n);
    },
  });
  new Gauge({
    name: 'agora_master_frameworks', help: 'Frameworks known, by connection.', labelNames: ['state'], registers: [registry],
    collect() {
      let connected = 0;
      for (const f of m.frameworks.values()) if (f.connected) connected++;
      this.set({ state: 'connected' }, connected);
      this.set({ state: 'disconnected' }, m.frameworks.size - connected);
    },
  });
  // Stream lag: events queued for a peer but not yet handed to its HTTP/2 stream (back-pressure).
  const backlogOf = (sink: unknown): number => (typeof (sink as { backlog?: unknown } | undefined)?.backlog === 'number' ? (sink as { backlog: number }).backlog : 0);
  new Gauge({
    name: 'agora_master_stream_backlog_events', help: 'Events queued on scheduler and agent streams, not yet written (sum over streams).', labelNames: ['peer'], registers: [registry],
    collect() {
      let fw = 0;
      let ag = 0;
      for (const f of m.frameworks.values()) fw += backlogOf(f.sink);
      for (const a of m.agents.values()) ag += backlogOf(a.sink);
      this.set({ peer: 'framework' }, fw);
      this.set({ peer: 'agent' }, ag);
    },
  });
  new Gauge({
    name: 'agora_master_stream_backlog_max_events', help: 'Largest backlog of any one scheduler or agent stream.', labelNames: ['peer'], registers: [registry],
    collect() {
      let fw = 0;
      let ag = 0;
      for (const f of m.frameworks.values()) fw = Math.max(fw, backlogOf(f.sink));
      for (const a of m.agents.values()) ag = Math.max(ag, backlogOf(a.sink));
      this.set({ peer: 'framework' }, fw);
      this.set({ peer: 'agent' }, ag);
    },
  });
  new Gauge({ name: 'agora_master_is_leader', help: '1 while this master leads.', registers: [registry], collect() { this.set(sources.isLeader() ? 1 : 0); } });
  new Gauge({ name: 'agora_master_uptime_seconds', help: 'Seconds since this master started.', registers: [registry], collect() { this.set((m.clock.now() - m.startedAt) / 1000); } });
  if (sources.sse) {
    const sse = sources.sse;
    new Gauge({ name: 'agora_master_event_stream_clients', help: 'Connected HTTP event-stream (SSE) clients.', registers: [registry], collect() { this.set(sse().clients); } });
    readCounter(registry, 'agora_master_event_stream_dropped_total', 'Event-stream clients dropped for reading too slowly.', () => sse().dropped);
  }
  return registry;
}

/**
 * The agent's Prometheus metrics (prom-client, in a registry of its own so that several agents
 * in one process never mix their figures) and the small HTTP server that serves them at
 * `/metrics`. Counters come from the agent's AgentCounters; gauges are read from the agent's
 * state at scrape time, so neither can drift from what the agent did. Loaded lazily (fastify
 * and prom-client are heavy) once the agent starts.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { resources as R, taskStateName, type Logger, type Resource } from '@agora/core';
import type { AgentCounters } from './metrics.js';
import type { AgentState } from './state.js';
import { isDone } from './state.js';

/** What the gauges read at scrape time. */
export interface AgentMetricsSource {
  state: AgentState;
  counters: AgentCounters;
  /** Resources the agent offers. */
  totalResources(): readonly Resource[];
  /** Unacknowledged status updates. */
  pendingUpdates(): number;
  /** True while registered with a master. */
  registered(): boolean;
}

/** The agent's registry: every metric of the agent (and the process's own: CPU, memory, event loop). */
export function agentRegistry(source: AgentMetricsSource): Registry {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry, prefix: 'agora_agent_' });
  new Counter({
    name: 'agora_agent_tasks_launched_total', help: 'Tasks the master asked this agent to run, by how (command task, task group, custom executor).', labelNames: ['kind'], registers,
    collect() {
      this.reset();
      for (const [kind, n] of source.counters.launched) this.inc({ kind }, n);
    },
  });
  new Counter({
    name: 'agora_agent_status_updates_total', help: 'Task status updates this agent generated, by state (retransmissions not counted).', labelNames: ['state'], registers,
    collect() {
      this.reset();
      for (const [state, n] of source.counters.updates) this.inc({ state }, n);
    },
  });
  new Gauge({
    name: 'agora_agent_tasks', help: 'Tasks this agent tracks, by latest state.', labelNames: ['state'], registers,
    collect() {
      this.reset();
      for (const t of source.state.tasks.values()) this.inc({ state: taskStateName(t.state) });
    },
  });
  new Gauge({
    name: 'agora_agent_executors', help: 'Executors (command, default and custom) this agent tracks.', registers,
    collect() { this.set(source.state.executors.size); },
  });
  new Gauge({
    name: 'agora_agent_resources_total', help: 'Scalar resources this agent offers, by name.', labelNames: ['resource'], registers,
    collect() {
      this.reset();
      const total = source.totalResources();
      for (const name of R.scalarNames(total)) this.set({ resource: name }, R.scalarOf(total, name));
    },
  });
  new Gauge({
    name: 'agora_agent_resources_used', help: 'Scalar resources held by live tasks, by name.', labelNames: ['resource'], registers,
    collect() {
      this.reset();
      const used = R.sum([...source.state.tasks.values()].filter((t) => !isDone(t)).map((t) => t.info.resources ?? []));
      const flat = R.stripAllocation(used);
      for (const name of R.scalarNames(source.totalResources())) this.set({ resource: name }, R.scalarOf(flat, name));
    },
  });
  new Gauge({
    name: 'agora_agent_status_updates_pending', help: 'Status updates not yet acknowledged by the framework.', registers,
    collect() { this.set(source.pendingUpdates()); },
  });
  new Gauge({
    name: 'agora_agent_registered', help: '1 while registered with a master.', registers,
    collect() { this.set(source.registered() ? 1 : 0); },
  });
  return registry;
}

/** The running `/metrics` server. */
export interface MetricsServer {
  /** host:port it listens on. */
  readonly address: string;
  close(): Promise<void>;
}

/**
 * Serves the registry at `http://host:port/metrics` (port 0: any free port). When the port is
 * the default one and busy (another agent on this host), the agent runs without metrics and
 * says so; a port given explicitly that cannot be bound is an error.
 */
export async function serveMetrics(registry: Registry, o: { host: string; port: number; explicit: boolean; log: Logger }): Promise<MetricsServer | undefined> {
  const app: FastifyInstance = Fastify({ logger: false });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  app.get('/health', async () => ({ healthy: true }));
  try {
    await app.listen({ host: o.host, port: o.port });
  } catch (err) {
    await app.close().catch(() => undefined);
    const message = `cannot serve metrics on ${o.host}:${o.port}: ${(err as Error).message}`;
    if (o.explicit) throw new Error(message);
    o.log.warn({ host: o.host, port: o.port }, `${message}; running without /metrics (set the HTTP port to 0 or a free port)`);
    return undefined;
  }
  const port = (app.server.address() as { port: number }).port;
  return { address: `${o.host}:${port}`, close: () => app.close() };
}

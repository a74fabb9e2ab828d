/**
 * The agent's Prometheus metrics (prom-client, in a registry of its own so that several agents
 * in one process never mix their figures) and the small HTTP server that serves them at
 * `/metrics`. Counters are moved by the agent as things happen; gauges are read from the
 * agent's state at scrape time, so they can never drift from it.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { resources as R, taskStateName, type Logger, type Resource } from '@agora/core';
import type { AgentState } from './state.js';
import { isDone } from './state.js';
import type { PersistedEntry } from './status-updates.js';

/** What the gauges read at scrape time. */
export interface AgentMetricsSource {
  state: AgentState;
  /** Resources the agent offers. */
  totalResources(): readonly Resource[];
  /** Unacknowledged status updates. */
  pendingUpdates(): number;
  /** True while registered with a master. */
  registered(): boolean;
}

/** How a task came to the agent. */
export type LaunchKind = 'command' | 'group' | 'custom';

export class AgentMetrics {
  /** Every metric of this agent (and the process's own: CPU, memory, event loop). */
  readonly registry = new Registry();
  private readonly launches: Counter<'kind'>;
  private readonly updates: Counter<'state'>;

  constructor(source: AgentMetricsSource) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'agora_agent_' });
    this.launches = new Counter({ name: 'agora_agent_tasks_launched_total', help: 'Tasks the master asked this agent to run, by how (command task, task group, custom executor).', labelNames: ['kind'], registers });
    this.updates = new Counter({ name: 'agora_agent_status_updates_total', help: 'Task status updates this agent generated, by state (retransmissions not counted).', labelNames: ['state'], registers });
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
  }

  /** Counts tasks handed to the agent. */
  launched(kind: LaunchKind, tasks = 1): void {
    this.launches.inc({ kind }, tasks);
  }

  /** Sees every entry the status update manager persists: each new update exactly once. */
  persisted(entry: PersistedEntry): void {
    if (entry.kind === 'update') this.updates.inc({ state: taskStateName(entry.status.state ?? 0) });
  }
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

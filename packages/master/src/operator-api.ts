/**
 * Service Operator: read-only views of the master's books (plus Teardown) for `agora state`,
 * the CLI and the web UI. Resource sums are computed here on demand, off the hot path.
 */
import { agora, grpc, idOf, isTerminalState, resources, taskStateName, type AgentState, type FrameworkState, type Task } from '@agora/core';
import type { AgentEntry } from './agents.js';
import type { FrameworkEntry } from './frameworks.js';
import { dominantShareOf } from './allocator/index.js';
import type { MasterState } from './master-state.js';
import { explainOffers, roleRecordFrom, roleStates } from './roles-view.js';

const R = agora.v1.AgentState.Reachability;
const REACHABILITY = { reachable: R.REACHABLE, disconnected: R.DISCONNECTED, unreachable: R.UNREACHABLE, recovering: R.RECOVERING } as const;
const D = agora.v1.AgentState.Drain;
const DRAIN = { none: D.NOT_DRAINING, draining: D.DRAINING, drained: D.DRAINED } as const;

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => void;

export class OperatorApi {
  constructor(private readonly m: MasterState) {}

  /** Wraps a handler: exceptions become INTERNAL errors with a message, never crashes. */
  private handle<Req, Res>(name: string, fn: (req: Req) => Res): Unary<Req, Res> {
    return (call, cb) => {
      try {
        cb(null, fn(call.request));
      } catch (e) {
        this.m.log.error({ err: (e as Error).stack }, `operator ${name} failed`);
        const err = e as Error & { code?: number };
        cb({ code: err.code ?? grpc.status.INTERNAL, details: `${name}: ${err.message}`, name: 'Error', message: err.message });
      }
    };
  }

  /** Like `handle`, for handlers that wait (registry writes). */
  private handleAsync<Req, Res>(name: string, fn: (req: Req) => Promise<Res>): Unary<Req, Res> {
    return (call, cb) => {
      const fail = (e: unknown): void => {
        const err = e as Error & { code?: number };
        if (err.code === undefined) this.m.log.error({ err: err.stack }, `operator ${name} failed`);
        cb({ code: err.code ?? grpc.status.INTERNAL, details: `${name}: ${err.message}`, name: 'Error', message: err.message });
      };
      try {
        fn(call.request).then((res) => cb(null, res), fail);
      } catch (e) {
        fail(e);
      }
    };
  }

  /** The handlers for server.addService(OperatorService, …). */
  handlers(): grpc.UntypedServiceImplementation {
    return {
      getHealth: this.handle('GetHealth', () => ({ healthy: true, masterInfo: this.m.info })),
      getState: this.handle('GetState', (req: agora.v1.GetStateRequest) => this.state(req.taskLimit ?? 0)),
      getAgents: this.handle('GetAgents', () => ({ agents: [...this.m.agents.values()].map((a) => this.agentState(a)) })),
      getFrameworks: this.handle('GetFrameworks', () => ({ frameworks: [...this.m.frameworks.values()].map((f) => this.frameworkState(f)) })),
      getTasks: this.handle('GetTasks', (req: agora.v1.GetTasksRequest) => this.getTasks(req)),
      getMetrics: this.handle('GetMetrics', () => ({ metrics: this.metrics().map(([name, value]) => ({ name, value })) })),
      getRoles: this.handle('GetRoles', () => ({ roles: roleStates(this.m) })),
      updateRole: this.handleAsync('UpdateRole', async (req: agora.v1.UpdateRoleRequest) => {
        const rec = roleRecordFrom(this.m, req);
        await this.m.setRole(rec);
        return { role: roleStates(this.m).find((r) => r.name === rec.role) ?? { name: rec.role, weight: rec.weight ?? 1 } };
      }),
      explainOffers: this.handle('ExplainOffers', (req: agora.v1.ExplainOffersRequest) => explainOffers(this.m, req)),
      drainAgent: this.handleAsync('DrainAgent', async (req: agora.v1.DrainAgentRequest) => {
        const grace = Object.prototype.hasOwnProperty.call(req, 'graceSeconds') ? req.graceSeconds ?? undefined : undefined;
        const agent = await this.m.drainer.drain(idOf(req.agentId), grace);
        return { agent: this.agentState(agent) };
      }),
      reactivateAgent: this.handleAsync('ReactivateAgent', async (req: agora.v1.ReactivateAgentRequest) => {
        const agent = await this.m.drainer.reactivate(idOf(req.agentId));
        return { agent: this.agentState(agent) };
      }),
      teardown: this.handle('Teardown', (req: agora.v1.TeardownRequest) => {
        const id = idOf(req.frameworkId);
        const fw = this.m.frameworks.get(id);
        if (!fw) throw Object.assign(new Error(`framework '${id}' is not known`), { code: grpc.status.NOT_FOUND });
        this.m.teardownFramework(fw, 'operator Teardown');
        return {};
      }),
    };
  }

  agentState(a: AgentEntry): AgentState {
    const acct = this.m.ledger.get(a.id);
    const total = acct?.total ?? resources.stripAllocation(a.info.resources ?? []);
    return {
      agentInfo: a.info,
      active: a.active,
      totalResources: total,
      allocatedResources: resources.sum([this.m.tasks.usedOn(a.id)]),
      offeredResources: resources.sum(this.m.offers.ofAgent(a.id).map((o) => o.resources)),
      registeredTime: a.registeredTime,
      lastHeartbeat: a.lastHeartbeat,
      taskCount: this.m.tasks.countOfAgent(a.id),
      reachability: REACHABILITY[a.reachability],
      drain: DRAIN[this.m.drainer.stateOf(a) ?? 'none'],
      unreachableTime: a.unreachableSince !== undefined ? a.unreachableSince / 1000 : 0,
      drainDeadline: a.drain ? a.drain.deadline / 1000 : 0,
    };
  }

  frameworkState(f: FrameworkEntry): FrameworkState {
    const { allocated, offered } = this.m.frameworkResources(f);
    return {
      frameworkInfo: f.info,
      active: !f.removed,
      connected: f.connected,
      allocatedResources: allocated,
      offeredResources: offered,
      registeredTime: f.registeredTime,
      taskCount: this.m.tasks.countOfFramework(f.id),
      dominantShare: dominantShareOf(f.usage, this.m.ledger.totals),
      suppressed: f.suppressed,
    };
  }

  private state(limit: number): agora.v1.State.$Properties {
    const cap = <T>(it: Iterable<T>): T[] => {
      const out: T[] = [];
      for (const x of it) {
        if (limit > 0 && out.length >= limit) break;
        out.push(x);
      }
      return out;
    };
    return {
      masterInfo: this.m.info,
      agents: [...this.m.agents.values()].map((a) => this.agentState(a)),
      frameworks: [...this.m.frameworks.values()].map((f) => this.frameworkState(f)),
      tasks: cap([...this.m.tasks.allLive()].map((r) => r.task)),
      completedTasks: cap(this.m.tasks.allCompleted()),
      offers: [...this.m.offers.all()].map((o) => o.wire),
    };
  }

  private getTasks(req: agora.v1.GetTasksRequest): agora.v1.GetTasksResponse.$Properties {
    const fid = idOf(req.frameworkId);
    const aid = idOf(req.agentId);
    const states = new Set(req.states ?? []);
    const match = (t: Task): boolean =>
      (!fid || idOf(t.frameworkId) === fid) && (!aid || idOf(t.agentId) === aid) && (states.size === 0 || states.has(t.state ?? 0));
    const all: Task[] = [];
    for (const r of this.m.tasks.allLive()) if (match(r.task)) all.push(r.task);
    if (req.includeCompleted || [...states].some((s) => isTerminalState(s))) {
      for (const t of this.m.tasks.allCompleted()) if (match(t)) all.push(t);
    }
    const offset = req.offset ?? 0;
    const limit = req.limit ?? 0;
    return { tasks: limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset), total: all.length };
  }

  /** Counters plus gauges computed now. */
  metrics(): [string, number][] {
    const m = this.m;
    let agentsActive = 0;
    let agentsUnreachable = 0;
    let agentsDraining = 0;
    for (const a of m.agents.values()) {
      if (a.active) agentsActive++;
      if (a.unreachableSince !== undefined) agentsUnreachable++;
      if (a.drain) agentsDraining++;
    }
    let fwConnected = 0;
    for (const f of m.frameworks.values()) if (f.connected) fwConnected++;
    const out: [string, number][] = [
      ['master/uptime_secs', (m.clock.now() - m.startedAt) / 1000],
      ['master/agents_active', agentsActive],
      ['master/agents_inactive', m.agents.size - agentsActive],
      ['master/agents_unreachable_now', agentsUnreachable],
      ['master/agents_recovering', m.health.recovering.size],
      ['master/agents_draining', agentsDraining],
      ['master/agents_gone_known', m.health.gone.size],
      ['master/reconciliations_pending', m.reconciler.pending],
      ['master/frameworks_active', fwConnected],
      ['master/frameworks_disconnected', m.frameworks.size - fwConnected],
      ['master/offers_outstanding', m.offers.size],
      ['master/tasks_live', m.tasks.size],
      ['master/tasks_completed_kept', m.tasks.completedCount],
    ];
    for (const [state, n] of m.tasks.stateCounts) out.push([`master/tasks/${taskStateName(state)}`, n]);
    for (const [name, total] of m.ledger.totals) out.push([`master/resources/${name}_total`, total]);
    out.push(...m.metrics.counters());
    return out;
  }
}

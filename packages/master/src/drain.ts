/**
 * Draining agents for maintenance (Mesos `DRAIN_AGENT`): the agent is no longer offered (its
 * outstanding offers are rescinded), its tasks may finish on their own until the deadline, and
 * whatever still runs then is killed; those TASK_KILLED updates carry REASON_AGENT_DRAINING so
 * that frameworks can tell maintenance from failure. The agent is DRAINED once no task is left
 * and stays unoffered until `ReactivateAgent`. The deadline is kept in the registry, so a
 * drain survives a master restart or failover (the kills go out once the agent is back).
 */
import { AgentEventType, TaskState, TaskStatusReason, grpc, isTerminalState, type TaskStatus } from '@agora/core';
import type { AgentEntry } from './agents.js';
import type { FailureHost } from './failure-host.js';
import { TaskTable } from './tasks.js';

/** An Error with a gRPC status code (the operator API answers with it). */
function refused(code: grpc.status, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export class Drainer {
  /** Keys of tasks killed by a drain, until their terminal update passes. */
  private readonly killedByDrain = new Set<string>();

  constructor(private readonly m: FailureHost) {}

  /** The agent by ID for an operator call; NOT_FOUND naming why when there is none. */
  private agentFor(agentId: string): AgentEntry {
    if (!agentId) throw refused(grpc.status.INVALID_ARGUMENT, 'agent_id is empty');
    const agent = this.m.agents.get(agentId);
    if (agent) return agent;
    if (this.m.goneAgents.has(agentId)) throw refused(grpc.status.NOT_FOUND, `agent '${agentId}' is gone (it was unreachable too long)`);
    throw refused(grpc.status.NOT_FOUND, `agent '${agentId}' is not known to this master`);
  }

  /** Starts (or re-times) a drain: durable first, then the agent stops being offered. */
  async drain(agentId: string, graceSeconds: number | undefined): Promise<AgentEntry> {
    const grace = graceSeconds ?? this.m.opts.drainGraceSeconds;
    if (typeof grace !== 'number' || !Number.isFinite(grace) || grace < 0) {
      throw refused(grpc.status.INVALID_ARGUMENT, `grace_seconds must be a number ≥ 0, got ${String(graceSeconds)}`);
    }
    let agent = this.agentFor(agentId);
    const deadline = this.m.clock.now() + grace * 1000;
    await this.m.persist([{ type: 'putAgent', agent: { ...this.m.agentRecord(agent), drain: { deadline: deadline / 1000 } } }]);
    agent = this.agentFor(agentId);
    this.apply(agent, deadline);
    this.m.log.info({ agentId, graceSeconds: grace, tasks: this.m.tasks.countOfAgent(agentId) }, 'agent draining');
    return agent;
  }

  /** Ends a drain: the agent is offered again. */
  async reactivate(agentId: string): Promise<AgentEntry> {
    let agent = this.agentFor(agentId);
    if (!agent.drain) return agent;
    await this.m.persist([{ type: 'putAgent', agent: { ...this.m.agentRecord(agent), drain: undefined } }]);
    agent = this.agentFor(agentId);
    this.forget(agent);
    this.m.ledger.setPaused(agent.id, false);
    this.m.requestAllocation(agent.id);
    this.m.log.info({ agentId }, 'agent reactivated');
    return agent;
  }

  /** Puts a drain in force (also for a drain recovered from the registry; `deadline` in ms). */
  apply(agent: AgentEntry, deadline: number): void {
    agent.drain?.timer?.cancel();
    const drain = { deadline, killed: false, timer: undefined as ReturnType<typeof this.m.clock.setTimeout> | undefined };
    agent.drain = drain;
    this.m.ledger.setPaused(agent.id, true);
    for (const o of this.m.offers.ofAgent(agent.id)) this.m.rescindOffer(o, true);
    drain.timer = this.m.clock.setTimeout(() => {
      drain.timer = undefined;
      if (agent.drain === drain) this.killRemaining(agent);
    }, Math.max(0, deadline - this.m.clock.now()));
  }

  /** Deadline reached: every task still on the agent is killed (again, if it re-registered since). */
  killRemaining(agent: AgentEntry): void {
    if (!agent.drain) return;
    agent.drain.killed = true;
    let sent = 0;
    for (const rec of this.m.tasks.ofAgent(agent.id)) {
      if (isTerminalState(rec.state)) continue;
      this.killedByDrain.add(rec.key);
      const ok = agent.send({ type: AgentEventType.KILL_TASK, killTask: { frameworkId: { value: rec.frameworkId }, taskId: { value: rec.taskId }, killPolicy: rec.task.killPolicy ?? undefined } });
      if (ok) sent++;
    }
    if (sent > 0) this.m.log.info({ agentId: agent.id, tasks: sent }, 'drain deadline: killing the tasks left');
  }

  /** A drained agent that re-registers: tasks past the deadline are killed now. */
  afterReregister(agent: AgentEntry): void {
    if (agent.drain?.killed) this.killRemaining(agent);
  }

  /** Stops the drain's timer (reactivated, or the agent is gone). */
  forget(agent: AgentEntry): void {
    agent.drain?.timer?.cancel();
    agent.drain = undefined;
  }

  /** 'draining' until no task is left, then 'drained'; undefined when not draining. */
  stateOf(agent: AgentEntry): 'draining' | 'drained' | undefined {
    if (!agent.drain) return undefined;
    return this.m.tasks.countOfAgent(agent.id) === 0 ? 'drained' : 'draining';
  }

  /** Marks TASK_KILLED updates of drained tasks with REASON_AGENT_DRAINING before they go out. */
  rewrite(frameworkId: string, status: TaskStatus): void {
    if (this.killedByDrain.size === 0) return;
    const key = TaskTable.key(frameworkId, status.taskId?.value ?? '');
    if (!this.killedByDrain.has(key)) return;
    if (status.state === TaskState.TASK_KILLED) {
      status.reason = TaskStatusReason.REASON_AGENT_DRAINING;
      if (!/drain/.test(status.message ?? '')) status.message = `killed: its agent is being drained${status.message ? `: ${status.message}` : ''}`;
    }
    if (isTerminalState(status.state)) this.killedByDrain.delete(key);
  }

  /** Cancels every drain timer (the master stops). */
  stop(): void {
    for (const a of this.m.agents.values()) a.drain?.timer?.cancel();
  }
}

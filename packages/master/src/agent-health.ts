/**
 * Agent failure detection and partitions, after Mesos's agent health checks and its
 * PARTITION_AWARE capability.
 *
 * ```
 *  reachable ──stream closes──▶ disconnected ──ping timeout since last heard──┐
 *      │                                                                    ▼
 *      └────────────── silent past the ping timeout ─────────────────▶ unreachable ──agentGone──▶ GONE
 *  recovering (known from the registry after a master start) ──reregister timeout──┘     (refused)
 *  any of them ──re-registers──▶ reachable (a returning unreachable agent is reconciled)
 * ```
 *
 * A closed stream alone changes nothing for tasks: agents reconnect within a second or two
 * after a hiccup, and reporting their tasks lost each time would make frameworks relaunch
 * work that never stopped. Only silence past the ping timeout counts.
 *
 * Unreachable: partition-aware frameworks get TASK_UNREACHABLE (not terminal: the task stays
 * in the books and comes back with the agent), the others TASK_LOST (terminal, as they always
 * did). When the agent returns, tasks reported LOST are killed — their framework was told they
 * are gone and may have replaced them (Mesos does the same, except after a master failover,
 * when it cannot know; neither can we) — and partition-aware frameworks get the tasks' current
 * state. Unreachable past `agentGoneSeconds`: GONE, its partition-aware tasks TASK_GONE, the
 * registry keeps only a tombstone so that the agent is told to shut down if it comes back.
 *
 * Silence is timed per agent, not by a periodic sweep: every agent whose silence counts (active,
 * or disconnected and not yet unreachable) sits in a map ordered by when it was last heard —
 * hearing from it moves it to the end — and one timer is armed for the oldest one's deadline.
 * The verdict is therefore due exactly `agentPingTimeout` after the last message, not up to a
 * sweep interval later, and costs O(agents that expired), not O(agents), when it runs. So with
 * the defaults (timeout 10 s, heartbeats every 3.3 s) an agent that dies is reported within
 * 10 s of its last heartbeat, hence within 10 s of dying.
 *
 * No false alarm from the master's own stalls: time is measured from *receipt*, and a verdict
 * first lets the event loop read what is waiting on the sockets (it runs on setImmediate, after
 * the poll phase, not in the timer phase that precedes it). If the timer itself fired late —
 * the master was starved of CPU or paused — the agents may have spoken meanwhile without being
 * read, so the verdict is put off by as long as the master was away (at most one heartbeat
 * interval): an overloaded master detects later, never wrongly.
 */
import { AgentEventType, TaskState, TaskStatusReason, taskStateName, type TaskStatus, type TimerHandle } from '@agora/core';
import type { AgentEntry } from './agents.js';
import type { FailureHost } from './failure-host.js';
import type { AgentRecord } from './registry.js';
import type { TaskRecord } from './tasks.js';

/** A silence timer firing this late (ms) means the master itself was away: judge later. */
const STALL_MS = 1000;

/** What the master remembered about an agent before it re-registered. */
export interface ReturningAgent {
  /** It was unreachable (its tasks were reported UNREACHABLE / LOST). */
  readonly wasUnreachable: boolean;
  /** Keys of tasks reported TASK_LOST to non-partition-aware frameworks: to be killed. */
  readonly lost: ReadonlySet<string>;
  /** Keys of tasks that were TASK_UNREACHABLE: their framework hears their state again. */
  readonly unreachable: ReadonlySet<string>;
}

export class AgentHealth {
  /** Per agent, keys of tasks reported TASK_LOST because the agent became unreachable. */
  private readonly lostTasks = new Map<string, Set<string>>();
  /** ms since the epoch when this master started leading (recovering agents' clock). */
  private leadingSince = 0;
  /** Agents whose silence is timed, least recently heard first (Map keeps insertion order). */
  private readonly silence = new Map<string, AgentEntry>();
  private timer: TimerHandle | undefined;
  /** Clock time the armed timer is due. */
  private due = 0;
  /** No verdict before this (ms since the epoch): set after the master was stalled. */
  private notBefore = 0;
  private stopped = false;

  constructor(private readonly m: FailureHost) {}

  /** Agents marked GONE: ID → seconds since the epoch. They are refused if they come back. */
  get gone(): Map<string, number> {
    return this.m.goneAgents;
  }

  /** IDs of agents known from the registry that have not re-registered since this master started leading. */
  get recovering(): Set<string> {
    return this.m.recoveringAgents;
  }

  /** Called when this master starts leading: recovered agents get the re-register timeout from now. */
  beginRecovery(): void {
    this.leadingSince = this.m.clock.now();
    for (const a of this.m.agents.values()) {
      if (a.active) continue;
      a.recovering = true;
      a.lastSeenMs = this.leadingSince;
      this.recovering.add(a.id);
    }
  }

  /** A registry tombstone: the agent was GONE before this master started. */
  restoreGone(rec: AgentRecord): void {
    this.gone.set(rec.id, rec.goneTime ?? 0);
  }

  /**
   * The agent was heard from (registered, or any call on its stream): its silence restarts now.
   * Called for every call an agent sends, so it is two Map operations and, rarely, a timer.
   */
  heard(agent: AgentEntry, now = this.m.clock.now()): void {
    agent.lastSeenMs = now;
    this.silence.delete(agent.id);
    this.silence.set(agent.id, agent);
    this.arm();
  }

  /** Stops timing (the master stopped or stepped down). */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Arms the timer for the least recently heard agent, unless one is armed (it re-arms when it fires). */
  private arm(): void {
    if (this.timer || this.stopped) return;
    const first = this.silence.values().next().value as AgentEntry | undefined;
    if (!first) return;
    const at = Math.max(first.lastSeenMs + this.m.opts.agentPingTimeoutMs, this.notBefore);
    this.due = at;
    this.timer = this.m.clock.setTimeout(() => this.fired(), Math.max(0, at - this.m.clock.now()));
  }

  private fired(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const late = this.m.clock.now() - this.due;
    if (late > STALL_MS) {
      // The master was not running when the deadline passed: what the agents sent meanwhile may
      // still be unread. Give it time to be read before judging anyone.
      this.notBefore = this.m.clock.now() + Math.min(late, this.m.opts.agentHeartbeatIntervalSeconds * 1000);
      this.m.log.warn({ lateMs: late }, 'agent silence check ran late (the master was busy or paused); judging after the backlog is read');
      this.arm();
      return;
    }
    // After the poll phase: heartbeats already on the sockets are read before the verdict.
    setImmediate(() => this.expire());
  }

  /** Marks every agent silent past the ping timeout unreachable, oldest first; re-arms. */
  private expire(): void {
    if (this.stopped) return;
    const now = this.m.clock.now();
    const timeout = this.m.opts.agentPingTimeoutMs;
    for (const agent of this.silence.values()) {
      if (agent.unreachableSince !== undefined || agent.recovering || this.m.agents.get(agent.id) !== agent) {
        this.silence.delete(agent.id);
        continue;
      }
      const silent = now - agent.lastSeenMs;
      if (silent < timeout || now < this.notBefore) break;
      this.markUnreachable(agent, agent.active ? `no heartbeat for ${secs(silent)} s` : `disconnected and silent for ${secs(silent)} s`);
    }
    this.arm();
  }

  /**
   * Runs on every housekeeping tick: unreachable → gone, and recovering agents that did not
   * re-register in time. (Silence of known agents is timed per agent, above.)
   */
  check(now: number): void {
    const o = this.m.opts;
    if (o.agentGoneMs === 0 && this.recovering.size === 0) return;
    for (const agent of [...this.m.agents.values()]) {
      if (agent.active) continue;
      if (agent.unreachableSince !== undefined) {
        if (o.agentGoneMs > 0 && now - agent.unreachableSince >= o.agentGoneMs) this.markGone(agent);
      } else if (agent.recovering) {
        if (now - this.leadingSince > o.agentReregisterTimeoutMs) this.markUnreachable(agent, `did not re-register within ${secs(o.agentReregisterTimeoutMs)} s of the master's start`);
      }
    }
  }

  /**
   * The agent is unreachable: offers rescinded, stream closed (a frozen process that wakes up
   * must re-register, and be reconciled, rather than carry on as if nothing happened), tasks
   * reported TASK_UNREACHABLE (partition-aware) or TASK_LOST (others).
   */
  markUnreachable(agent: AgentEntry, why: string): void {
    const m = this.m;
    if (agent.unreachableSince !== undefined) return;
    this.silence.delete(agent.id);
    m.deactivateAgent(agent, why);
    const now = m.clock.now();
    agent.unreachableSince = now;
    this.settleRecovery(agent);
    m.metrics.agentsUnreachable++;
    const message = `agent ${agent.id} (${agent.hostname}) is unreachable: ${why}`;
    let lost = this.lostTasks.get(agent.id);
    let n = 0;
    for (const rec of m.tasks.ofAgent(agent.id)) {
      n++;
      const fw = m.frameworks.get(rec.frameworkId);
      if (fw?.partitionAware) {
        // Still running as far as anyone knows: it stays in the books and returns with the agent.
        const status = m.masterStatus(rec.taskId, TaskState.TASK_UNREACHABLE, TaskStatusReason.REASON_AGENT_REMOVED, message, agent.id, rec.executorId);
        m.tasks.setState(rec, TaskState.TASK_UNREACHABLE, status);
        m.sendUpdate(fw, status);
        continue;
      }
      const status = m.masterStatus(rec.taskId, TaskState.TASK_LOST, TaskStatusReason.REASON_AGENT_REMOVED, message, agent.id, rec.executorId);
      if (!lost) this.lostTasks.set(agent.id, (lost = new Set()));
      lost.add(rec.key);
      m.setTaskState(rec, status);
      if (fw) m.sendUpdate(fw, status);
    }
    m.log.warn({ agentId: agent.id, hostname: agent.hostname, why, tasks: n }, 'agent unreachable');
    m.agentSettled(agent.id);
  }

  /**
   * Unreachable for too long: its remaining (partition-aware) tasks are TASK_GONE, it leaves
   * the books, and the registry keeps a tombstone so that it is refused if it comes back.
   */
  markGone(agent: AgentEntry): void {
    const m = this.m;
    const now = m.clock.now();
    const away = secs(now - (agent.unreachableSince ?? now));
    const message = `agent ${agent.id} (${agent.hostname}) is gone: unreachable for ${away} s`;
    for (const rec of m.tasks.ofAgent(agent.id)) {
      const fw = m.frameworks.get(rec.frameworkId);
      const state = fw?.partitionAware ? TaskState.TASK_GONE : TaskState.TASK_LOST;
      const status = m.masterStatus(rec.taskId, state, TaskStatusReason.REASON_AGENT_REMOVED, message, agent.id, rec.executorId);
      m.setTaskState(rec, status);
      if (fw) m.sendUpdate(fw, status);
    }
    m.agentGone(agent);
    for (const ex of m.tasks.dropExecutorsOf(agent.id).values()) m.unchargeExecutor(ex);
    m.agents.delete(agent.id);
    this.silence.delete(agent.id);
    m.ledger.remove(agent.id);
    this.lostTasks.delete(agent.id);
    this.recovering.delete(agent.id);
    const goneTime = now / 1000;
    this.gone.set(agent.id, goneTime);
    m.metrics.agentsGone++;
    m.log.warn({ agentId: agent.id, hostname: agent.hostname, unreachableSeconds: away }, 'agent gone');
    m.persist([
      { type: 'putAgent', agent: { id: agent.id, info: agent.info, registeredTime: agent.registeredTime, goneTime } },
      { type: 'putReservations', reservations: { agentId: agent.id, resources: [] } },
    ]).catch((e: Error) => m.log.error({ agentId: agent.id, err: e.message }, 'registry: could not mark agent gone'));
    m.agentSettled(agent.id);
  }

  /** Why a registration with this ID is refused (the agent is gone), or undefined. */
  refusal(agentId: string): string | undefined {
    const t = this.gone.get(agentId);
    if (t === undefined) return undefined;
    return `agent '${agentId}' was marked gone${t > 0 ? ` at ${new Date(t * 1000).toISOString()}` : ''} (unreachable too long); its tasks were reported TASK_GONE / TASK_LOST. Shut down, clear the work dir's agent ID and register as a new agent`;
  }

  /** Snapshot taken before an agent's re-registration rebuilds its tasks. */
  beforeReregister(agent: AgentEntry): ReturningAgent {
    const unreachable = new Set<string>();
    for (const rec of this.m.tasks.ofAgent(agent.id)) if (rec.state === TaskState.TASK_UNREACHABLE) unreachable.add(rec.key);
    return { wasUnreachable: agent.unreachableSince !== undefined, lost: this.lostTasks.get(agent.id) ?? new Set(), unreachable };
  }

  /**
   * The agent is back and its tasks are rebuilt from its report: kill what was reported LOST,
   * tell partition-aware frameworks the state of what was UNREACHABLE, answer held
   * reconciliation. `readded` are the tasks the rebuild put back in the books.
   */
  afterReregister(agent: AgentEntry, back: ReturningAgent, readded: readonly TaskRecord[]): void {
    const m = this.m;
    agent.unreachableSince = undefined;
    this.lostTasks.delete(agent.id);
    this.settleRecovery(agent);
    if (back.wasUnreachable) m.metrics.agentsReachableAgain++;
    let killed = 0;
    for (const rec of readded) {
      if (back.lost.has(rec.key)) {
        // Its framework was told TASK_LOST and may have replaced it: two copies must not run.
        agent.send({ type: AgentEventType.KILL_TASK, killTask: { frameworkId: { value: rec.frameworkId }, taskId: { value: rec.taskId }, killPolicy: rec.task.killPolicy ?? undefined } });
        killed++;
        continue;
      }
    }
    for (const rec of m.tasks.ofAgent(agent.id)) {
      if (!back.unreachable.has(rec.key) || rec.state === TaskState.TASK_UNREACHABLE) continue;
      const fw = m.frameworks.get(rec.frameworkId);
      if (!fw) continue;
      const status: TaskStatus = m.masterStatus(rec.taskId, rec.state, TaskStatusReason.REASON_RECONCILIATION,
        `agent ${agent.id} is reachable again; task is ${taskStateName(rec.state)}`, agent.id, rec.executorId);
      if (rec.latest?.healthy != null) status.healthy = rec.latest.healthy;
      if (rec.latest?.data && rec.latest.data.length) status.data = rec.latest.data;
      m.sendUpdate(fw, status);
    }
    if (back.wasUnreachable) m.log.info({ agentId: agent.id, killed, tasks: m.tasks.countOfAgent(agent.id) }, 'unreachable agent is back');
    m.agentSettled(agent.id);
  }

  private settleRecovery(agent: AgentEntry): void {
    agent.recovering = false;
    this.recovering.delete(agent.id);
  }
}

const secs = (ms: number): number => Math.round(ms / 100) / 10;

/**
 * Task reconciliation (Mesos "reconciliation"): the master's latest view of tasks, as UPDATEs
 * with reason REASON_RECONCILIATION and no uuid.
 *
 * Implicit (no tasks listed): the latest state of every task the master has for the framework,
 * UNREACHABLE ones included. Explicit (tasks listed), for each task, as Mesos answers:
 *
 * | the master knows                         | partition-aware   | others    |
 * | ---------------------------------------- | ----------------- | --------- |
 * | the task (live or completed)             | its latest state  | same      |
 * | its agent is recovering                  | *held* (below)    | *held*    |
 * | its agent is unreachable                 | TASK_UNREACHABLE  | TASK_LOST |
 * | its agent is gone                        | TASK_GONE         | TASK_LOST |
 * | its agent is registered (task not there) | TASK_GONE         | TASK_LOST |
 * | no or unknown agent ID                   | TASK_UNKNOWN      | TASK_LOST |
 *
 * *Held*: after a master (re)start the agents known from the registry have not re-registered
 * yet, so the master cannot know their tasks. Answering TASK_LOST then would make frameworks
 * relaunch work that is still running (Mesos answers nothing and lets frameworks retry). We
 * keep the question instead and answer it once the agent re-registers, or becomes unreachable
 * when `agentReregisterTimeoutSeconds` passes. A question naming no agent waits while any
 * agent is still recovering, since the task may be on any of them — stricter than Mesos, which
 * answers those at once. Held questions are bounded; past the bound they are dropped (the
 * framework asks again, as reconciliation clients must anyway).
 */
import { TaskState, TaskStatusReason, idOf, isTerminalState, type TaskStatus } from '@agora/core';
import type { FrameworkEntry } from './frameworks.js';
import type { FailureHost } from './failure-host.js';
import type { TaskRecord } from './tasks.js';

/** At most this many explicit reconciliation questions wait for recovering agents. */
export const MAX_HELD_RECONCILIATIONS = 100_000;

interface Held {
  frameworkId: string;
  taskId: string;
  agentId: string;
}

export class Reconciler {
  /** Held questions by agent ID ('' for those naming no agent). */
  private readonly held = new Map<string, Held[]>();
  private heldCount = 0;

  constructor(private readonly m: FailureHost) {}

  /** Number of questions waiting for recovering agents. */
  get pending(): number {
    return this.heldCount;
  }

  /** RECONCILE: implicit when `asked` is empty, explicit otherwise. */
  reconcile(fw: FrameworkEntry, asked: readonly { taskId?: { value?: string | null } | null; agentId?: { value?: string | null } | null }[]): void {
    if (asked.length === 0) {
      for (const rec of this.m.tasks.ofFramework(fw.id)) this.m.sendUpdate(fw, this.reconciled(rec));
      return;
    }
    for (const t of asked) {
      const taskId = idOf(t.taskId);
      const agentId = idOf(t.agentId);
      const answer = this.answer(fw, taskId, agentId);
      if (answer) this.m.sendUpdate(fw, answer);
      else this.hold({ frameworkId: fw.id, taskId, agentId });
    }
  }

  /** The answer to one explicit question now, or undefined when it must wait for a recovering agent. */
  answer(fw: FrameworkEntry, taskId: string, agentId: string): TaskStatus | undefined {
    const m = this.m;
    const R = TaskStatusReason.REASON_RECONCILIATION;
    const rec = m.tasks.get(fw.id, taskId);
    if (rec) return this.reconciled(rec);
    const done = m.tasks.getCompleted(fw.id, taskId);
    if (done && isTerminalState(done.state)) {
      return m.masterStatus(taskId, done.state ?? TaskState.TASK_LOST, R, 'reconciliation: task is terminal', idOf(done.agentId), idOf(done.executorId));
    }
    const pa = fw.partitionAware;
    const lostOr = (state: TaskState): TaskState => (pa ? state : TaskState.TASK_LOST);
    if (agentId) {
      const agent = m.agents.get(agentId);
      if (agent?.recovering) return undefined;
      if (agent && agent.unreachableSince !== undefined) {
        return m.masterStatus(taskId, lostOr(TaskState.TASK_UNREACHABLE), R, `reconciliation: agent ${agentId} is unreachable`, agentId);
      }
      if (m.goneAgents.has(agentId)) return m.masterStatus(taskId, lostOr(TaskState.TASK_GONE), R, `reconciliation: agent ${agentId} is gone`, agentId);
      if (agent) return m.masterStatus(taskId, lostOr(TaskState.TASK_GONE), R, `reconciliation: agent ${agentId} does not have task '${taskId}'`, agentId);
    } else if (m.recoveringAgents.size > 0) {
      return undefined;
    }
    return m.masterStatus(taskId, lostOr(TaskState.TASK_UNKNOWN), R, `reconciliation: task '${taskId}' is unknown to the master`, agentId || undefined);
  }

  /** A live task's latest state as a reconciliation update. */
  reconciled(rec: TaskRecord): TaskStatus {
    const s = this.m.masterStatus(rec.taskId, rec.state, TaskStatusReason.REASON_RECONCILIATION, 'reconciliation', rec.agentId, rec.executorId);
    if (rec.latest) {
      if (rec.latest.message) s.message = rec.latest.message;
      if (rec.latest.healthy != null) s.healthy = rec.latest.healthy;
      if (rec.latest.data && rec.latest.data.length) s.data = rec.latest.data;
    }
    return s;
  }

  /**
   * The agent stopped being a question mark (it re-registered, became unreachable or gone):
   * answer what waited for it, and what named no agent once no agent is recovering.
   */
  agentSettled(agentId: string): void {
    if (this.heldCount === 0) return;
    this.release(agentId);
    if (this.m.recoveringAgents.size === 0) this.release('');
  }

  private hold(q: Held): void {
    if (this.heldCount >= MAX_HELD_RECONCILIATIONS) {
      this.m.log.warn({ frameworkId: q.frameworkId, taskId: q.taskId }, 'too many reconciliation questions held; dropped (the framework should ask again)');
      return;
    }
    let list = this.held.get(q.agentId);
    if (!list) this.held.set(q.agentId, (list = []));
    list.push(q);
    this.heldCount++;
    this.m.metrics.reconciliationsHeld++;
  }

  private release(key: string): void {
    const list = this.held.get(key);
    if (!list) return;
    this.held.delete(key);
    this.heldCount -= list.length;
    for (const q of list) {
      const fw = this.m.frameworks.get(q.frameworkId);
      if (!fw || fw.removed) continue;
      const answer = this.answer(fw, q.taskId, q.agentId);
      if (answer) this.m.sendUpdate(fw, answer);
      else this.hold(q);
    }
  }
}

/**
 * The task table: every non-terminal task the master knows, indexed by agent and framework,
 * plus a bounded list of completed ones (for the operator API and reconciliation), and the
 * custom executors running on agents with the resources they hold.
 */
import { isTerminalState, taskStateName, TaskState, type Resource, type Task, type TaskStatus } from '@agora/core';
import { index } from './multi-index.js';

/** Larger status data is dropped from completed tasks' records (it was delivered already). */
const MAX_KEPT_STATUS_DATA = 4096;
/** Status updates kept per task (the newest last), as Mesos keeps them in Task.statuses. */
const MAX_KEPT_STATUSES = 8;

/** A task the master tracks. */
export interface TaskRecord {
  readonly key: string;
  readonly frameworkId: string;
  readonly taskId: string;
  readonly agentId: string;
  readonly executorId: string;
  /** Key of the custom/default executor holding resources for it, if any. */
  readonly executorKey: string | undefined;
  /** Resources it uses, without allocation roles. */
  readonly resources: Resource[];
  /** The wire form kept current (state, statuses). */
  readonly task: Task;
  state: TaskState;
  latest: TaskStatus | undefined;
  /** The command line it was launched with (operators see it; absent for re-registered tasks). */
  readonly command?: string;
  /** The OS user it was launched as (its sandbox's owner for ACLs; absent for re-registered tasks). */
  readonly user?: string;
}

/** Told of every task added (`previous` undefined) and every new state or status. */
export type TaskObserver = (rec: TaskRecord, previous: TaskState | undefined) => void;

interface ExecutorRecord {
  resources: Resource[];
  /** Its live tasks. */
  live: number;
  frameworkId: string;
  /** The role its resources are charged to its framework under; undefined: not charged (restored). */
  role: string | undefined;
  /** The agent reported it gone while tasks of it were still live here: freed with the last. */
  exited: boolean;
}

/** An executor's resources, freed because it is gone (uncharge them under `role`, if set). */
export interface FreedExecutor {
  readonly frameworkId: string;
  readonly resources: Resource[];
  readonly role: string | undefined;
}

export class TaskTable {
  private readonly live = new Map<string, TaskRecord>();
  private readonly byAgent = new Map<string, Set<string>>();
  private readonly byFramework = new Map<string, Set<string>>();
  private readonly completed = new Map<string, Task>();
  /**
   * Arrival order of completed keys, as a ring. Evicting "the oldest key of a Map" would make
   * V8 skip every deleted slot at the front on each eviction; the ring keeps it O(1).
   */
  private readonly ring: (string | undefined)[] = [];
  private ringHead = 0;
  private readonly executors = new Map<string, ExecutorRecord>();
  /** Agent ID → keys of its executors, so per-agent questions do not scan every executor. */
  private readonly executorsByAgent = new Map<string, Set<string>>();
  /** Live tasks by state, for gauges. */
  readonly stateCounts = new Map<TaskState, number>();
  /** Set by the master's books to feed its change events (see events.ts). */
  observer: TaskObserver | undefined;

  constructor(private readonly maxCompleted: number) {}

  static key(frameworkId: string, taskId: string): string {
    return `${frameworkId}\u0000${taskId}`;
  }

  static executorKey(agentId: string, frameworkId: string, executorId: string): string {
    return `${agentId}\u0000${frameworkId}\u0000${executorId}`;
  }

  get size(): number {
    return this.live.size;
  }

  get(frameworkId: string, taskId: string): TaskRecord | undefined {
    return this.live.get(TaskTable.key(frameworkId, taskId));
  }

  getCompleted(frameworkId: string, taskId: string): Task | undefined {
    return this.completed.get(TaskTable.key(frameworkId, taskId));
  }

  /** True when the executor already runs on the agent (its resources are already held). */
  executorRunning(key: string): boolean {
    return this.executors.has(key);
  }

  /**
   * Adds a task. When it names an executor not yet running, `executorResources` are charged to
   * that executor (under `role`) and returned (the caller takes them from the ledger); otherwise [].
   * The executor then holds them until the agent reports it gone (`executorExited`), as in
   * Mesos: an idle executor still runs, and still uses what it asked for.
   */
  add(rec: TaskRecord, executorResources: readonly Resource[] = [], role?: string): Resource[] {
    this.live.set(rec.key, rec);
    index(this.byAgent, rec.agentId, rec.key, true);
    index(this.byFramework, rec.frameworkId, rec.key, true);
    this.count(rec.state, 1);
    this.observer?.(rec, undefined);
    if (!rec.executorKey) return [];
    const ex = this.executors.get(rec.executorKey);
    if (ex) {
      ex.live++;
      return [];
    }
    this.executors.set(rec.executorKey, { frameworkId: rec.frameworkId, resources: [...executorResources], live: 1, role, exited: false });
    index(this.executorsByAgent, rec.agentId, rec.executorKey, true);
    return [...executorResources];
  }

  /** Records a new state of a live task. */
  setState(rec: TaskRecord, state: TaskState, status?: TaskStatus): void {
    const previous = rec.state;
    if (rec.state !== state) {
      this.count(rec.state, -1);
      this.count(state, 1);
    }
    rec.state = state;
    rec.task.state = state;
    if (status) {
      rec.latest = status;
      // A short history for `agora task describe`; only the newest keeps its data payload.
      const older = (rec.task.statuses ?? []).slice(-(MAX_KEPT_STATUSES - 1)).map((st) => (st.data?.length ? { ...st, data: undefined } : st));
      rec.task.statuses = [...older, status];
      if (status.uuid && status.uuid.length > 0) {
        rec.task.statusUpdateUuid = status.uuid;
        rec.task.statusUpdateState = state;
      }
    }
    if (status || previous !== state) this.observer?.(rec, previous);
  }

  /**
   * Removes a task that reached a terminal state (or was dropped with its framework) and keeps
   * it among the completed. Returns the resources it released: its own, plus its executor's
   * (also as `executor`) when it was the last task of an executor already reported gone.
   */
  remove(rec: TaskRecord): { resources: Resource[]; executor?: FreedExecutor } {
    if (!this.live.delete(rec.key)) return { resources: [] };
    index(this.byAgent, rec.agentId, rec.key, false);
    index(this.byFramework, rec.frameworkId, rec.key, false);
    this.count(rec.state, -1);
    this.archive(rec);
    const released = [...rec.resources];
    if (rec.executorKey) {
      const ex = this.executors.get(rec.executorKey);
      if (ex && --ex.live <= 0 && ex.exited) {
        this.executors.delete(rec.executorKey);
        index(this.executorsByAgent, rec.agentId, rec.executorKey, false);
        released.push(...ex.resources);
        return { resources: released, executor: { frameworkId: ex.frameworkId, resources: ex.resources, role: ex.role } };
      }
    }
    return { resources: released };
  }

  /** Takes a live task out of the table without archiving it or touching executors (re-registration). */
  detach(rec: TaskRecord): void {
    if (!this.live.delete(rec.key)) return;
    index(this.byAgent, rec.agentId, rec.key, false);
    index(this.byFramework, rec.frameworkId, rec.key, false);
    this.count(rec.state, -1);
  }

  /** Keeps a finished task among the completed (bounded; the oldest goes first). */
  archive(rec: TaskRecord): void {
    if (this.maxCompleted <= 0) return;
    const had = this.completed.has(rec.key);
    // The framework already received the data with the update; keeping bulky payloads (word
    // counts, results) for thousands of completed tasks would grow the master without bound.
    if (rec.task.statuses?.some((st) => (st.data?.length ?? 0) > MAX_KEPT_STATUS_DATA)) {
      rec.task.statuses = rec.task.statuses.map((st) => ((st.data?.length ?? 0) > MAX_KEPT_STATUS_DATA ? { ...st, data: undefined } : st));
    }
    this.completed.set(rec.key, rec.task);
    // A reused task ID replaces its older entry in place; its old ring slot then evicts it early, harmlessly.
    if (had) return;
    if (this.ring.length < this.maxCompleted) {
      this.ring.push(rec.key);
      return;
    }
    const oldest = this.ring[this.ringHead];
    if (oldest !== undefined && oldest !== rec.key) this.completed.delete(oldest);
    this.ring[this.ringHead] = rec.key;
    this.ringHead = (this.ringHead + 1) % this.maxCompleted;
  }

  ofAgent(agentId: string): TaskRecord[] {
    return [...(this.byAgent.get(agentId) ?? [])].map((k) => this.live.get(k) as TaskRecord);
  }

  ofFramework(frameworkId: string): TaskRecord[] {
    return [...(this.byFramework.get(frameworkId) ?? [])].map((k) => this.live.get(k) as TaskRecord);
  }

  countOfAgent(agentId: string): number {
    return this.byAgent.get(agentId)?.size ?? 0;
  }

  countOfFramework(frameworkId: string): number {
    return this.byFramework.get(frameworkId)?.size ?? 0;
  }

  /** Executor IDs of a framework's running executors on an agent (offers list them). */
  executorIdsOn(agentId: string, frameworkId: string): string[] {
    const keys = this.executorsByAgent.get(agentId);
    if (!keys) return [];
    const prefix = `${agentId}\u0000${frameworkId}\u0000`;
    const out: string[] = [];
    for (const k of keys) if (k.startsWith(prefix)) out.push(k.slice(prefix.length));
    return out;
  }

  /** Resources held by live tasks and executors on one agent. */
  usedOn(agentId: string): Resource[] {
    const out: Resource[] = [];
    for (const rec of this.ofAgent(agentId)) out.push(...rec.resources);
    for (const k of this.executorsByAgent.get(agentId) ?? []) out.push(...(this.executors.get(k)?.resources ?? []));
    return out;
  }

  /**
   * Forgets every executor record of an agent (before rebuilding it from a registration, or
   * with the agent); returns them by key, so the caller can keep or uncharge their charges.
   */
  dropExecutorsOf(agentId: string): Map<string, FreedExecutor> {
    const out = new Map<string, FreedExecutor>();
    for (const k of this.executorsByAgent.get(agentId) ?? []) {
      const ex = this.executors.get(k);
      if (ex) out.set(k, { frameworkId: ex.frameworkId, resources: ex.resources, role: ex.role });
      this.executors.delete(k);
    }
    this.executorsByAgent.delete(agentId);
    return out;
  }

  /**
   * Re-creates an executor record from an agent's registration, before its tasks are re-added
   * (each re-added task then counts toward it). It holds its resources until the agent reports
   * it gone, idle or not.
   */
  restoreExecutor(agentId: string, key: string, frameworkId: string, resources: readonly Resource[], role?: string): void {
    if (this.executors.has(key)) return;
    this.executors.set(key, { frameworkId, resources: [...resources], live: 0, role, exited: false });
    index(this.executorsByAgent, agentId, key, true);
  }

  /**
   * The agent says the executor is gone. Returns what it frees now; when tasks of it are still
   * live here (their terminal updates are on their way), it is freed with the last of them.
   */
  executorExited(agentId: string, key: string): FreedExecutor | undefined {
    const ex = this.executors.get(key);
    if (!ex) return undefined;
    if (ex.live > 0) {
      ex.exited = true;
      return undefined;
    }
    this.executors.delete(key);
    index(this.executorsByAgent, agentId, key, false);
    return { frameworkId: ex.frameworkId, resources: ex.resources, role: ex.role };
  }

  allLive(): IterableIterator<TaskRecord> {
    return this.live.values();
  }

  allCompleted(): IterableIterator<Task> {
    return this.completed.values();
  }

  get completedCount(): number {
    return this.completed.size;
  }

  private count(state: TaskState, d: number): void {
    const n = (this.stateCounts.get(state) ?? 0) + d;
    if (n > 0) this.stateCounts.set(state, n);
    else this.stateCounts.delete(state);
  }
}

/** A task's state name for metrics and messages. */
export function stateName(s: TaskState): string {
  return taskStateName(s);
}

export { isTerminalState, TaskState };

/**
 * Everything the agent knows about its frameworks, executors and tasks, in one place.
 *
 * The `durable` part of each record (IDs, infos, latest state, sandbox) is what a checkpoint
 * would write and what re-registration reports; the `runtime` part (process handles, timers,
 * streams) is rebuilt on recovery. Keeping them side by side in these records, rather than
 * spread over closures, is the seam for checkpoint/recovery.
 */
import {
  TaskState,
  isTerminalState,
  type ExecutorInfo,
  type FrameworkInfo,
  type TaskGroupInfo,
  type TaskInfo,
  type TimerHandle,
  type agora,
} from '@agora/core';
import type { BatchWriter } from '@agora/core';
import type { Limitation } from './isolation/isolator.js';
import type { RunningProcess } from './runner.js';

/** command: built-in command executor (one task); default: built-in task-group executor; custom: a framework's executor process. */
export type ExecutorKind = 'command' | 'default' | 'custom';

/** A process the agent started, as checkpointed: enough to find it again after a restart. */
export interface ProcIdentity {
  pid: number;
  /** /proc/PID/stat start time; with the pid, tells our process from a pid reused since. */
  startTime: number;
  /** Where its waiting wrapper writes the exit code (see runner-execa.ts). */
  exitFile: string;
}

/**
 * Told about every durable change of the state, in order (the checkpoint writes it down). The
 * runtime half of the records is never reported.
 */
export interface StateJournal {
  framework(f: FrameworkRecord): void;
  executor(e: ExecutorRecord): void;
  task(t: TaskRecord): void;
  /** A task's (or custom executor's) process started: its identity is now known. */
  process(owner: TaskRecord | ExecutorRecord): void;
  /** A kill of the task began: its exit means TASK_KILLED, even after a restart. */
  killing(t: TaskRecord): void;
  taskRemoved(t: TaskRecord): void;
  executorRemoved(e: ExecutorRecord): void;
}

export interface TaskRecord {
  readonly key: string;
  readonly frameworkId: string;
  readonly taskId: string;
  readonly executorId: string;
  /** The executor run the task was launched in. */
  readonly runId: string;
  readonly info: TaskInfo;
  /** Latest state reported for the task (STAGING until the first update). */
  state: TaskState;
  /** uuid and state of the latest update (re-registration reports them). */
  latestUuid: Uint8Array | undefined;
  launchedAt: number;
  /** Working directory of the task's process (built-in executors). */
  sandbox: string | undefined;
  /** Its process (built-in executors), once started. */
  procId: ProcIdentity | undefined;
  // ---- runtime ----
  /** Where a built-in executor's task is in its launch (a kill acts differently in each). */
  phase: 'staging' | 'fetching' | 'spawning' | 'running' | 'exited';
  proc: RunningProcess | undefined;
  /** Set once a kill was asked: the exit then means TASK_KILLED. */
  killing: { graceMs: number; timer: TimerHandle | undefined } | undefined;
  /** Tasks launched together in one RUN_TASK_GROUP (default executor): one failing kills the rest. */
  group: Set<TaskRecord> | undefined;
  /** Its container (isolation/), while one exists; `limitation` once a watched limit was hit. */
  container?: ContainerRuntime | undefined;
}

/** A live container of a task or custom executor. */
export interface ContainerRuntime {
  limitation: Limitation | undefined;
}

export interface CustomExecutorRuntime {
  proc: RunningProcess | undefined;
  /** Events to the executor, while it is subscribed. */
  writer: BatchWriter<agora.v1.ExecutorEvent.$Properties, agora.v1.ExecutorEventBatch.$Properties> | undefined;
  /** Cancels the current subscription's stream. */
  endStream: (() => void) | undefined;
  /** Launches waiting for the executor to subscribe. */
  queued: Array<{ task: TaskInfo } | { group: TaskGroupInfo }>;
  registrationTimer: TimerHandle | undefined;
  /** Set by SHUTDOWN_EXECUTOR / SHUTDOWN_FRAMEWORK: its tasks end as KILLED, not FAILED. */
  shuttingDown: boolean;
  shutdownTimer: TimerHandle | undefined;
  /** The process exited (or never started). */
  gone: boolean;
  /** Its container (isolation/), while one exists. */
  container?: ContainerRuntime | undefined;
}

export interface ExecutorRecord {
  readonly key: string;
  readonly frameworkId: string;
  readonly executorId: string;
  readonly kind: ExecutorKind;
  readonly info: ExecutorInfo;
  readonly runId: string;
  readonly sandbox: string;
  readonly tasks: Map<string, TaskRecord>;
  custom: CustomExecutorRuntime | undefined;
  /** The executor's own process (custom executors), once started. */
  procId: ProcIdentity | undefined;
}

export interface FrameworkRecord {
  readonly id: string;
  info: FrameworkInfo;
}

export const taskKey = (frameworkId: string, taskId: string): string => `${frameworkId}\u0000${taskId}`;
export const executorKey = (frameworkId: string, executorId: string): string => `${frameworkId}\u0000${executorId}`;

export class AgentState {
  readonly frameworks = new Map<string, FrameworkRecord>();
  readonly executors = new Map<string, ExecutorRecord>();
  readonly tasks = new Map<string, TaskRecord>();
  /** Where durable changes are reported (the checkpoint); none in a bare state. */
  journal: StateJournal | undefined;
  /** Told when an executor is forgotten (its process gone, its tasks done): the master frees its resources. */
  onExecutorRemoved: ((e: ExecutorRecord) => void) | undefined;

  /** Records (or refreshes) a framework's info. */
  framework(info: FrameworkInfo): FrameworkRecord {
    const id = info.id?.value ?? '';
    let f = this.frameworks.get(id);
    if (!f) {
      f = { id, info };
      this.frameworks.set(id, f);
    } else {
      f.info = info;
    }
    this.journal?.framework(f);
    return f;
  }

  task(frameworkId: string, taskId: string): TaskRecord | undefined {
    return this.tasks.get(taskKey(frameworkId, taskId));
  }

  executor(frameworkId: string, executorId: string): ExecutorRecord | undefined {
    return this.executors.get(executorKey(frameworkId, executorId));
  }

  addExecutor(e: Omit<ExecutorRecord, 'key' | 'tasks' | 'procId'> & { procId?: ProcIdentity }): ExecutorRecord {
    const rec: ExecutorRecord = { procId: undefined, ...e, key: executorKey(e.frameworkId, e.executorId), tasks: new Map() };
    this.executors.set(rec.key, rec);
    this.journal?.executor(rec);
    return rec;
  }

  /**
   * Adds a task to an executor. `sandbox` and `group` are part of the durable record, hence
   * given here rather than set afterwards.
   */
  addTask(executor: ExecutorRecord, info: TaskInfo, now: number, extra: { sandbox?: string; group?: Set<TaskRecord> } = {}): TaskRecord {
    const taskId = info.taskId?.value ?? '';
    const rec: TaskRecord = {
      key: taskKey(executor.frameworkId, taskId),
      frameworkId: executor.frameworkId,
      taskId,
      executorId: executor.executorId,
      runId: executor.runId,
      info,
      state: TaskState.TASK_STAGING,
      latestUuid: undefined,
      launchedAt: now,
      sandbox: extra.sandbox,
      procId: undefined,
      phase: 'staging',
      proc: undefined,
      killing: undefined,
      group: extra.group,
    };
    extra.group?.add(rec);
    this.tasks.set(rec.key, rec);
    executor.tasks.set(taskId, rec);
    this.journal?.task(rec);
    return rec;
  }

  /** A task's or executor's process started; its identity is checkpointed when known. */
  started(owner: TaskRecord | ExecutorRecord, pid: number, startTime: number | undefined, exitFile: string | undefined): void {
    if (startTime === undefined || !exitFile) return;
    owner.procId = { pid, startTime, exitFile };
    this.journal?.process(owner);
  }

  /** Marks a task as being killed (its exit then means TASK_KILLED). */
  killing(rec: TaskRecord, graceMs: number): void {
    rec.killing = { graceMs, timer: undefined };
    this.journal?.killing(rec);
  }

  /** Forgets a task; its executor and framework go too once nothing is left in them. */
  removeTask(rec: TaskRecord): void {
    if (this.tasks.get(rec.key) !== rec) return;
    this.tasks.delete(rec.key);
    this.journal?.taskRemoved(rec);
    const e = this.executor(rec.frameworkId, rec.executorId);
    if (!e || e.tasks.get(rec.taskId) !== rec) return;
    e.tasks.delete(rec.taskId);
    this.maybeRemoveExecutor(e);
  }

  /** Removes an executor with no tasks and no live process. */
  maybeRemoveExecutor(e: ExecutorRecord): void {
    if (e.tasks.size > 0) return;
    if (e.kind === 'custom' && e.custom && !e.custom.gone) return;
    if (this.executors.get(e.key) !== e) return;
    this.executors.delete(e.key);
    this.journal?.executorRemoved(e);
    this.onExecutorRemoved?.(e);
    for (const x of this.executors.values()) if (x.frameworkId === e.frameworkId) return;
    for (const t of this.tasks.values()) if (t.frameworkId === e.frameworkId) return;
    this.frameworks.delete(e.frameworkId);
  }

  /** Tasks of a framework (every executor). */
  tasksOf(frameworkId: string): TaskRecord[] {
    return [...this.tasks.values()].filter((t) => t.frameworkId === frameworkId);
  }
}

/** True once a task's terminal update has been issued. */
export const isDone = (t: TaskRecord): boolean => isTerminalState(t.state);

/**
 * Agent recovery: from the checkpoint back to a live agent, after a crash or `kill -9`.
 *
 *   load journal ─▶ replay() ─▶ rebuild(): AgentState + pending updates (no process touched)
 *     ─▶ checkpoint compacted (a fresh snapshot) ─▶ reattach(): for every unfinished task and
 *        custom executor, look its process up by (pid, start time):
 *          alive   → re-attached: watched by polling /proc (we are no longer its parent, so
 *                    no exit event will come), killed through its process group as before;
 *          exited  → its real exit code from the exit file its waiting wrapper wrote
 *                    (runner-execa.ts), reported as TASK_FINISHED / FAILED / KILLED now;
 *          reused  → same, but its pid belongs to someone else now: never signalled.
 *     ─▶ REGISTER reports every task (running, or terminal with unacknowledged updates); the
 *        pending updates are re-sent in order once registered.
 */
import { readFileSync } from 'node:fs';
import { TaskState, TaskStatusReason, TaskStatusSource, isTerminalState, type Clock, type TimerHandle } from '@agora/core';
import type { RecoveredState } from './checkpoint.js';
import { emit, type AgentContext } from './context.js';
import type { BuiltinExecutors } from './executor-builtin.js';
import type { CustomExecutors } from './executor-custom.js';
import { processFate, readProcStat, type ProcStat } from './proc-stat.js';
import type { ProcessExit, RunningProcess } from './runner.js';
import { signalProcessGroup } from './runner-execa.js';
import { executorKey, isDone, type ExecutorRecord, type ProcIdentity, type TaskRecord } from './state.js';

/**
 * The exit code a waiting wrapper wrote, or undefined when there is none (the wrapper itself
 * was SIGKILLed, or the task ran unwrapped). Anything but 0–255 is no exit code.
 */
export function readExitFile(file: string): number | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (!/^\d{1,3}$/.test(text)) return undefined;
    const code = Number(text);
    return code <= 255 ? code : undefined;
  } catch {
    return undefined;
  }
}

/** The exit of a process known only by its identity: its exit file, else (killed) SIGKILL. */
function exitOf(id: ProcIdentity): ProcessExit {
  const code = readExitFile(id.exitFile);
  // The wrapper traps every signal a kill sends first (TERM, INT, HUP, QUIT): when it left no
  // exit code, something killed it outright, i.e. SIGKILL.
  return code !== undefined ? { code, signal: null } : { code: null, signal: 'SIGKILL' };
}

/**
 * Watches processes the agent did not start in this life (not its children, so Node reports
 * no exit): one timer polls /proc for all of them. A zombie counts as exited.
 */
export class ProcessWatcher {
  private readonly watched = new Map<number, { id: ProcIdentity; done: (e: ProcessExit) => void }>();
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(private readonly clock: Clock, private readonly intervalMs = 200, private readonly stat: (pid: number) => ProcStat | undefined = readProcStat) {}

  /** A RunningProcess for a re-attached process. */
  watch(id: ProcIdentity): RunningProcess {
    let done!: (e: ProcessExit) => void;
    const exited = new Promise<ProcessExit>((r) => { done = r; });
    this.watched.set(id.pid, { id, done });
    this.arm();
    return {
      pid: id.pid,
      startTime: Promise.resolve(id.startTime),
      exited,
      // Only while the pid still names our process (or its zombie): never a stranger's group.
      signalGroup: (signal) => processFate(id.pid, id.startTime, this.stat) !== 'reused' && signalProcessGroup(id.pid, signal),
    };
  }

  /** Number of processes being watched. */
  get size(): number {
    return this.watched.size;
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Checks every watched process once (the timer does this; tests may call it). */
  poll(): void {
    for (const [pid, w] of [...this.watched]) {
      if (processFate(pid, w.id.startTime, this.stat) === 'alive') continue;
      this.watched.delete(pid);
      w.done(exitOf(w.id));
    }
  }

  private arm(): void {
    if (this.timer || this.stopped || this.watched.size === 0) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.poll();
      this.arm();
    }, this.intervalMs);
  }
}

/**
 * Rebuilds the agent's state and pending updates from a replayed checkpoint. Touches no
 * process and reports nothing (the journal is not attached yet): reattach() does that.
 */
export function rebuild(ctx: AgentContext, rs: RecoveredState): void {
  const { state } = ctx;
  for (const [id, info] of rs.frameworks) state.frameworks.set(id, { id, info });
  const runs = new Map<string, ExecutorRecord>();
  const tasksOfRun = new Set<string>();
  for (const t of rs.tasks.values()) tasksOfRun.add(`${t.frameworkId}\u0000${t.executorId}\u0000${t.runId}`);
  for (const [key, e] of rs.executors) {
    // Built-in executors live only through their tasks.
    if (e.kind !== 'custom' && !tasksOfRun.has(key)) continue;
    const rec = state.addExecutor({
      frameworkId: e.frameworkId,
      executorId: e.executorId,
      kind: e.kind,
      info: e.info,
      runId: e.runId,
      sandbox: e.sandbox,
      custom: e.kind === 'custom'
        ? { proc: undefined, writer: undefined, endStream: undefined, queued: [], registrationTimer: undefined, shuttingDown: false, shutdownTimer: undefined, gone: false }
        : undefined,
      ...(e.procId ? { procId: e.procId } : {}),
    });
    runs.set(key, rec);
    // An older run keeps its tasks but not the executor's name (as executor-custom.ts does).
    if (rs.latestRun.get(executorKey(e.frameworkId, e.executorId)) !== key) {
      const latest = runs.get(rs.latestRun.get(rec.key) ?? '');
      if (latest) state.executors.set(rec.key, latest);
      else state.executors.delete(rec.key);
    }
  }
  const groups = new Map<string, Set<TaskRecord>>();
  for (const t of rs.tasks.values()) {
    const exec = runs.get(`${t.frameworkId}\u0000${t.executorId}\u0000${t.runId}`);
    if (!exec) continue;
    let group: Set<TaskRecord> | undefined;
    if (t.group) {
      group = groups.get(t.group) ?? new Set();
      groups.set(t.group, group);
    }
    const rec = state.addTask(exec, t.info, t.launchedAt, { ...(t.sandbox !== undefined ? { sandbox: t.sandbox } : {}), ...(group ? { group } : {}) });
    rec.state = t.state;
    rec.latestUuid = t.latestUuid;
    rec.procId = t.procId;
    if (t.killGraceMs !== undefined) rec.killing = { graceMs: t.killGraceMs, timer: undefined };
    // A task that was never started (or had not checkpointed its process) runs nothing.
    rec.phase = isTerminalState(t.state) ? 'exited' : t.procId ? 'running' : 'staging';
  }
  for (const u of rs.updates) ctx.updates.restore(u.frameworkId, u.status);
}

/** What reattach() found, for the log line and tests. */
export interface ReattachSummary {
  reattached: number;
  exited: number;
  neverStarted: number;
  executorsReattached: number;
  executorsGone: number;
}

/**
 * Finds every unfinished task's and custom executor's process again and re-attaches to it, or
 * reports how it ended. Runs with the journal attached, so what it reports is checkpointed.
 */
export function reattach(ctx: AgentContext, builtin: BuiltinExecutors, custom: CustomExecutors, watcher: ProcessWatcher): ReattachSummary {
  const sum: ReattachSummary = { reattached: 0, exited: 0, neverStarted: 0, executorsReattached: 0, executorsGone: 0 };
  const { state } = ctx;
  for (const t of [...state.tasks.values()]) {
    if (isDone(t)) {
      // Terminal, every update acknowledged, but the agent died before forgetting it.
      if (ctx.updates.pending(t.frameworkId, t.taskId).length === 0) state.removeTask(t);
      continue;
    }
    const e = state.executor(t.frameworkId, t.executorId);
    // Tasks of custom executors live and die with their executor (below).
    if (!e || e.kind === 'custom' || e.runId !== t.runId) continue;
    if (!t.procId) {
      sum.neverStarted++;
      t.phase = 'exited';
      emit(ctx, t, TaskState.TASK_FAILED, {
        message: 'the agent restarted before the task started',
        reason: TaskStatusReason.REASON_AGENT_RESTARTED,
        source: TaskStatusSource.SOURCE_AGENT,
      });
      continue;
    }
    const fate = processFate(t.procId.pid, t.procId.startTime);
    if (fate === 'alive') {
      sum.reattached++;
      builtin.adoptContainer(t);
      builtin.attach(t, watcher.watch(t.procId));
    } else {
      sum.exited++;
      const code = readExitFile(t.procId.exitFile);
      builtin.exitedWhileDown(t, code === undefined ? undefined : { code, signal: null }, fate === 'exited');
    }
  }
  for (const e of [...state.executors.values()]) {
    if (e.kind !== 'custom') continue;
    const alive = e.procId && processFate(e.procId.pid, e.procId.startTime) === 'alive';
    if (alive) {
      sum.executorsReattached++;
      custom.adoptContainer(e);
    } else {
      sum.executorsGone++;
    }
    custom.recovered(e, alive && e.procId ? watcher.watch(e.procId) : undefined);
  }
  // Tasks of an older custom executor run that never finished: that run is gone.
  for (const t of [...state.tasks.values()]) {
    if (isDone(t)) continue;
    const e = state.executor(t.frameworkId, t.executorId);
    if (!e || e.runId !== t.runId) {
      emit(ctx, t, TaskState.TASK_FAILED, { message: 'executor is gone', reason: TaskStatusReason.REASON_EXECUTOR_TERMINATED, source: TaskStatusSource.SOURCE_AGENT });
    }
  }
  return sum;
}

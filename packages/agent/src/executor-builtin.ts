/**
 * The agent's built-in executors, run inside the agent (no executor process of their own):
 *  - the command executor: one task = one process (executor ID = task ID), Mesos' command
 *    executor semantics: STARTING, RUNNING once spawned, then FINISHED / FAILED / KILLED;
 *  - the default executor (RUN_TASK_GROUP): each task of the group is its own process in
 *    `<sandbox>/tasks/<taskId>`; when one fails or is killed the others are killed.
 *
 * The launch path is the hot path of the agent (hundreds per second): one mkdir, two opens
 * and a spawn, with STARTING and RUNNING queued in the same turn of the event loop so they
 * leave in one frame.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import {
  ExecutorInfoType,
  FrameworkCapability,
  TaskState,
  TaskStatusReason,
  TaskStatusSource,
  type CommandInfo,
  type ExecutorInfo,
  type TaskGroupInfo,
  type TaskInfo,
} from '@agora/core';
import { emit, type AgentContext } from './context.js';
import { fetchUris } from './fetcher.js';
import { chownTree } from './isolation/chown.js';
import type { ContainerLaunch, Limitation } from './isolation/index.js';
import type { ProcessExit, RunningProcess } from './runner.js';
import { canWrap, signalProcessGroup } from './runner-execa.js';
import { commandArgv, sandboxDir, taskEnvironment } from './sandbox.js';
import { isDone, type ExecutorRecord, type FrameworkRecord, type TaskRecord } from './state.js';

/** "exited with code 3" / "terminated by signal SIGKILL", and the exit code to report. */
export function describeExit(exit: ProcessExit): { message: string; exitCode: number } {
  if (exit.code !== null) return { message: `exited with code ${exit.code}`, exitCode: exit.code };
  const signo = exit.signal ? (osConstants.signals as Record<string, number>)[exit.signal] ?? 0 : 0;
  // Shells report death by signal N as 128+N; frameworks see the same number here.
  return { message: `terminated by signal ${exit.signal ?? 'unknown'}`, exitCode: 128 + signo };
}

export class BuiltinExecutors {
  constructor(private readonly ctx: AgentContext) {}

  /** RUN_TASK without an executor: the command executor. */
  runCommandTask(framework: FrameworkRecord, task: TaskInfo): void {
    const taskId = task.taskId?.value ?? '';
    const info: ExecutorInfo = {
      type: ExecutorInfoType.DEFAULT,
      executorId: { value: taskId },
      frameworkId: { value: framework.id },
      name: `command executor of ${taskId}`,
    };
    const exec = this.newExecutor(framework.id, taskId, 'command', info);
    const rec = this.ctx.state.addTask(exec, task, this.ctx.o.clock.now(), { sandbox: exec.sandbox });
    emit(this.ctx, rec, TaskState.TASK_STARTING);
    this.prepare(rec, task.command ?? {});
  }

  /** RUN_TASK_GROUP with a DEFAULT (or unset) executor: the default executor. */
  runTaskGroup(framework: FrameworkRecord, executor: ExecutorInfo, group: TaskGroupInfo): void {
    const executorId = executor.executorId?.value ?? '';
    let exec = this.ctx.state.executor(framework.id, executorId);
    if (!exec || exec.kind !== 'default') exec = this.newExecutor(framework.id, executorId, 'default', { ...executor, type: ExecutorInfoType.DEFAULT });
    const members = new Set<TaskRecord>();
    const now = this.ctx.o.clock.now();
    for (const task of group.tasks ?? []) {
      const sandbox = path.join(exec.sandbox, 'tasks', task.taskId?.value ?? '');
      mkdirSync(sandbox, { recursive: true });
      chmodSync(sandbox, 0o700);
      const rec = this.ctx.state.addTask(exec, task, now, { sandbox, group: members });
      emit(this.ctx, rec, TaskState.TASK_STARTING);
    }
    for (const rec of members) this.prepare(rec, rec.info.command ?? {});
  }

  /**
   * Kills a task: SIGTERM to its process group, SIGKILL after `graceMs`; its exit then reports
   * TASK_KILLED. A task still fetching is killed at once (nothing runs yet).
   */
  kill(rec: TaskRecord, graceMs: number, framework: FrameworkRecord | undefined): void {
    if (isDone(rec) || rec.killing) return;
    this.ctx.state.killing(rec, graceMs);
    if (rec.phase === 'staging' || rec.phase === 'fetching') {
      emit(this.ctx, rec, TaskState.TASK_KILLED, { message: 'killed before it started', reason: TaskStatusReason.REASON_TASK_KILLED_DURING_LAUNCH });
      rec.phase = 'exited';
      return;
    }
    if (framework?.info.capabilities?.includes(FrameworkCapability.TASK_KILLING_STATE)) emit(this.ctx, rec, TaskState.TASK_KILLING);
    // 'spawning': the signal goes out as soon as the process exists (see start()).
    if (rec.proc) this.signal(rec);
  }

  private signal(rec: TaskRecord): void {
    const proc = rec.proc;
    const k = rec.killing;
    if (!proc || !k) return;
    proc.signalGroup('SIGTERM');
    k.timer = this.ctx.o.clock.setTimeout(() => {
      this.ctx.log.info({ taskId: rec.taskId, graceMs: k.graceMs }, 'task outlived its grace period; sending SIGKILL');
      proc.signalGroup('SIGKILL');
    }, k.graceMs);
  }

  private newExecutor(frameworkId: string, executorId: string, kind: 'command' | 'default', info: ExecutorInfo): ExecutorRecord {
    const runId = randomUUID();
    const sandbox = sandboxDir(this.ctx.o.workDir, this.ctx.agentId(), frameworkId, executorId, runId);
    mkdirSync(sandbox, { recursive: true });
    // A command task's sandbox is closed at once (its user takes it over at launch); a default
    // executor's only lets its tasks' users through to their own `tasks/<id>` sandboxes.
    chmodSync(sandbox, kind === 'command' ? 0o700 : 0o711);
    return this.ctx.state.addExecutor({ frameworkId, executorId, kind, info, runId, sandbox, custom: undefined });
  }

  /** Fetches the task's URIs (if any), then starts it. */
  private prepare(rec: TaskRecord, command: CommandInfo): void {
    const uris = command.uris ?? [];
    if (uris.length === 0) {
      this.start(rec, command);
      return;
    }
    rec.phase = 'fetching';
    fetchUris(uris, rec.sandbox as string, this.ctx.o.fetchTimeoutMs).then(
      () => this.start(rec, command),
      (err: Error) => {
        if (isDone(rec)) return;
        rec.phase = 'exited';
        emit(this.ctx, rec, TaskState.TASK_FAILED, { message: err.message, reason: TaskStatusReason.REASON_FETCH_FAILED, source: TaskStatusSource.SOURCE_AGENT });
        this.groupFailed(rec);
      },
    );
  }

  private start(rec: TaskRecord, command: CommandInfo): void {
    if (isDone(rec)) return;
    const argv = commandArgv(command);
    const sandbox = rec.sandbox as string;
    const exitStatusPath = this.ctx.exitFile();
    if (!argv.file) {
      rec.phase = 'exited';
      emit(this.ctx, rec, TaskState.TASK_FAILED, { message: 'command has no value', reason: TaskStatusReason.REASON_TASK_INVALID, source: TaskStatusSource.SOURCE_AGENT });
      this.groupFailed(rec);
      return;
    }
    rec.phase = 'spawning';
    const framework = this.ctx.state.frameworks.get(rec.frameworkId)?.info;
    let container: ContainerLaunch;
    try {
      container = this.ctx.isolation.launch({
        sandbox,
        resources: rec.info.resources ?? [],
        command,
        frameworkUser: framework?.user,
        frameworkPrincipal: framework?.principal,
        onLimit: (l) => this.limited(rec, l),
      });
      rec.container = { limitation: undefined };
      // Fetched files were written by the agent: they become the task's.
      if (container.user && (command.uris ?? []).length > 0) chownTree(sandbox, container.user.uid, container.user.gid);
    } catch (err) {
      this.launchFailed(rec, err as Error);
      return;
    }
    const env = taskEnvironment({
      taskId: rec.taskId,
      frameworkId: rec.frameworkId,
      agentId: this.ctx.agentId(),
      executorId: rec.executorId,
      sandbox,
      hostname: this.ctx.o.hostname,
      resources: rec.info.resources,
      command,
      extra: container.env,
    });
    const spec = {
      ...argv, cwd: sandbox, env, stdoutPath: path.join(sandbox, 'stdout'), stderrPath: path.join(sandbox, 'stderr'), exitStatusPath,
      prelude: container.prelude, ...(container.user ? { user: container.user } : {}),
    };
    this.ctx.o.runner
      .start(spec)
      .then(
        (proc) => {
          if (!canWrap(spec)) this.ctx.isolation.place(sandbox, proc.pid);
          const running = (startTime: number | undefined): void => {
            // Checkpointed in the same batch as RUNNING, which is sent only once durable: a
            // task the framework saw running can always be found again after a crash.
            this.ctx.state.started(rec, proc.pid, startTime, exitStatusPath);
            this.attach(rec, proc);
            if (!rec.killing) emit(this.ctx, rec, TaskState.TASK_RUNNING);
          };
          if (proc.startTime) void proc.startTime.then(running, () => running(undefined));
          else running(undefined);
        },
        (err: Error) => {
          this.endContainer(rec);
          this.launchFailed(rec, err);
        },
      );
  }

  private launchFailed(rec: TaskRecord, err: Error): void {
    rec.phase = 'exited';
    if (isDone(rec)) return;
    emit(this.ctx, rec, TaskState.TASK_FAILED, { message: err.message, reason: TaskStatusReason.REASON_CONTAINER_LAUNCH_FAILED, source: TaskStatusSource.SOURCE_AGENT });
    this.groupFailed(rec);
  }

  /** A watched limit (disk) was exceeded: the task is killed and fails with that reason. */
  private limited(rec: TaskRecord, l: Limitation): void {
    if (isDone(rec) || !rec.container || rec.container.limitation) return;
    rec.container.limitation = l;
    this.ctx.log.warn({ taskId: rec.taskId, reason: l.message }, 'task exceeded a limit; killing it');
    // Still spawning: attach() kills it as soon as its process is known.
    rec.proc?.signalGroup('SIGKILL');
  }

  /** Cleans up the task's container; returns the limit it hit, if any. */
  private endContainer(rec: TaskRecord): Limitation | undefined {
    const c = rec.container;
    if (!c || rec.sandbox === undefined) return undefined;
    rec.container = undefined;
    const oom = this.ctx.isolation.ended(rec.sandbox);
    return c.limitation ?? oom;
  }

  /** Recovery: a re-attached task's container is live again (its disk watched). */
  adoptContainer(rec: TaskRecord): void {
    if (rec.sandbox === undefined) return;
    rec.container = { limitation: undefined };
    this.ctx.isolation.watchDisk(rec.sandbox, rec.info.resources ?? [], (l) => this.limited(rec, l));
  }

  /**
   * Takes charge of a task's running process: a fresh one, or one re-attached after an agent
   * restart (recovery.ts). A pending kill is carried out at once.
   */
  attach(rec: TaskRecord, proc: RunningProcess): void {
    rec.proc = proc;
    rec.phase = 'running';
    if (rec.container?.limitation) proc.signalGroup('SIGKILL');
    else if (rec.killing) this.signal(rec);
    void proc.exited.then((exit) => this.exited(rec, exit));
  }

  /**
   * A task whose process ended while the agent was down (recovery): reported like any exit, and
   * its group's leftovers are killed. `exit` undefined: the exit code could not be recovered.
   */
  exitedWhileDown(rec: TaskRecord, exit: ProcessExit | undefined, killGroup: boolean): void {
    if (killGroup && rec.procId) signalProcessGroup(rec.procId.pid, 'SIGKILL');
    // Its container outlived the agent's restart: looked at (OOM?) and removed like any other.
    rec.container = { limitation: undefined };
    if (exit) {
      this.exited(rec, exit);
      return;
    }
    rec.phase = 'exited';
    const limitation = this.endContainer(rec);
    if (isDone(rec)) return;
    if (limitation && !rec.killing) {
      emit(this.ctx, rec, TaskState.TASK_FAILED, { message: limitation.message, reason: limitation.reason, source: TaskStatusSource.SOURCE_AGENT });
      this.groupFailed(rec);
      return;
    }
    const message = 'exited while the agent was down; its exit code could not be recovered';
    if (rec.killing) emit(this.ctx, rec, TaskState.TASK_KILLED, { message, source: TaskStatusSource.SOURCE_AGENT });
    else emit(this.ctx, rec, TaskState.TASK_FAILED, { message, reason: TaskStatusReason.REASON_EXECUTOR_TERMINATED, source: TaskStatusSource.SOURCE_AGENT });
    this.groupFailed(rec);
  }

  private exited(rec: TaskRecord, exit: ProcessExit): void {
    // Whatever the task left behind in its group dies with it: no orphans.
    rec.proc?.signalGroup('SIGKILL');
    rec.killing?.timer?.cancel();
    rec.proc = undefined;
    rec.phase = 'exited';
    const limitation = this.endContainer(rec);
    if (isDone(rec)) return;
    const { message, exitCode } = describeExit(exit);
    if (limitation && !rec.killing) {
      emit(this.ctx, rec, TaskState.TASK_FAILED, { message: limitation.message, reason: limitation.reason, source: TaskStatusSource.SOURCE_AGENT, exitCode });
      this.groupFailed(rec);
    } else if (rec.killing) {
      emit(this.ctx, rec, TaskState.TASK_KILLED, { message: `killed (${message})`, exitCode });
      this.groupFailed(rec);
    } else if (exit.code === 0) {
      emit(this.ctx, rec, TaskState.TASK_FINISHED, { message, exitCode });
    } else {
      emit(this.ctx, rec, TaskState.TASK_FAILED, { message, exitCode });
      this.groupFailed(rec);
    }
  }

  /** Default-executor semantics: one task of a group failing or killed kills the others. */
  private groupFailed(rec: TaskRecord): void {
    if (!rec.group) return;
    for (const other of rec.group) {
      if (other === rec || isDone(other)) continue;
      const grace = other.info.killPolicy?.gracePeriodSeconds;
      this.kill(other, grace != null ? grace * 1000 : this.ctx.o.killGracePeriodMs, this.ctx.state.frameworks.get(other.frameworkId));
    }
  }
}

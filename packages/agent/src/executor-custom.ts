/**
 * Custom executors: a framework's own executor process, started by the agent once per
 * (framework, executor ID) in its sandbox, which dials back over the Executor service
 * (AGORA_AGENT_ENDPOINT) and receives the tasks the agent queued for it.
 *
 * Lifecycle: RUN_TASK → start process (fetch its URIs first) → SUBSCRIBE within the
 * registration timeout → SUBSCRIBED + queued LAUNCH/LAUNCH_GROUP → UPDATEs go into the status
 * update manager and are ACKNOWLEDGED to the executor at once (the agent owns delivery from then
 * on). When the process exits, its unfinished tasks fail with REASON_EXECUTOR_TERMINATED (or
 * end KILLED when the agent was shutting the executor down).
 */
import { chmodSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  AgentCallType,
  BatchWriter,
  ExecutorCallType,
  ExecutorEventType,
  ExecutorInfoType,
  TASK_ENV,
  TaskState,
  TaskStatusReason,
  TaskStatusSource,
  grpc,
  newUuidBytes,
  resources as R,
  type ExecutorInfo,
  type Resource,
  type TaskGroupInfo,
  type TaskInfo,
  type TaskStatus,
  type agora,
} from '@agora/core';
import { emit, recordUpdate, type AgentContext } from './context.js';
import { describeExit } from './executor-builtin.js';
import type { Limitation } from './isolation/index.js';
import { fetchUris } from './fetcher.js';
import { chownTree } from './isolation/chown.js';
import type { ProcessExit, RunningProcess } from './runner.js';
import { canWrap } from './runner-execa.js';
import { commandArgv, sandboxDir, taskEnvironment } from './sandbox.js';
import { isDone, type ExecutorRecord, type FrameworkRecord, type TaskRecord } from './state.js';

type ExecutorEvent = agora.v1.ExecutorEvent.$Properties;
type ExecutorCall = agora.v1.ExecutorCall.$Properties;
type Stream = grpc.ServerDuplexStream<agora.v1.ExecutorCallBatch, agora.v1.ExecutorEventBatch.$Properties>;

const AGENT = TaskStatusSource.SOURCE_AGENT;

/**
 * What an executor that declares no resources of its own is given on top of its tasks' (Mesos'
 * DEFAULT_EXECUTOR_CPUS / DEFAULT_EXECUTOR_MEM): an executor is a process too.
 */
const EXECUTOR_OVERHEAD: Resource[] = [R.scalar('cpus', 0.1), R.scalar('mem', 32)];

/** Resources of an executor's container: its own (or the overhead) plus its unfinished tasks'. */
export function executorContainerResources(e: ExecutorRecord): Resource[] {
  const own = e.info.resources ?? [];
  const base = R.scalarOf(own, 'cpus') > 0 || R.scalarOf(own, 'mem') > 0 ? own : [...own, ...EXECUTOR_OVERHEAD];
  return R.sum([base, ...[...e.tasks.values()].filter((t) => !isDone(t)).map((t) => t.info.resources ?? [])]);
}

export class CustomExecutors {
  constructor(private readonly ctx: AgentContext) {}

  /** RUN_TASK with `task.executor` set. */
  runTask(framework: FrameworkRecord, task: TaskInfo): void {
    const e = this.ensure(framework, task.executor as ExecutorInfo);
    this.ctx.state.addTask(e, task, this.ctx.o.clock.now(), { sandbox: e.sandbox });
    this.ctx.isolation.resize(e.sandbox, executorContainerResources(e));
    this.deliver(e, { task });
  }

  /** RUN_TASK_GROUP with a CUSTOM executor: the whole group goes to it as LAUNCH_GROUP. */
  runGroup(framework: FrameworkRecord, executor: ExecutorInfo, group: TaskGroupInfo): void {
    const e = this.ensure(framework, executor);
    const now = this.ctx.o.clock.now();
    for (const task of group.tasks ?? []) this.ctx.state.addTask(e, task, now, { sandbox: e.sandbox });
    this.ctx.isolation.resize(e.sandbox, executorContainerResources(e));
    this.deliver(e, { group });
  }

  /** KILL_TASK of a task of a custom executor: the executor decides how (Mesos semantics). */
  kill(rec: TaskRecord, graceMs: number): void {
    const e = this.ctx.state.executor(rec.frameworkId, rec.executorId);
    const c = e?.custom;
    if (isDone(rec)) return;
    this.ctx.state.killing(rec, graceMs);
    if (!e || !c || c.gone) {
      emit(this.ctx, rec, TaskState.TASK_KILLED, { source: AGENT, message: 'executor is gone' });
      return;
    }
    const before = c.queued.length;
    c.queued = c.queued.filter((q) => !('task' in q && q.task.taskId?.value === rec.taskId));
    if (c.queued.length !== before || !c.writer) {
      // Never handed to the executor: nothing runs, so it is killed right here.
      emit(this.ctx, rec, TaskState.TASK_KILLED, { source: AGENT, message: 'killed before the executor received it', reason: TaskStatusReason.REASON_TASK_KILLED_DURING_LAUNCH });
      return;
    }
    c.writer.send({ type: ExecutorEventType.KILL, kill: { taskId: { value: rec.taskId }, killPolicy: { gracePeriodSeconds: graceMs / 1000 } } });
  }

  /**
   * Shuts an executor down: SHUTDOWN to it, SIGTERM to its process group after `graceMs`,
   * SIGKILL after as long again. Its unfinished tasks end TASK_KILLED.
   */
  shutdown(e: ExecutorRecord, graceMs: number): void {
    const c = e.custom;
    if (!c || c.gone || c.shuttingDown) return;
    c.shuttingDown = true;
    for (const t of e.tasks.values()) if (!isDone(t)) t.killing ??= { graceMs, timer: undefined };
    c.writer?.send({ type: ExecutorEventType.SHUTDOWN, shutdown: { gracePeriodSeconds: graceMs / 1000 } });
    if (!c.writer || !c.proc) {
      // Not subscribed (or not even started): nothing to negotiate with.
      c.proc?.signalGroup('SIGKILL');
      if (!c.proc) this.gone(e, { code: null, signal: null });
      return;
    }
    const proc = c.proc;
    c.shutdownTimer = this.ctx.o.clock.setTimeout(() => {
      proc.signalGroup('SIGTERM');
      c.shutdownTimer = this.ctx.o.clock.setTimeout(() => proc.signalGroup('SIGKILL'), graceMs);
    }, graceMs);
  }

  /** FRAMEWORK_MESSAGE from the scheduler → MESSAGE to the executor. */
  frameworkMessage(frameworkId: string, executorId: string, data: Uint8Array): boolean {
    const e = this.ctx.state.executor(frameworkId, executorId);
    if (!e?.custom?.writer) return false;
    e.custom.writer.send({ type: ExecutorEventType.MESSAGE, message: { data } });
    return true;
  }

  /** The Executor.Connect handler. */
  readonly connect = (call: Stream): void => {
    const writer = new BatchWriter<ExecutorEvent, agora.v1.ExecutorEventBatch.$Properties>(call, (events) => ({ events }));
    let exec: ExecutorRecord | undefined;
    const detach = (): void => {
      writer.close();
      if (exec?.custom && exec.custom.writer === writer) {
        exec.custom.writer = undefined;
        exec.custom.endStream = undefined;
      }
    };
    call.on('data', (batch: agora.v1.ExecutorCallBatch) => {
      for (const c of batch.calls ?? []) {
        try {
          if (!exec) {
            exec = this.subscribe(c, writer, call);
            if (!exec) return;
          } else {
            this.onCall(exec, c, writer);
          }
        } catch (err) {
          this.ctx.log.warn({ err }, 'bad executor call');
          writer.send({ type: ExecutorEventType.ERROR, error: { message: `cannot handle call: ${(err as Error).message}` } });
        }
      }
    });
    call.on('error', detach);
    call.on('end', () => {
      detach();
      call.end();
    });
    call.on('cancelled', detach);
  };

  /** Ends every executor (stop()). */
  shutdownAll(graceMs: number): void {
    for (const e of this.ctx.state.executors.values()) if (e.kind === 'custom') this.shutdown(e, graceMs);
  }

  private subscribe(c: ExecutorCall, writer: BatchWriter<ExecutorEvent, agora.v1.ExecutorEventBatch.$Properties>, call: Stream): ExecutorRecord | undefined {
    const refuse = (message: string): undefined => {
      writer.send({ type: ExecutorEventType.ERROR, error: { message } });
      setImmediate(() => call.end());
      return undefined;
    };
    if (c.type !== ExecutorCallType.SUBSCRIBE) return refuse('the first call must be SUBSCRIBE');
    const frameworkId = c.frameworkId?.value ?? '';
    const executorId = c.executorId?.value ?? '';
    if (!frameworkId || !executorId) return refuse('SUBSCRIBE needs framework_id and executor_id');
    const e = this.ctx.state.executor(frameworkId, executorId);
    if (!e || e.kind !== 'custom' || !e.custom || e.custom.gone) return refuse(`executor '${executorId}' of framework '${frameworkId}' is not known to this agent`);
    const cu = e.custom;
    cu.endStream?.();
    cu.writer = writer;
    cu.endStream = () => { writer.close(); call.end(); };
    cu.registrationTimer?.cancel();
    cu.registrationTimer = undefined;
    writer.send({
      type: ExecutorEventType.SUBSCRIBED,
      subscribed: { executorInfo: e.info, frameworkInfo: this.ctx.state.frameworks.get(frameworkId)?.info ?? { id: { value: frameworkId } }, agentInfo: this.ctx.agentInfo() },
    });
    for (const u of c.subscribe?.unacknowledgedUpdates ?? []) if (u.status) this.update(e, u.status, writer);
    if (cu.shuttingDown) {
      writer.send({ type: ExecutorEventType.SHUTDOWN, shutdown: { gracePeriodSeconds: this.ctx.o.killGracePeriodMs / 1000 } });
    } else {
      const queued = cu.queued;
      cu.queued = [];
      for (const q of queued) this.send(e, q);
    }
    this.ctx.log.info({ frameworkId, executorId }, 'executor subscribed');
    return e;
  }

  private onCall(e: ExecutorRecord, c: ExecutorCall, writer: BatchWriter<ExecutorEvent, agora.v1.ExecutorEventBatch.$Properties>): void {
    switch (c.type) {
      case ExecutorCallType.UPDATE:
        if (!c.update?.status) throw new Error('UPDATE without status');
        this.update(e, c.update.status, writer);
        return;
      case ExecutorCallType.MESSAGE:
        this.ctx.sendToMaster({
          type: AgentCallType.EXECUTOR_MESSAGE,
          agentId: { value: this.ctx.agentId() },
          executorMessage: { frameworkId: { value: e.frameworkId }, executorId: { value: e.executorId }, data: c.message?.data ?? new Uint8Array() },
        });
        return;
      case ExecutorCallType.SUBSCRIBE:
        throw new Error('already subscribed on this stream');
      default:
        throw new Error(`unknown call type ${String(c.type)}`);
    }
  }

  /** An executor's status update: into the status update manager, then ACKNOWLEDGED. */
  private update(e: ExecutorRecord, s: TaskStatus, writer: BatchWriter<ExecutorEvent, agora.v1.ExecutorEventBatch.$Properties>): void {
    const taskId = s.taskId?.value ?? '';
    const rec = e.tasks.get(taskId);
    if (!rec) throw new Error(`task '${taskId}' does not belong to executor '${e.executorId}'`);
    if (!s.state) throw new Error(`update of task '${taskId}' has no state`);
    const uuid = s.uuid && s.uuid.length > 0 ? s.uuid : newUuidBytes();
    if (!isDone(rec)) {
      const status: TaskStatus = {
        ...s,
        uuid,
        source: TaskStatusSource.SOURCE_EXECUTOR,
        agentId: { value: this.ctx.agentId() },
        executorId: { value: e.executorId },
        timestamp: s.timestamp || this.ctx.o.clock.now() / 1000,
      };
      recordUpdate(this.ctx, rec, status);
    }
    // Acked even after a terminal state: the executor must stop re-sending either way.
    writer.send({ type: ExecutorEventType.ACKNOWLEDGED, acknowledged: { taskId: { value: taskId }, uuid } });
  }

  private deliver(e: ExecutorRecord, q: { task: TaskInfo } | { group: TaskGroupInfo }): void {
    const c = e.custom;
    if (c?.writer) this.send(e, q);
    else c?.queued.push(q);
  }

  private send(e: ExecutorRecord, q: { task: TaskInfo } | { group: TaskGroupInfo }): void {
    const w = e.custom?.writer;
    if (!w) return;
    if ('task' in q) {
      const rec = e.tasks.get(q.task.taskId?.value ?? '');
      if (!rec || isDone(rec)) return;
      w.send({ type: ExecutorEventType.LAUNCH, launch: { task: q.task } });
    } else {
      w.send({ type: ExecutorEventType.LAUNCH_GROUP, launchGroup: { taskGroup: q.group } });
    }
  }

  /** The executor's record, starting its process when it is not running. */
  private ensure(framework: FrameworkRecord, info: ExecutorInfo): ExecutorRecord {
    const executorId = info.executorId?.value ?? '';
    const have = this.ctx.state.executor(framework.id, executorId);
    if (have?.custom && !have.custom.gone) return have;
    // A previous run that ended but still holds unacknowledged tasks: it stays in `tasks`,
    // the new run takes the executor's name.
    if (have) this.ctx.state.executors.delete(have.key);
    const runId = randomUUID();
    const sandbox = sandboxDir(this.ctx.o.workDir, this.ctx.agentId(), framework.id, executorId, runId);
    mkdirSync(sandbox, { recursive: true });
    chmodSync(sandbox, 0o700);
    const e = this.ctx.state.addExecutor({
      frameworkId: framework.id,
      executorId,
      kind: 'custom',
      info: { ...info, type: ExecutorInfoType.CUSTOM, frameworkId: { value: framework.id } },
      runId,
      sandbox,
      custom: { proc: undefined, writer: undefined, endStream: undefined, queued: [], registrationTimer: undefined, shuttingDown: false, shutdownTimer: undefined, gone: false },
    });
    const cu = e.custom!;
    cu.registrationTimer = this.ctx.o.clock.setTimeout(() => {
      cu.registrationTimer = undefined;
      if (cu.writer || cu.gone) return;
      this.ctx.log.warn({ executorId, frameworkId: framework.id }, 'executor did not subscribe in time; killing it');
      this.failAll(e, TaskStatusReason.REASON_EXECUTOR_REGISTRATION_TIMEOUT, `executor did not subscribe within ${this.ctx.o.executorRegistrationTimeoutMs / 1000} s`);
      cu.proc?.signalGroup('SIGKILL');
    }, this.ctx.o.executorRegistrationTimeoutMs);
    void this.launch(e);
    return e;
  }

  private async launch(e: ExecutorRecord): Promise<void> {
    const cu = e.custom!;
    const command = e.info.command ?? {};
    try {
      if ((command.uris ?? []).length > 0) await fetchUris(command.uris ?? [], e.sandbox, this.ctx.o.fetchTimeoutMs);
    } catch (err) {
      this.failAll(e, TaskStatusReason.REASON_FETCH_FAILED, (err as Error).message);
      this.gone(e, { code: null, signal: null });
      return;
    }
    if (cu.gone || cu.shuttingDown) return this.gone(e, { code: null, signal: null });
    const argv = commandArgv(command);
    try {
      if (!argv.file) throw new Error('executor command has no value');
      const framework = this.ctx.state.frameworks.get(e.frameworkId)?.info;
      const container = this.ctx.isolation.launch({
        sandbox: e.sandbox,
        resources: executorContainerResources(e),
        command,
        frameworkUser: framework?.user,
        frameworkPrincipal: framework?.principal,
        onLimit: (l) => this.limited(e, l),
      });
      cu.container = { limitation: undefined };
      if (container.user && (command.uris ?? []).length > 0) chownTree(e.sandbox, container.user.uid, container.user.gid);
      const env = taskEnvironment({
        frameworkId: e.frameworkId,
        agentId: this.ctx.agentId(),
        executorId: e.executorId,
        sandbox: e.sandbox,
        hostname: this.ctx.o.hostname,
        resources: e.info.resources,
        command,
        extra: { ...container.env, [TASK_ENV.agentEndpoint]: this.ctx.address(), ...tlsCaEnv(this.ctx.o.security.server.tls?.ca) },
      });
      const exitStatusPath = this.ctx.exitFile();
      const spec = {
        ...argv, cwd: e.sandbox, env, stdoutPath: path.join(e.sandbox, 'stdout'), stderrPath: path.join(e.sandbox, 'stderr'), exitStatusPath,
        prelude: container.prelude, ...(container.user ? { user: container.user } : {}),
      };
      const proc = await this.ctx.o.runner.start(spec);
      if (!canWrap(spec)) this.ctx.isolation.place(e.sandbox, proc.pid);
      this.attach(e, proc);
      void proc.startTime?.then((st) => this.ctx.state.started(e, proc.pid, st, exitStatusPath));
      if (this.ctx.stopping() || cu.shuttingDown) proc.signalGroup('SIGKILL');
    } catch (err) {
      this.failAll(e, TaskStatusReason.REASON_CONTAINER_LAUNCH_FAILED, (err as Error).message);
      this.gone(e, { code: null, signal: null });
    }
  }

  /** Watches an executor's process (fresh, or re-attached after an agent restart). */
  attach(e: ExecutorRecord, proc: RunningProcess): void {
    const cu = e.custom!;
    cu.proc = proc;
    // Over a limit before its process was known (see limited()).
    if (cu.container?.limitation) proc.signalGroup('SIGKILL');
    void proc.exited.then((exit) => {
      proc.signalGroup('SIGKILL');
      this.gone(e, exit);
    });
  }

  /**
   * Recovery: an executor process that outlived the agent. It has the registration timeout to
   * re-subscribe (its driver reconnects by itself); when `proc` is undefined it died meanwhile
   * and its unfinished tasks fail.
   */
  recovered(e: ExecutorRecord, proc: RunningProcess | undefined): void {
    const cu = e.custom!;
    if (!proc) {
      this.gone(e, { code: null, signal: null });
      return;
    }
    this.attach(e, proc);
    cu.registrationTimer = this.ctx.o.clock.setTimeout(() => {
      cu.registrationTimer = undefined;
      if (cu.writer || cu.gone) return;
      this.ctx.log.warn({ executorId: e.executorId, frameworkId: e.frameworkId }, 'recovered executor did not re-subscribe in time; killing it');
      this.failAll(e, TaskStatusReason.REASON_EXECUTOR_UNREGISTERED, `executor did not re-subscribe within ${this.ctx.o.executorRegistrationTimeoutMs / 1000} s of the agent's restart`);
      proc.signalGroup('SIGKILL');
    }, this.ctx.o.executorRegistrationTimeoutMs);
  }

  /** A watched limit (disk) was exceeded: the executor is killed, its tasks fail with that reason. */
  private limited(e: ExecutorRecord, l: Limitation): void {
    const cu = e.custom;
    if (!cu?.container || cu.gone || cu.container.limitation) return;
    cu.container.limitation = l;
    this.ctx.log.warn({ executorId: e.executorId, reason: l.message }, 'executor exceeded a limit; killing it');
    cu.proc?.signalGroup('SIGKILL');
  }

  /** Recovery: a re-attached executor's container is live again (its disk watched). */
  adoptContainer(e: ExecutorRecord): void {
    if (!e.custom) return;
    e.custom.container = { limitation: undefined };
    this.ctx.isolation.watchDisk(e.sandbox, executorContainerResources(e), (l) => this.limited(e, l));
  }

  /** Fails every unfinished task of the executor. */
  private failAll(e: ExecutorRecord, reason: TaskStatusReason, message: string): void {
    if (e.custom) e.custom.queued = [];
    for (const t of e.tasks.values()) {
      if (isDone(t)) continue;
      if (t.killing || e.custom?.shuttingDown) emit(this.ctx, t, TaskState.TASK_KILLED, { source: AGENT, message });
      else emit(this.ctx, t, TaskState.TASK_FAILED, { source: AGENT, reason, message });
    }
  }

  /** The executor's process is gone (or never came): settle its tasks and forget it. */
  private gone(e: ExecutorRecord, exit: ProcessExit): void {
    const cu = e.custom;
    if (!cu || cu.gone) return;
    cu.gone = true;
    cu.registrationTimer?.cancel();
    cu.shutdownTimer?.cancel();
    cu.endStream?.();
    cu.writer = undefined;
    const how = exit.code === null && exit.signal === null ? 'executor is gone' : `executor ${describeExit(exit).message}`;
    const c = cu.container;
    cu.container = undefined;
    const oom = c ? this.ctx.isolation.ended(e.sandbox) : undefined;
    const limitation = c?.limitation ?? oom;
    if (limitation) this.failAll(e, limitation.reason, `${limitation.message} (${how})`);
    else this.failAll(e, TaskStatusReason.REASON_EXECUTOR_TERMINATED, how);
    this.ctx.log.info({ executorId: e.executorId, frameworkId: e.frameworkId, exit }, 'executor terminated');
    if (this.ctx.state.executors.get(e.key) === e) this.ctx.state.maybeRemoveExecutor(e);
  }
}

/** A TLS-serving agent gives its executors the cluster CA, so they can verify it. */
function tlsCaEnv(ca: Buffer | undefined): Record<string, string> {
  return ca ? { [TASK_ENV.agentTlsCa]: ca.toString('utf8') } : {};
}

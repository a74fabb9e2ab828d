/**
 * The Agent: measures itself, registers with the master, runs what it is told, and makes sure
 * every status update gets through.
 *
 *   master ──RUN_TASK/KILL_TASK/ACK──▶ MasterLink ──▶ Agent.onEvent ──▶ BuiltinExecutors / CustomExecutors
 *   master ◀──REGISTER/HEARTBEAT/STATUS_UPDATE── MasterLink ◀── StatusUpdateManager ◀── (task updates)
 *   executors ──Executor.Connect──▶ gRPC server ◀──Files.Read/Browse── operators
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  AgentCallType,
  AgentEventType,
  ExecutorInfoType,
  ExecutorService,
  FilesService,
  TaskState,
  TaskStatusReason,
  TaskStatusSource,
  VERSION,
  bindServer,
  checkBindSafety,
  isTerminalState,
  newServer,
  stopServer,
  type AgentInfo,
  type Attribute,
  type FrameworkInfo,
  type Logger,
  type Resource,
  type Task,
  type TaskInfo,
  type TaskStatus,
  type agora,
  type grpc,
} from '@agora/core';
import { parseAttributes } from './attributes.js';
import { emit, makeStatus, type AgentContext } from './context.js';
import { BuiltinExecutors } from './executor-builtin.js';
import { CustomExecutors } from './executor-custom.js';
import { filesHandlers } from './files-service.js';
import { MasterLink } from './master-link.js';
import { compileOptions, type AgentOptions, type CompiledAgentOptions } from './options.js';
import { detectResources } from './resources-detect.js';
import { Checkpoint, replay, type CheckpointRecord } from './checkpoint.js';
import { loadJournal } from './checkpoint-log.js';
import { Isolation } from './isolation/index.js';
import { ProcessWatcher, reattach, rebuild } from './recovery.js';
import { checkIdForPath } from './sandbox.js';
import { AgentState, isDone, type TaskRecord } from './state.js';
import { StatusUpdateManager } from './status-updates.js';
import { AgentCounters } from './metrics.js';
import type { MetricsServer } from './metrics-server.js';

type AgentEvent = agora.v1.AgentEvent.$Properties;

/**
 * An Agora agent. Emits 'registered' (agentId, master), 'disconnected' (reason) and 'shutdown'
 * (the master told it to stop; stop() has been called).
 */
export class Agent extends EventEmitter {
  /** host:port of the agent's gRPC server (the bound port once started). */
  address: string;
  /** The ID the master gave this agent (kept in workDir/meta/agent-id across restarts). */
  agentId: string | undefined;
  private readonly o: CompiledAgentOptions;
  private readonly log: Logger;
  private readonly state = new AgentState();
  /** Executors gone while no master stream was registered: reported once one is. */
  private readonly exitsToReport: { frameworkId: string; executorId: string }[] = [];
  private readonly updates: StatusUpdateManager;
  private readonly builtin: BuiltinExecutors;
  private readonly custom: CustomExecutors;
  private readonly link: MasterLink;
  private readonly ctx: AgentContext;
  private readonly checkpoint: Checkpoint;
  /** Set when the master sent SHUTDOWN: the identity is being reset. */
  private shutdownByMaster = false;
  private readonly watcher: ProcessWatcher;
  private server: grpc.Server | undefined;
  private resources: Resource[] = [];
  private attributes: Attribute[] = [];
  private stopping = false;
  private stopPromise: Promise<void> | undefined;
  private firstRegistration: { resolve: () => void; reject: (e: Error) => void } | undefined;
  /** What the Prometheus metrics at http://httpAddress/metrics count. */
  readonly counters = new AgentCounters();
  private http: MetricsServer | undefined;
  /** host:port of the metrics server once started (undefined: not serving). */
  httpAddress: string | undefined;
  /** Created by start() (it needs the work dir). */
  private isolation: Isolation | undefined;

  constructor(options: AgentOptions) {
    super();
    this.o = compileOptions(options);
    this.log = this.o.logger;
    this.address = `${this.o.host}:${this.o.port}`;
    // Validate the text options now so that a bad flag fails before anything starts.
    if (this.o.attributes) this.attributes = parseAttributes(this.o.attributes);
    this.checkpoint = new Checkpoint(this.checkpointFile(), this.state, (err) => this.log.error({ err }, 'cannot write the checkpoint; recovery after a crash may miss recent changes'));
    this.watcher = new ProcessWatcher(this.o.clock);
    const exitsDir = path.join(this.o.workDir, 'meta', 'exits');
    this.updates = new StatusUpdateManager({
      clock: this.o.clock,
      logger: this.log,
      retryMs: this.o.statusUpdateRetryMs,
      retryMaxMs: this.o.statusUpdateRetryMaxMs,
      send: (frameworkId, status) => this.sendStatus(frameworkId, status),
      drained: (frameworkId, taskId) => {
        const t = this.state.task(frameworkId, taskId);
        if (t && isDone(t)) this.state.removeTask(t);
      },
      persist: (entry) => { this.counters.persisted(entry); return this.checkpoint.persist(entry); },
    });
    this.checkpoint.setUpdates(this.updates);
    const isolation = (): Isolation | undefined => this.isolation;
    this.ctx = {
      o: this.o,
      log: this.log,
      state: this.state,
      updates: this.updates,
      agentId: () => this.agentId ?? '',
      address: () => this.address,
      agentInfo: () => this.agentInfo(),
      stopping: () => this.stopping,
      sendToMaster: (call) => { this.link.send(call); },
      exitFile: () => path.join(exitsDir, randomUUID()),
      get isolation(): Isolation {
        if (!isolation()) throw new Error('the agent is not started');
        return isolation() as Isolation;
      },
    };
    // The master holds an executor's own resources until it hears the executor is gone. A
    // report made while no stream is registered waits for the next registration: the executor
    // may be in the list that registration carried (built before it ended).
    this.state.onExecutorRemoved = (e) => {
      if (e.kind === 'command') return;
      this.exitsToReport.push({ frameworkId: e.frameworkId, executorId: e.executorId });
      this.reportExits();
    };
    this.builtin = new BuiltinExecutors(this.ctx);
    this.custom = new CustomExecutors(this.ctx);
    this.link = new MasterLink(
      {
        masters: this.o.masters,
        clock: this.o.clock,
        logger: this.log,
        reconnectMinMs: this.o.reconnectMinMs,
        reconnectMaxMs: this.o.reconnectMaxMs,
        registrationTimeoutMs: this.o.registrationTimeoutMs,
        heartbeatIntervalMs: this.o.heartbeatIntervalMs,
        security: this.o.security.masterLink,
      },
      {
        register: () => this.registerMessage(),
        registered: (reg, master) => this.onRegistered(reg, master),
        event: (ev) => this.onEvent(ev),
        disconnected: (reason) => {
          this.updates.setConnected(false);
          this.emit('disconnected', reason);
        },
        // Wrong credentials do not fix themselves: a starting agent fails with the reason.
        refused: (reason) => this.firstRegistration?.reject(new Error(reason)),
      },
    );
  }

  /** Resources this agent offers (after start()). */
  get totalResources(): Resource[] {
    return this.resources;
  }

  /** What isolation is in force and as which users tasks run (after start()). */
  get isolationSummary(): string | undefined {
    return this.isolation?.summary;
  }

  /** Number of tasks the agent still tracks (running, or waiting for acknowledgements). */
  get taskCount(): number {
    return this.state.tasks.size;
  }

  /** Detects resources, starts the gRPC server, and resolves once registered with a master. */
  async start(): Promise<void> {
    if (this.server) throw new Error('agent already started');
    await mkdir(this.o.workDir, { recursive: true });
    this.isolation = new Isolation({
      mode: this.o.isolation, workDir: this.o.workDir, dynamicUsers: this.o.dynamicUsers, dynamicUidRange: this.o.dynamicUidRange,
      allowUser: this.o.allowUser, pidsMax: this.o.taskPidsMax, enforceDiskQuota: this.o.enforceDiskQuota,
      diskWatchIntervalMs: this.o.diskWatchIntervalMs, clock: this.o.clock, log: this.log,
    });
    this.log.info(this.isolation.summary);
    this.resources = await detectResources({ workDir: this.o.workDir, ...(this.o.resources ? { resources: this.o.resources } : {}) });
    this.agentId = await this.readAgentId();
    this.link.agentId = this.agentId ?? '';
    await this.recoverState();
    const sec = this.o.security;
    const warning = checkBindSafety('the agent', this.o.host, sec.server.authenticate, sec.insecure);
    if (warning) this.log.warn(warning);
    const server = newServer(sec.server);
    server.addService(ExecutorService, { connect: this.custom.connect });
    server.addService(FilesService, filesHandlers(this.ctx));
    const port = await bindServer(server, this.o.host, this.o.port, sec.server);
    this.server = server;
    this.address = `${this.o.host}:${port}`;
    // After the server is up: recovered executors dial back to it as soon as they notice.
    const summary = reattach(this.ctx, this.builtin, this.custom, this.watcher);
    // Containers of processes that did not survive the restart go (after reattach() read them).
    const removed = await this.isolation.recover([
      ...[...this.state.tasks.values()].filter((t) => t.container && t.sandbox !== undefined).map((t) => ({ sandbox: t.sandbox as string, resources: t.info.resources ?? [] })),
      ...[...this.state.executors.values()].filter((e) => e.custom?.container).map((e) => ({ sandbox: e.sandbox, resources: e.info.resources ?? [] })),
    ]);
    if (removed > 0) this.log.info({ removed }, 'removed the containers of tasks that ended while the agent was down');
    if (this.state.tasks.size > 0 || this.updates.size > 0) {
      this.log.info({ ...summary, tasks: this.state.tasks.size, pendingUpdates: this.updates.size }, 'recovered from the checkpoint');
    }
    const registered = new Promise<void>((resolve, reject) => { this.firstRegistration = { resolve, reject }; });
    this.link.start();
    // The metrics server comes up while the agent registers: loading fastify and prom-client
    // must not delay the registration. A port given explicitly that is busy fails start().
    await Promise.all([registered, this.startMetrics()]);
  }

  private async startMetrics(): Promise<void> {
    const { agentRegistry, serveMetrics } = await import('./metrics-server.js');
    const registry = agentRegistry({ state: this.state, counters: this.counters, totalResources: () => this.resources, pendingUpdates: () => this.updates.size, registered: () => this.link.connected });
    this.http = await serveMetrics(registry, { host: this.o.host, port: this.o.httpPort, explicit: this.o.httpPortExplicit, log: this.log });
    this.httpAddress = this.http?.address;
    // stop() ran meanwhile: do not leave the server behind.
    if (this.stopping) await this.http?.close().catch(() => undefined);
  }

  /**
   * Reads the checkpoint (if any), rebuilds the state from it and starts a fresh, compacted
   * journal. A torn last line (crash mid-write) is skipped; nothing here throws on bad content.
   */
  private async recoverState(): Promise<void> {
    await mkdir(path.join(this.o.workDir, 'meta', 'exits'), { recursive: true });
    const loaded = loadJournal<CheckpointRecord>(this.checkpointFile());
    if (loaded.skipped > 0) this.log.warn({ skipped: loaded.skipped }, 'skipped unreadable checkpoint lines (torn write?)');
    if (loaded.records.length > 0) rebuild(this.ctx, replay(loaded.records));
    await this.checkpoint.log.open();
    this.state.journal = this.checkpoint;
  }

  private checkpointFile(): string {
    return path.join(this.o.workDir, 'meta', 'checkpoint.jsonl');
  }

  /** Kills every task and executor, then closes the master stream and the gRPC server. */
  stop(): Promise<void> {
    this.stopPromise ??= this.doStop();
    return this.stopPromise;
  }

  private async doStop(): Promise<void> {
    this.stopping = true;
    this.firstRegistration?.reject(new Error(this.shutdownByMaster
      ? 'the master removed this agent (it was marked gone); its identity was reset: start it again to join as a new agent'
      : 'agent stopped before it registered'));
    this.firstRegistration = undefined;
    let longest = 0;
    for (const t of [...this.state.tasks.values()]) {
      if (isDone(t)) continue;
      const e = this.state.executor(t.frameworkId, t.executorId);
      if (e?.kind === 'custom') continue;
      const grace = this.graceOf(t);
      longest = Math.max(longest, grace);
      this.builtin.kill(t, grace, this.state.frameworks.get(t.frameworkId));
    }
    longest = Math.max(longest, this.o.killGracePeriodMs);
    this.custom.shutdownAll(this.o.killGracePeriodMs);
    // Wait for the processes to go (SIGKILL comes after the grace period at the latest).
    const deadline = Date.now() + 2 * longest + 2000;
    while (Date.now() < deadline && this.anythingAlive()) await new Promise((r) => setTimeout(r, 20));
    this.watcher.stop();
    await this.isolation?.close();
    // Updates go out once durable: let the last ones reach the stream before it closes.
    await this.checkpoint.log.flush();
    await this.checkpoint.log.flush();
    await this.link.stop();
    this.updates.close();
    await this.checkpoint.log.close();
    if (this.server) await stopServer(this.server, 500);
    await this.http?.close().catch(() => undefined);
    this.log.info({ agentId: this.agentId }, 'agent stopped');
  }

  private anythingAlive(): boolean {
    for (const t of this.state.tasks.values()) if (t.proc) return true;
    for (const e of this.state.executors.values()) if (e.custom && !e.custom.gone) return true;
    return false;
  }

  private graceOf(t: TaskRecord, policy?: agora.v1.KillPolicy.$Properties | null): number {
    const g = policy?.gracePeriodSeconds ?? t.info.killPolicy?.gracePeriodSeconds;
    return g != null && Number.isFinite(g) && g >= 0 ? g * 1000 : this.o.killGracePeriodMs;
  }

  private agentInfo(): AgentInfo {
    return {
      hostname: this.o.hostname,
      address: this.address,
      resources: this.resources,
      attributes: this.attributes,
      ...(this.agentId ? { id: { value: this.agentId } } : {}),
    };
  }

  /** REGISTER: who we are and every task still running or holding unacknowledged updates. */
  private registerMessage(): agora.v1.AgentCall.Register.$Properties {
    const tasks: Task[] = [];
    const frameworks = new Map<string, FrameworkInfo>();
    for (const t of this.state.tasks.values()) {
      tasks.push({
        name: t.info.name ?? '',
        taskId: { value: t.taskId },
        frameworkId: { value: t.frameworkId },
        executorId: { value: t.executorId },
        agentId: { value: this.agentId ?? '' },
        state: t.state,
        resources: t.info.resources ?? [],
        statuses: [...this.updates.pending(t.frameworkId, t.taskId)],
        ...(t.latestUuid ? { statusUpdateUuid: t.latestUuid, statusUpdateState: t.state } : {}),
        launchedAt: t.launchedAt / 1000,
        ...(t.info.labels ? { labels: t.info.labels } : {}),
        ...(t.info.killPolicy ? { killPolicy: t.info.killPolicy } : {}),
      });
      const f = this.state.frameworks.get(t.frameworkId);
      if (f) frameworks.set(f.id, f.info);
    }
    const executors = [...this.state.executors.values()].filter((e) => e.kind !== 'command').map((e) => e.info);
    return { agentInfo: this.agentInfo(), tasks, executors, frameworks: [...frameworks.values()], version: VERSION };
  }

  private onRegistered(reg: agora.v1.AgentEvent.Registered.$Properties, master: string): void {
    const id = reg.agentId?.value ?? '';
    if (!id) {
      this.log.error({ master }, 'REGISTERED without an agent ID; ignoring');
      return;
    }
    if (this.agentId && this.agentId !== id) this.log.warn({ was: this.agentId, now: id }, 'the master gave this agent a new ID');
    const changed = this.agentId !== id;
    this.agentId = id;
    if (changed) this.writeAgentId(id).catch((err) => this.log.error({ err }, 'cannot persist the agent ID'));
    this.log.info({ agentId: id, master, tasks: this.state.tasks.size }, 'registered with master');
    this.updates.setConnected(true);
    this.reportExits();
    this.emit('registered', id, master);
    this.firstRegistration?.resolve();
    this.firstRegistration = undefined;
  }

  /** Sends the queued EXECUTOR_EXITED reports, keeping them if no stream is registered. */
  private reportExits(): void {
    while (this.exitsToReport.length > 0 && this.agentId) {
      const x = this.exitsToReport[0]!;
      const sent = this.link.send({ type: AgentCallType.EXECUTOR_EXITED, agentId: { value: this.agentId }, executorExited: { frameworkId: { value: x.frameworkId }, executorId: { value: x.executorId } } });
      if (!sent) return;
      this.exitsToReport.shift();
    }
  }

  private sendStatus(frameworkId: string, status: TaskStatus): void {
    this.link.send({ type: AgentCallType.STATUS_UPDATE, agentId: { value: this.agentId ?? '' }, statusUpdate: { frameworkId: { value: frameworkId }, status } });
  }

  private onEvent(ev: AgentEvent): void {
    switch (ev.type) {
      case AgentEventType.RUN_TASK:
        return this.runTask(ev.runTask ?? {});
      case AgentEventType.RUN_TASK_GROUP:
        return this.runTaskGroup(ev.runTaskGroup ?? {});
      case AgentEventType.KILL_TASK:
        return this.killTask(ev.killTask ?? {});
      case AgentEventType.ACKNOWLEDGE: {
        const a = ev.acknowledge ?? {};
        if (!this.updates.acknowledge(a.frameworkId?.value ?? '', a.taskId?.value ?? '', a.uuid)) {
          this.log.debug({ taskId: a.taskId?.value }, 'acknowledgement of an update that is not pending');
        }
        return;
      }
      case AgentEventType.SHUTDOWN_FRAMEWORK:
        return this.shutdownFramework(ev.shutdownFramework?.frameworkId?.value ?? '');
      case AgentEventType.SHUTDOWN_EXECUTOR:
        return this.shutdownExecutor(ev.shutdownExecutor?.frameworkId?.value ?? '', ev.shutdownExecutor?.executorId?.value ?? '');
      case AgentEventType.FRAMEWORK_MESSAGE: {
        const m = ev.frameworkMessage ?? {};
        if (!this.custom.frameworkMessage(m.frameworkId?.value ?? '', m.executorId?.value ?? '', m.data ?? new Uint8Array())) {
          this.log.warn({ executorId: m.executorId?.value }, 'framework message for an executor that is not subscribed; dropped');
        }
        return;
      }
      case AgentEventType.ERROR:
        this.log.warn({ message: ev.error?.message }, 'master reported an error');
        return;
      case AgentEventType.SHUTDOWN:
        // The master removed this agent (e.g. marked it gone after a long partition). Its tasks
        // were given up, and its identity is refused from now on: kill the tasks, forget the ID
        // and the checkpoint, so that the next start registers as a new agent (Mesos asks the
        // operator to wipe the meta dir by hand for the same reason).
        this.log.warn('master told this agent to shut down; its identity is reset');
        this.shutdownByMaster = true;
        void Promise.all([rm(this.idFile(), { force: true }), rm(this.checkpointFile(), { force: true })])
          .catch((err) => this.log.error({ err }, 'cannot reset the agent identity'))
          .then(() => this.stop())
          .then(() => this.emit('shutdown'));
        return;
      default:
        this.log.warn({ type: ev.type }, 'unknown event from master ignored');
    }
  }

  /** Refuses a task the agent cannot run, as a status update the framework will see. */
  private refuse(frameworkId: string, task: TaskInfo, message: string): void {
    const rec = { taskId: task.taskId?.value ?? '', executorId: task.executor?.executorId?.value ?? task.taskId?.value ?? '' } as TaskRecord;
    const status = makeStatus(this.ctx, rec, TaskState.TASK_ERROR, { message, reason: TaskStatusReason.REASON_TASK_INVALID, source: TaskStatusSource.SOURCE_AGENT });
    this.updates.update(frameworkId, status);
    this.log.warn({ frameworkId, taskId: rec.taskId, message }, 'task refused');
  }

  /** Checks a task's IDs and shape; returns a sentence naming the problem. */
  private invalidTask(frameworkId: string, task: TaskInfo, custom: boolean): string | undefined {
    const taskId = task.taskId?.value ?? '';
    const bad = checkIdForPath('framework_id', frameworkId) ?? checkIdForPath('task_id', taskId);
    if (bad) return bad;
    const existing = this.state.task(frameworkId, taskId);
    if (existing && !isDone(existing)) return `task '${taskId}' is already running on this agent`;
    if (custom) {
      const eid = task.executor?.executorId?.value ?? '';
      return checkIdForPath('executor_id', eid) ?? (task.executor?.command?.value ? undefined : `executor '${eid}' of task '${taskId}' has no command`);
    }
    if (!task.command?.value) return `task '${taskId}' has no command value`;
    return undefined;
  }

  private runTask(rt: agora.v1.AgentEvent.RunTask.$Properties): void {
    const frameworkId = rt.framework?.id?.value ?? '';
    const task = rt.task ?? {};
    if (this.stopping) return;
    const custom = !!task.executor;
    const bad = this.invalidTask(frameworkId, task, custom);
    if (bad) return this.refuse(frameworkId, task, bad);
    this.forgetFinished(frameworkId, task.taskId?.value ?? '');
    const framework = this.state.framework(rt.framework ?? {});
    try {
      this.counters.launch(custom ? 'custom' : 'command');
      if (custom) this.custom.runTask(framework, task);
      else this.builtin.runCommandTask(framework, task);
    } catch (err) {
      this.launchFailed(frameworkId, task, err as Error);
    }
  }

  private runTaskGroup(rg: agora.v1.AgentEvent.RunTaskGroup.$Properties): void {
    const frameworkId = rg.framework?.id?.value ?? '';
    const executor = rg.executor ?? {};
    const tasks = rg.taskGroup?.tasks ?? [];
    if (this.stopping) return;
    const custom = executor.type === ExecutorInfoType.CUSTOM;
    const bad = checkIdForPath('executor_id', executor.executorId?.value ?? '')
      ?? (tasks.length === 0 ? 'task group is empty' : undefined)
      ?? (custom && !executor.command?.value ? `executor '${executor.executorId?.value}' has no command` : undefined)
      ?? tasks.map((t) => this.invalidTask(frameworkId, custom ? { ...t, executor } : t, custom)).find((x) => x !== undefined);
    if (bad) {
      for (const t of tasks) this.refuse(frameworkId, t, bad);
      return;
    }
    for (const t of tasks) this.forgetFinished(frameworkId, t.taskId?.value ?? '');
    const framework = this.state.framework(rg.framework ?? {});
    try {
      this.counters.launch(custom ? 'custom' : 'group', tasks.length);
      if (custom) this.custom.runGroup(framework, executor, { tasks });
      else this.builtin.runTaskGroup(framework, executor, { tasks });
    } catch (err) {
      for (const t of tasks) this.launchFailed(frameworkId, t, err as Error);
    }
  }

  /** A task ID reused after its terminal update: the old record goes (its updates stay queued). */
  private forgetFinished(frameworkId: string, taskId: string): void {
    const old = this.state.task(frameworkId, taskId);
    if (old && isDone(old)) this.state.removeTask(old);
  }

  /** A launch threw synchronously (e.g. the sandbox could not be created). */
  private launchFailed(frameworkId: string, task: TaskInfo, err: Error): void {
    this.log.error({ err, taskId: task.taskId?.value }, 'cannot launch task');
    const rec = this.state.task(frameworkId, task.taskId?.value ?? '');
    const extra = { message: `cannot launch: ${err.message}`, reason: TaskStatusReason.REASON_CONTAINER_LAUNCH_FAILED, source: TaskStatusSource.SOURCE_AGENT };
    if (rec) {
      if (!isDone(rec)) emit(this.ctx, rec, TaskState.TASK_FAILED, extra);
    } else {
      const fake = { taskId: task.taskId?.value ?? '', executorId: task.executor?.executorId?.value ?? task.taskId?.value ?? '' } as TaskRecord;
      this.updates.update(frameworkId, makeStatus(this.ctx, fake, TaskState.TASK_FAILED, extra));
    }
  }

  private killTask(k: agora.v1.AgentEvent.KillTask.$Properties): void {
    const frameworkId = k.frameworkId?.value ?? '';
    const taskId = k.taskId?.value ?? '';
    const rec = this.state.task(frameworkId, taskId);
    if (!rec) {
      // Unknown here: tell the framework it is lost (no uuid: nothing to acknowledge).
      const status: TaskStatus = {
        taskId: { value: taskId },
        state: TaskState.TASK_LOST,
        source: TaskStatusSource.SOURCE_AGENT,
        reason: TaskStatusReason.REASON_TASK_UNKNOWN,
        message: `task '${taskId}' is not known to agent ${this.agentId}`,
        agentId: { value: this.agentId ?? '' },
        timestamp: this.o.clock.now() / 1000,
      };
      this.sendStatus(frameworkId, status);
      return;
    }
    if (isTerminalState(rec.state)) return;
    const grace = this.graceOf(rec, k.killPolicy);
    const e = this.state.executor(frameworkId, rec.executorId);
    if (e?.kind === 'custom') this.custom.kill(rec, grace);
    else this.builtin.kill(rec, grace, this.state.frameworks.get(frameworkId));
  }

  private shutdownFramework(frameworkId: string): void {
    for (const e of [...this.state.executors.values()]) {
      if (e.frameworkId === frameworkId) this.shutdownExecutor(frameworkId, e.executorId);
    }
  }

  private shutdownExecutor(frameworkId: string, executorId: string): void {
    const e = this.state.executor(frameworkId, executorId);
    if (!e) {
      this.log.debug({ frameworkId, executorId }, 'shutdown of an unknown executor ignored');
      return;
    }
    if (e.kind === 'custom') {
      this.custom.shutdown(e, this.o.killGracePeriodMs);
      return;
    }
    const f = this.state.frameworks.get(frameworkId);
    for (const t of e.tasks.values()) this.builtin.kill(t, this.graceOf(t), f);
  }

  private idFile(): string {
    return path.join(this.o.workDir, 'meta', 'agent-id');
  }

  private async readAgentId(): Promise<string | undefined> {
    try {
      const id = (await readFile(this.idFile(), 'utf8')).trim();
      return id || undefined;
    } catch {
      return undefined;
    }
  }

  /** Written to a temp file then renamed, so a crash never leaves half an ID. */
  private async writeAgentId(id: string): Promise<void> {
    const file = this.idFile();
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, `${id}\n`);
    await rename(tmp, file);
  }
}

/** Creates an agent and starts it; resolves once it is registered with a master. */
export async function startAgent(options: AgentOptions): Promise<Agent> {
  const agent = new Agent(options);
  try {
    await agent.start();
  } catch (err) {
    await agent.stop().catch(() => {});
    throw err;
  }
  return agent;
}

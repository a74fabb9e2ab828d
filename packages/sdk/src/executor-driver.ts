/**
 * The executor side of the SDK: a custom executor process (started by an agent) talks to that
 * agent over one `Executor.Connect` stream.
 *
 * Reliability is the point of this file: a status update is kept until the agent says
 * ACKNOWLEDGED (from then on the agent's status update manager owns its delivery). If the
 * stream breaks (agent restart), the driver reconnects and re-sends, inside SUBSCRIBE, every
 * update not yet acknowledged and every task it was given but has not reported on, so an agent
 * that recovers loses nothing.
 */
import {
  BatchWriter,
  DEFAULTS,
  ExecutorCallType,
  ExecutorEventType,
  TASK_ENV,
  TaskStatusSource,
  createLogger,
  executorClient,
  idOf,
  newUuidBytes,
  parseHostPort,
  systemClock,
  uuidHex,
  type AgentInfo,
  type Clock,
  type ExecutorCall,
  type ExecutorClient,
  type ExecutorEvent,
  type ExecutorInfo,
  type FrameworkInfo,
  type KillPolicy,
  type Logger,
  type TaskInfo,
  type TaskState,
  type TaskStatus,
  type TaskStatusReason,
  type TimerHandle,
  type agora,
} from '@agora/core';
import { Backoff } from './backoff.js';
import { EventChannel } from './event-channel.js';
import { closeOnce } from './connection.js';

/** What the agent tells an executor. A returned promise is awaited before the next event. */
export interface ExecutorCallbacks {
  /** Subscribed to the agent (first time, or again after the agent restarted). */
  subscribed?(driver: ExecutorDriver, info: { executorInfo: ExecutorInfo; frameworkInfo: FrameworkInfo; agentInfo: AgentInfo }): void;
  /** Run this task; report it with `sendStatusUpdate` (TASK_RUNNING, then a terminal state). */
  launchTask?(driver: ExecutorDriver, task: TaskInfo): void | Promise<void>;
  /** Run these tasks together (a task group). */
  launchGroup?(driver: ExecutorDriver, tasks: TaskInfo[]): void | Promise<void>;
  /** Kill this task and report TASK_KILLED. */
  killTask?(driver: ExecutorDriver, taskId: string): void;
  /** Bytes from the scheduler (`SchedulerDriver.message`). */
  frameworkMessage?(driver: ExecutorDriver, data: Uint8Array): void;
  /** Kill everything; the process exits after this returns (unless `exitOnShutdown: false`). */
  shutdown?(driver: ExecutorDriver): void;
  /** The agent reported an error (or refused this executor). */
  error?(driver: ExecutorDriver, message: string): void;
}

/** Options of an ExecutorDriver. */
export interface ExecutorDriverOptions {
  /** @default {} (use `events()` instead, or as well) */
  callbacks?: ExecutorCallbacks;
  /** Where AGORA_AGENT_ENDPOINT, AGORA_FRAMEWORK_ID, AGORA_EXECUTOR_ID, AGORA_AGENT_ID are read. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default a JSON logger on stderr (the sandbox's `stderr` file) at AGORA_LOG_LEVEL or 'warn' */
  logger?: Logger;
  /**
   * Exit the process (code 0) after SHUTDOWN was handled, once pending updates were acknowledged
   * (or the agent's grace period passed). Tests set false.
   * @default true
   */
  exitOnShutdown?: boolean;
  /** @default DEFAULTS.reconnectMinMs (100) */
  reconnectMinMs?: number;
  /** @default DEFAULTS.reconnectMaxMs (5000) */
  reconnectMaxMs?: number;
  /** How long `start()` tries to subscribe before it rejects. @default 15000 */
  connectTimeoutMs?: number;
  /**
   * How long to wait for a lost agent to come back before shutting down (as on SHUTDOWN), so
   * that an executor never outlives its agent for good.
   * @default 900000 (15 minutes, as Mesos' executor recovery timeout)
   */
  recoveryTimeoutMs?: number;
  /** @default systemClock */
  clock?: Clock;
}

/** Events as `driver.events()` yields them. */
export type ExecutorDriverEvent =
  | { type: 'subscribed'; executorInfo: ExecutorInfo; frameworkInfo: FrameworkInfo; agentInfo: AgentInfo }
  | { type: 'launch'; task: TaskInfo }
  | { type: 'launch_group'; tasks: TaskInfo[] }
  | { type: 'kill'; taskId: string; killPolicy?: KillPolicy }
  | { type: 'message'; data: Uint8Array }
  | { type: 'shutdown'; gracePeriodSeconds: number }
  | { type: 'error'; message: string };

/** What `sendStatusUpdate` takes; the driver fills in uuid, timestamp, source and IDs. */
export interface ExecutorStatusUpdate {
  taskId: string;
  state: TaskState;
  message?: string;
  data?: Uint8Array;
  healthy?: boolean;
  reason?: TaskStatusReason;
  /**
   * Exit code of the process the task ran (128 + N for death by signal N, as shells report
   * it), on terminal updates — what the agent's command executor reports for command tasks.
   */
  exitCode?: number;
}

interface CompiledOptions {
  callbacks: ExecutorCallbacks;
  env: NodeJS.ProcessEnv;
  logger: Logger;
  exitOnShutdown: boolean;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  connectTimeoutMs: number;
  recoveryTimeoutMs: number;
  clock: Clock;
}

function compileOptions(o: ExecutorDriverOptions): CompiledOptions {
  const reconnectMinMs = o.reconnectMinMs ?? DEFAULTS.reconnectMinMs;
  const env = o.env ?? process.env;
  return {
    callbacks: o.callbacks ?? {},
    env,
    logger: o.logger ?? createLogger('executor', env.AGORA_LOG_LEVEL ?? 'warn'),
    exitOnShutdown: o.exitOnShutdown ?? true,
    reconnectMinMs,
    reconnectMaxMs: Math.max(reconnectMinMs, o.reconnectMaxMs ?? DEFAULTS.reconnectMaxMs),
    connectTimeoutMs: o.connectTimeoutMs ?? 15_000,
    recoveryTimeoutMs: o.recoveryTimeoutMs ?? 15 * 60_000,
    clock: o.clock ?? systemClock,
  };
}

type Stream = ReturnType<ExecutorClient['connect']>;

interface Connection {
  call: Stream;
  writer: BatchWriter<ExecutorCall, agora.v1.ExecutorCallBatch.$Properties>;
  subscribed: boolean;
  closed: boolean;
}

/** How long stop() waits for outstanding updates to be acknowledged. */
const STOP_FLUSH_MS = 2_000;

type State = 'idle' | 'running' | 'stopped';

/**
 * A custom executor's connection to its agent.
 *
 * ```ts
 * const driver = new ExecutorDriver({ callbacks: {
 *   launchTask(d, task) {
 *     d.sendStatusUpdate({ taskId: idOf(task.taskId), state: TaskState.TASK_RUNNING });
 *     // … do the work …
 *     d.sendStatusUpdate({ taskId: idOf(task.taskId), state: TaskState.TASK_FINISHED });
 *   },
 * } });
 * await driver.start();
 * ```
 */
export class ExecutorDriver {
  private readonly opts: CompiledOptions;
  private readonly log: Logger;
  private readonly channel = new EventChannel<ExecutorDriverEvent>();
  private readonly backoff: Backoff;
  private state: State = 'idle';
  private endpoint = '';
  private fwId = '';
  private execId = '';
  private agId = '';
  private client: ExecutorClient | undefined;
  private conn: Connection | undefined;
  /** Updates sent but not acknowledged by the agent, in the order they were sent (key: uuid hex). */
  private readonly unacked = new Map<string, TaskStatus>();
  /** Tasks given to us that we have not sent any update for yet. */
  private readonly unreported = new Map<string, TaskInfo>();
  private ackWaiters: (() => void)[] = [];
  private reconnectTimer: TimerHandle | undefined;
  private recoveryTimer: TimerHandle | undefined;
  private connectTimer: TimerHandle | undefined;
  private pendingStart: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void; settled: boolean } | undefined;
  private tail: Promise<void> = Promise.resolve();
  private shuttingDown = false;

  constructor(options: ExecutorDriverOptions = {}) {
    this.opts = compileOptions(options);
    this.log = this.opts.logger;
    this.backoff = new Backoff(this.opts.reconnectMinMs, this.opts.reconnectMaxMs);
  }

  get frameworkId(): string { return this.fwId; }
  get executorId(): string { return this.execId; }
  /** The agent's ID (from AGORA_AGENT_ID, then from SUBSCRIBED). */
  get agentId(): string { return this.agId; }
  /** Updates not yet acknowledged by the agent. */
  get pendingUpdates(): number { return this.unacked.size; }

  /**
   * Reads the agent's environment, connects and subscribes; resolves once SUBSCRIBED. Rejects
   * when a variable is missing (the process was not started by an agent), when the agent refuses,
   * or when it cannot be reached within `connectTimeoutMs`.
   */
  start(): Promise<void> {
    if (this.pendingStart && this.state === 'running') return this.pendingStart.promise;
    if (this.state !== 'idle') return Promise.reject(new Error('ExecutorDriver was stopped; create a new one'));
    const env = this.opts.env;
    const missing = [TASK_ENV.agentEndpoint, TASK_ENV.frameworkId, TASK_ENV.executorId].filter((n) => !env[n]);
    if (missing.length > 0) {
      return Promise.reject(new Error(`ExecutorDriver: environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not set; an executor must be started by an Agora agent`));
    }
    this.endpoint = String(env[TASK_ENV.agentEndpoint]);
    try {
      parseHostPort(this.endpoint);
    } catch (e) {
      return Promise.reject(new Error(`ExecutorDriver: ${TASK_ENV.agentEndpoint}: ${(e as Error).message}`));
    }
    this.fwId = String(env[TASK_ENV.frameworkId]);
    this.execId = String(env[TASK_ENV.executorId]);
    this.agId = env[TASK_ENV.agentId] ?? '';
    // An agent serving TLS hands its executors the cluster CA (PEM text) to verify it with.
    const ca = env[TASK_ENV.agentTlsCa];
    try {
      this.client = executorClient(this.endpoint, ca ? { tls: { ca } } : null);
    } catch (e) {
      return Promise.reject(new Error(`ExecutorDriver: ${TASK_ENV.agentTlsCa}: ${(e as Error).message}`));
    }
    let resolve!: () => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => { resolve = res; reject = rej; });
    this.pendingStart = { promise, resolve, reject, settled: false };
    this.state = 'running';
    this.connectTimer = this.opts.clock.setTimeout(() => {
      this.finish(new Error(`ExecutorDriver: could not subscribe to the agent at ${this.endpoint} within ${this.opts.connectTimeoutMs} ms`));
    }, this.opts.connectTimeoutMs);
    this.connect();
    return promise;
  }

  /**
   * Waits up to 2 s for outstanding updates to be acknowledged, then disconnects. Ends every
   * `events()` loop. Does not exit the process.
   */
  async stop(): Promise<void> {
    if (this.state !== 'running') {
      this.finish(new Error('ExecutorDriver stopped before it subscribed'));
      return;
    }
    if (this.unacked.size > 0 && this.conn?.subscribed) await this.waitForAcks(STOP_FLUSH_MS);
    this.finish(new Error('ExecutorDriver stopped before it subscribed'));
  }

  /** A new async iterator over every event from now on (each call gets its own); ends on stop. */
  events(): AsyncIterableIterator<ExecutorDriverEvent> {
    return this.channel.iterator();
  }

  /**
   * Reports a task's state. Fills in uuid, timestamp, source (EXECUTOR) and the IDs; keeps the
   * update until the agent acknowledges it, re-sending it after a reconnect.
   */
  sendStatusUpdate(update: ExecutorStatusUpdate): void {
    if (!update.taskId) throw new Error('sendStatusUpdate: taskId is required');
    const status: TaskStatus = {
      taskId: { value: update.taskId },
      state: update.state,
      source: TaskStatusSource.SOURCE_EXECUTOR,
      executorId: { value: this.execId },
      ...(this.agId ? { agentId: { value: this.agId } } : {}),
      timestamp: Date.now() / 1000,
      uuid: newUuidBytes(),
      ...(update.message !== undefined ? { message: update.message } : {}),
      ...(update.data !== undefined ? { data: update.data } : {}),
      ...(update.healthy !== undefined ? { healthy: update.healthy } : {}),
      ...(update.reason !== undefined ? { reason: update.reason } : {}),
      ...(update.exitCode !== undefined ? { exitCode: update.exitCode } : {}),
    };
    this.unacked.set(uuidHex(status.uuid), status);
    this.unreported.delete(update.taskId);
    const conn = this.conn;
    // While disconnected the update waits in `unacked` and leaves inside the next SUBSCRIBE.
    if (this.state === 'running' && conn?.subscribed) conn.writer.send(this.call(ExecutorCallType.UPDATE, { update: { status } }));
  }

  /** Sends bytes to the scheduler (its `frameworkMessage` callback); dropped while disconnected. */
  sendFrameworkMessage(data: Uint8Array): void {
    const conn = this.conn;
    if (this.state !== 'running' || !conn?.subscribed) {
      this.log.warn('framework message dropped: not subscribed to the agent');
      return;
    }
    conn.writer.send(this.call(ExecutorCallType.MESSAGE, { message: { data } }));
  }

  // ---- connection ---------------------------------------------------------------------------

  private call(type: ExecutorCallType, body: Partial<ExecutorCall>): ExecutorCall {
    return { type, frameworkId: { value: this.fwId }, executorId: { value: this.execId }, ...body };
  }

  private connect(): void {
    if (this.state !== 'running' || !this.client) return;
    let call: Stream;
    try {
      call = this.client.connect();
    } catch (e) {
      this.log.warn({ err: e }, 'could not open a stream to the agent');
      this.scheduleReconnect();
      return;
    }
    const conn: Connection = { call, writer: new BatchWriter(call, (calls: ExecutorCall[]) => ({ calls })), subscribed: false, closed: false };
    this.conn = conn;
    call.on('data', (batch: agora.v1.ExecutorEventBatch) => {
      for (const event of batch.events ?? []) {
        if (conn.closed || conn !== this.conn) return;
        try {
          this.onEvent(conn, event);
        } catch (e) {
          this.log.error({ err: e }, 'could not handle an event from the agent');
        }
      }
    });
    call.on('error', (err: Error) => this.onClosed(conn, err.message));
    call.on('end', () => this.onClosed(conn, 'the agent closed the stream'));
    conn.writer.send(this.call(ExecutorCallType.SUBSCRIBE, {
      subscribe: {
        unacknowledgedUpdates: [...this.unacked.values()].map((status) => ({ status })),
        unacknowledgedTasks: [...this.unreported.values()],
      },
    }));
  }

  private onEvent(conn: Connection, event: ExecutorEvent): void {
    switch (event.type) {
      case ExecutorEventType.SUBSCRIBED: {
        const s = event.subscribed ?? {};
        conn.subscribed = true;
        this.backoff.reset();
        this.recoveryTimer?.cancel();
        this.recoveryTimer = undefined;
        const agentId = idOf(s.agentInfo?.id);
        if (agentId) this.agId = agentId;
        if (this.pendingStart && !this.pendingStart.settled) {
          this.pendingStart.settled = true;
          this.connectTimer?.cancel();
          this.pendingStart.resolve();
        }
        this.deliver({ type: 'subscribed', executorInfo: s.executorInfo ?? {}, frameworkInfo: s.frameworkInfo ?? {}, agentInfo: s.agentInfo ?? {} });
        return;
      }
      case ExecutorEventType.LAUNCH: {
        const task = event.launch?.task;
        if (!task) return;
        this.unreported.set(idOf(task.taskId), task);
        this.deliver({ type: 'launch', task });
        return;
      }
      case ExecutorEventType.LAUNCH_GROUP: {
        const tasks = event.launchGroup?.taskGroup?.tasks ?? [];
        for (const t of tasks) this.unreported.set(idOf(t.taskId), t);
        this.deliver({ type: 'launch_group', tasks });
        return;
      }
      case ExecutorEventType.KILL: {
        const killPolicy = event.kill?.killPolicy ?? undefined;
        this.deliver({ type: 'kill', taskId: idOf(event.kill?.taskId), ...(killPolicy ? { killPolicy } : {}) });
        return;
      }
      case ExecutorEventType.ACKNOWLEDGED: {
        this.unacked.delete(uuidHex(event.acknowledged?.uuid));
        if (this.unacked.size === 0) for (const w of this.ackWaiters.splice(0)) w();
        return;
      }
      case ExecutorEventType.MESSAGE:
        this.deliver({ type: 'message', data: event.message?.data ?? new Uint8Array(0) });
        return;
      case ExecutorEventType.SHUTDOWN:
        this.beginShutdown(Number(event.shutdown?.gracePeriodSeconds) || 0);
        return;
      case ExecutorEventType.ERROR: {
        const message = event.error?.message || 'the agent reported an error without a message';
        this.deliver({ type: 'error', message });
        if (!conn.subscribed) {
          const err = new Error(`agent ${this.endpoint} refused executor '${this.execId}' of framework '${this.fwId}': ${message}`);
          this.log.error({ message }, 'the agent refused this executor');
          if (this.pendingStart && !this.pendingStart.settled) this.finish(err);
          else this.beginShutdown(0);
        }
        return;
      }
      default:
        this.log.debug({ type: event.type }, 'ignoring an event this driver does not handle');
    }
  }

  private onClosed(conn: Connection, reason: string): void {
    if (!closeOnce(conn)) return;
    if (this.conn !== conn) return;
    this.conn = undefined;
    if (this.state !== 'running') return;
    if (conn.subscribed) {
      this.log.warn({ reason }, 'disconnected from the agent; reconnecting');
      // An executor must not outlive its agent for good: give it recoveryTimeoutMs to return.
      this.recoveryTimer ??= this.opts.clock.setTimeout(() => {
        this.log.error(`the agent did not come back within ${this.opts.recoveryTimeoutMs} ms; shutting down`);
        this.beginShutdown(0);
      }, this.opts.recoveryTimeoutMs);
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.state !== 'running') return;
    this.reconnectTimer?.cancel();
    this.reconnectTimer = this.opts.clock.setTimeout(() => this.connect(), this.backoff.next());
  }

  /** SHUTDOWN (or a lost agent): the callback, then a short flush of updates, then exit. */
  private beginShutdown(graceSeconds: number): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.deliver({ type: 'shutdown', gracePeriodSeconds: graceSeconds });
    this.tail = this.tail.then(async () => {
      const flushMs = Math.max(500, Math.min(graceSeconds * 1000, 5_000));
      if (this.unacked.size > 0 && this.conn?.subscribed) await this.waitForAcks(flushMs);
      this.finish(new Error('ExecutorDriver shut down before it subscribed'));
      if (this.opts.exitOnShutdown) process.exit(0);
    });
  }

  private waitForAcks(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = this.opts.clock.setTimeout(resolve, ms);
      this.ackWaiters.push(() => { t.cancel(); resolve(); });
    });
  }

  /** Final: closes everything; a pending start() rejects with `err`. */
  private finish(err: Error): void {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.reconnectTimer?.cancel();
    this.recoveryTimer?.cancel();
    this.connectTimer?.cancel();
    const conn = this.conn;
    this.conn = undefined;
    if (conn) this.onClosed(conn, 'stopped');
    this.client?.close();
    for (const w of this.ackWaiters.splice(0)) w();
    if (this.pendingStart && !this.pendingStart.settled) {
      this.pendingStart.settled = true;
      this.pendingStart.reject(err);
    }
    this.tail = this.tail.then(() => this.channel.close());
  }

  // ---- dispatch ---------------------------------------------------------------------------------

  private deliver(event: ExecutorDriverEvent): void {
    this.tail = this.tail.then(async () => {
      this.channel.push(event);
      try {
        await this.invoke(event);
      } catch (e) {
        this.log.error({ err: e, event: event.type }, `the ${event.type} callback threw`);
      }
    });
  }

  private async invoke(event: ExecutorDriverEvent): Promise<void> {
    const cb = this.opts.callbacks;
    switch (event.type) {
      case 'subscribed': return cb.subscribed?.(this, { executorInfo: event.executorInfo, frameworkInfo: event.frameworkInfo, agentInfo: event.agentInfo });
      case 'launch': return cb.launchTask?.(this, event.task);
      case 'launch_group': return cb.launchGroup?.(this, event.tasks);
      case 'kill': return cb.killTask?.(this, event.taskId);
      case 'message': return cb.frameworkMessage?.(this, event.data);
      case 'shutdown': return cb.shutdown?.(this);
      case 'error': return cb.error?.(this, event.message);
    }
  }
}

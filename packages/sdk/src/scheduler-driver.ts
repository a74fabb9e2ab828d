/**
 * The scheduler side of the SDK: one long-lived `Scheduler.Connect` stream to the master, with
 * subscription, failover re-subscription, heartbeat watching and reconnection handled here so
 * that a framework author writes only what to do with offers and updates.
 *
 * Callbacks (what the master tells us) are kept apart from commands (what we tell the master),
 * as in Mesos' `scheduler.hpp` (CONVENTIONS §6). Events are dispatched one at a time, in the
 * order they arrived: an async callback is awaited before the next event is delivered, so a
 * framework never sees TASK_FINISHED before the TASK_RUNNING it was sent after.
 */
import os from 'node:os';
import {
  BatchWriter,
  CallType,
  DEFAULTS,
  EventType,
  OperationType,
  idOf,
  parseHostPort,
  schedulerClient,
  silentLogger,
  systemClock,
  grpc,
  type Call,
  type ClientSecurity,
  type Credential,
  type TlsOptions,
  type Clock,
  type Event,
  type Filters,
  type FrameworkInfo,
  type KillPolicy,
  type Logger,
  type MasterInfo,
  type Offer,
  type Operation,
  type SchedulerClient,
  type TaskInfo,
  type TaskStatus,
  type TimerHandle,
  type agora,
} from '@agora/core';
import { Backoff } from './backoff.js';
import { EventChannel } from './event-channel.js';
import { closeOnce } from './connection.js';

/**
 * What the master tells a framework. Every callback is optional; a returned promise is awaited
 * before the next event is delivered. A callback that throws is logged and does not stop the
 * driver (a throwing `statusUpdate` leaves the update unacknowledged, so the agent re-sends it).
 */
export interface SchedulerCallbacks {
  /** Subscribed (first time or again after a reconnect: offers from before are void). */
  subscribed?(driver: SchedulerDriver, frameworkId: string, masterInfo: MasterInfo): void | Promise<void>;
  /** New offers; accept (launch) or decline each of them. */
  resourceOffers?(driver: SchedulerDriver, offers: Offer[]): void | Promise<void>;
  /** An offer was taken back (agent lost, offer timeout); launching on it would fail. */
  offerRescinded?(driver: SchedulerDriver, offerId: string): void;
  /** With autoAcknowledge (default) the ack is sent after this returns / its promise resolves. */
  statusUpdate?(driver: SchedulerDriver, status: TaskStatus): void | Promise<void>;
  /** A message an executor sent with `ExecutorDriver.sendFrameworkMessage`. */
  frameworkMessage?(driver: SchedulerDriver, agentId: string, executorId: string, data: Uint8Array): void;
  /** An agent (executorId absent) or an executor (with its exit status, if known) was lost. */
  failure?(driver: SchedulerDriver, agentId: string, executorId?: string, status?: number): void;
  /** The stream to the master broke; the driver is reconnecting (commands are dropped meanwhile). */
  disconnected?(driver: SchedulerDriver): void;
  /** The master refused a call, or the framework itself (then the driver stops). */
  error?(driver: SchedulerDriver, message: string): void;
}

/** Options of a SchedulerDriver. */
export interface SchedulerDriverOptions {
  /** Master address `host:port`, or several (tried in turn until one subscribes us). */
  master: string | string[];
  /**
   * The framework. `name` is required. Set `id` to re-subscribe as an existing framework
   * (failover). Set `failoverTimeoutSeconds` > 0 if tasks should survive a lost connection: with
   * the default 0 the master tears the framework down as soon as its stream breaks, so
   * reconnecting finds it gone.
   * Defaults filled in: `roles` ['*'], `hostname` os.hostname(). `user` stays empty unless set:
   * tasks then run as whatever user the agent gives them (on a root agent, an unprivileged user
   * of their own); a `user` set here makes every task of the framework run as that account
   * (it must exist on the agents, and root is refused unless the agent allows it).
   */
  framework: FrameworkInfo;
  /** What to do on each event. @default {} (use `events()` instead, or as well) */
  callbacks?: SchedulerCallbacks;
  /**
   * Acknowledge every update that carries a uuid once `statusUpdate` returned (or its promise
   * resolved); right after delivery when there is no `statusUpdate` callback. Set false to call
   * `acknowledge(status)` yourself, e.g. after persisting the state.
   * @default true
   */
  autoAcknowledge?: boolean;
  /** @default silent */
  logger?: Logger;
  /** First reconnect delay; doubles (with jitter) up to reconnectMaxMs. @default DEFAULTS.reconnectMinMs (100) */
  reconnectMinMs?: number;
  /** @default DEFAULTS.reconnectMaxMs (5000) */
  reconnectMaxMs?: number;
  /**
   * How long `start()` keeps trying to reach and subscribe to a master before it rejects.
   * After the first subscription the driver reconnects for as long as it runs.
   * @default 15000
   */
  connectTimeoutMs?: number;
  /** Time source for timeouts (tests pass a FakeClock). @default systemClock */
  clock?: Clock;
  /**
   * TLS to the master: `ca` (the cluster CA, a PEM path or text) verifies it; `cert` + `key`
   * authenticate this framework by certificate (principal = the certificate's CN).
   * @default the process default (`setDefaultClientSecurity`), else plaintext
   */
  tls?: TlsOptions;
  /**
   * Principal and secret, sent with every call (needs `tls` unless the master is on loopback).
   * `framework.principal` defaults to this principal.
   * @default the process default, else none
   */
  credential?: Credential;
}

/** Events as `driver.events()` yields them: the same information the callbacks get. */
export type SchedulerEvent =
  | { type: 'subscribed'; frameworkId: string; masterInfo: MasterInfo }
  | { type: 'offers'; offers: Offer[] }
  | { type: 'rescind'; offerId: string }
  | { type: 'update'; status: TaskStatus }
  | { type: 'message'; agentId: string; executorId: string; data: Uint8Array }
  | { type: 'failure'; agentId: string; executorId?: string; status?: number }
  | { type: 'error'; message: string }
  | { type: 'disconnected' };

interface CompiledOptions {
  masters: string[];
  framework: FrameworkInfo;
  callbacks: SchedulerCallbacks;
  autoAcknowledge: boolean;
  logger: Logger;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  connectTimeoutMs: number;
  clock: Clock;
  /** undefined: the process default. */
  security: ClientSecurity | undefined;
}

/** Fills in every default once (CONVENTIONS §7); throws an Error naming a bad option. */
function compileOptions(o: SchedulerDriverOptions): CompiledOptions {
  const masters = (Array.isArray(o.master) ? o.master : [o.master]).map((m) => String(m ?? '').trim()).filter(Boolean);
  if (masters.length === 0) throw new Error('SchedulerDriver: option `master` needs at least one host:port');
  for (const m of masters) parseHostPort(m);
  if (!o.framework?.name) throw new Error('SchedulerDriver: `framework.name` is required');
  const framework: FrameworkInfo = {
    ...o.framework,
    roles: o.framework.roles?.length ? [...o.framework.roles] : ['*'],
    user: o.framework.user ?? '',
    hostname: o.framework.hostname || os.hostname(),
    ...(o.credential && !o.framework.principal ? { principal: o.credential.principal } : {}),
  };
  const reconnectMinMs = o.reconnectMinMs ?? DEFAULTS.reconnectMinMs;
  return {
    masters,
    framework,
    callbacks: o.callbacks ?? {},
    autoAcknowledge: o.autoAcknowledge ?? true,
    logger: o.logger ?? silentLogger(),
    reconnectMinMs,
    reconnectMaxMs: Math.max(reconnectMinMs, o.reconnectMaxMs ?? DEFAULTS.reconnectMaxMs),
    connectTimeoutMs: o.connectTimeoutMs ?? 15_000,
    clock: o.clock ?? systemClock,
    security: o.tls || o.credential ? { ...(o.tls ? { tls: o.tls } : {}), ...(o.credential ? { credential: o.credential } : {}) } : undefined,
  };
}

type Stream = ReturnType<SchedulerClient['connect']>;

/** One attempt: a stream to one master. */
interface Connection {
  address: string;
  call: Stream;
  writer: BatchWriter<Call, agora.v1.CallBatch.$Properties>;
  subscribed: boolean;
  closed: boolean;
  heartbeatMs: number;
  /** The last event was an ERROR (message, when): a close right after it is a refusal. */
  lastError: { message: string; at: number } | undefined;
  onClose: (() => void)[];
}

/** An ERROR close right after a refusal within this window means "you are refused", not "network". */
const REFUSAL_WINDOW_MS = 2_000;
/** How long stop() waits for the master to close the stream after TEARDOWN. */
const TEARDOWN_WAIT_MS = 2_000;
/** A non-leading master says so; try the next one instead of giving up. */
const NOT_LEADER = /not (the )?leader|leader is/i;
/** A standby names the leader: `not leader; leader is HOST:PORT` (gRPC UNAVAILABLE or an ERROR event). */
const LEADER_IS = /leader is (\S+?)[.,;)]?(?:\s|$)/i;

type State = 'idle' | 'running' | 'stopping' | 'stopped';

/**
 * A framework's connection to the master.
 *
 * ```ts
 * const driver = new SchedulerDriver({ master: '127.0.0.1:5050', framework: { name: 'demo' }, callbacks: {
 *   resourceOffers(d, offers) { for (const o of offers) d.launch(idOf(o.id), [commandTask(o, { name: 'hi', command: 'echo hi' })]); },
 *   statusUpdate(d, s) { if (isTerminalState(s.state)) void d.stop(); },
 * } });
 * await driver.start();
 * ```
 *
 * Commands sent while no master has subscribed us (before `start()` resolved, or while
 * reconnecting) are dropped with a logged warning rather than queued: offers are void after a
 * reconnect anyway, and a re-subscribed framework learns the truth from `reconcile()`.
 */
export class SchedulerDriver {
  private readonly opts: CompiledOptions;
  private readonly log: Logger;
  private readonly channel = new EventChannel<SchedulerEvent>();
  private readonly clients = new Map<string, SchedulerClient>();
  private readonly backoff: Backoff;
  private state: State = 'idle';
  private id: string | undefined;
  private conn: Connection | undefined;
  private masterIndex = 0;
  /** Where a standby said the leader is: tried next, before the list resumes. */
  private redirect: string | undefined;
  /** The current attempt follows a redirect (a second redirect in a row waits for the backoff). */
  private following = false;
  private lastProblem = 'no attempt yet';
  private watchdog: TimerHandle | undefined;
  private reconnectTimer: TimerHandle | undefined;
  private connectTimer: TimerHandle | undefined;
  private pendingStart: { promise: Promise<string>; resolve: (id: string) => void; reject: (e: Error) => void } | undefined;
  private settledStart = false;
  private tail: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | undefined;

  constructor(options: SchedulerDriverOptions) {
    this.opts = compileOptions(options);
    this.log = this.opts.logger;
    this.id = this.opts.framework.id?.value || undefined;
    this.backoff = new Backoff(this.opts.reconnectMinMs, this.opts.reconnectMaxMs);
  }

  /** The framework ID, once subscribed (or the one given in `framework.id`). */
  get frameworkId(): string | undefined {
    return this.id;
  }

  /**
   * Sets `FrameworkInfo.webui_url` (the framework's own web UI or REST API base, which the
   * master's HTTP API proxies for operators). Sent with every subscription from now on: call it
   * before start() when the URL is only known once the framework's server listens.
   */
  setWebuiUrl(url: string): void {
    this.opts.framework.webuiUrl = url;
  }

  /** True while subscribed on a live stream (commands are sent, not dropped). */
  get connected(): boolean {
    return this.state === 'running' && !!this.conn?.subscribed;
  }

  /**
   * Connects and subscribes; resolves with the framework ID. Rejects when the master refuses
   * the framework (an ERROR before SUBSCRIBED, e.g. an unknown `framework.id`), or when no master
   * subscribed us within `connectTimeoutMs`; the driver is then stopped.
   */
  start(): Promise<string> {
    if (this.pendingStart && this.state === 'running') return this.pendingStart.promise;
    if (this.state !== 'idle') return Promise.reject(new Error('SchedulerDriver was stopped; create a new one'));
    let resolve!: (id: string) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<string>((res, rej) => { resolve = res; reject = rej; });
    this.pendingStart = { promise, resolve, reject };
    this.state = 'running';
    this.connectTimer = this.opts.clock.setTimeout(() => {
      this.failStart(new Error(`could not subscribe framework '${this.opts.framework.name}' to master ${this.opts.masters.join(' or ')} within ${this.opts.connectTimeoutMs} ms (last problem: ${this.lastProblem})`));
    }, this.opts.connectTimeoutMs);
    this.connect();
    return promise;
  }

  /**
   * Stops the driver. failover=false (default): TEARDOWN first — the master kills the
   * framework's tasks and forgets it; the driver waits up to 2 s for the master to close the
   * stream. failover=true: just disconnect; the tasks keep running for the framework's
   * failover timeout and a new driver with `framework.id` can take over.
   * Ends every `events()` loop. Safe to call from a callback and more than once.
   */
  stop(options: { failover?: boolean } = {}): Promise<void> {
    this.stopping ??= this.doStop(options.failover ?? false);
    return this.stopping;
  }

  private async doStop(failover: boolean): Promise<void> {
    if (this.state === 'stopped') return;
    const wasIdle = this.state === 'idle';
    this.state = 'stopping';
    const conn = this.conn;
    if (!wasIdle && !failover) {
      if (conn?.subscribed && this.id) {
        const closed = new Promise<void>((resolve) => conn.onClose.push(resolve));
        conn.writer.send({ type: CallType.TEARDOWN, frameworkId: { value: this.id } });
        await Promise.race([closed, delay(this.opts.clock, TEARDOWN_WAIT_MS)]);
      } else if (this.id) {
        this.log.warn({ frameworkId: this.id }, 'stop: not connected to a master, so the framework was not torn down');
      }
    }
    this.finish(new Error('SchedulerDriver stopped before it subscribed'));
  }

  /** Same as `stop()` (with TEARDOWN), for callers that cannot await. */
  teardown(): void {
    void this.stop({ failover: false });
  }

  /**
   * A new async iterator over every event from now on (each call gets its own). It ends when the
   * driver stops. Break out of the loop when done with it: an unread iterator keeps its events.
   */
  events(): AsyncIterableIterator<SchedulerEvent> {
    return this.channel.iterator();
  }

  /** Accepts offers (all on one agent) with operations; unused resources return with `filters`. */
  accept(offerIds: string[], operations: Operation[], filters?: Filters): void {
    this.send('ACCEPT', {
      type: CallType.ACCEPT,
      accept: { offerIds: offerIds.map((value) => ({ value })), operations, ...(filters ? { filters } : {}) },
    });
  }

  /** Launches tasks on offers (one LAUNCH operation); no tasks = decline. */
  launch(offerIds: string | string[], tasks: TaskInfo[], filters?: Filters): void {
    const ids = typeof offerIds === 'string' ? [offerIds] : offerIds;
    if (tasks.length === 0) {
      this.decline(ids, filters);
      return;
    }
    this.accept(ids, [{ type: OperationType.LAUNCH, launch: { taskInfos: tasks } }], filters);
  }

  /** Declines offers; the resources are not offered again for `filters.refuseSeconds` (default 5 s). */
  decline(offerIds: string | string[], filters?: Filters): void {
    const ids = typeof offerIds === 'string' ? [offerIds] : offerIds;
    this.send('DECLINE', { type: CallType.DECLINE, decline: { offerIds: ids.map((value) => ({ value })), ...(filters ? { filters } : {}) } });
  }

  /** Clears decline filters and resumes offers (after `suppress`). */
  revive(roles?: string[]): void {
    this.send('REVIVE', { type: CallType.REVIVE, revive: { roles: roles ?? [] } });
  }

  /** Stops offers until `revive`. */
  suppress(roles?: string[]): void {
    this.send('SUPPRESS', { type: CallType.SUPPRESS, suppress: { roles: roles ?? [] } });
  }

  /** Kills a task (SIGTERM, then SIGKILL after the kill policy's grace). */
  kill(taskId: string, agentId?: string, killPolicy?: KillPolicy): void {
    this.send('KILL', {
      type: CallType.KILL,
      kill: { taskId: { value: taskId }, ...(agentId ? { agentId: { value: agentId } } : {}), ...(killPolicy ? { killPolicy } : {}) },
    });
  }

  /** Shuts a custom executor down (and its tasks). */
  shutdown(executorId: string, agentId: string): void {
    this.send('SHUTDOWN', { type: CallType.SHUTDOWN, shutdown: { executorId: { value: executorId }, agentId: { value: agentId } } });
  }

  /** Acknowledges an update; a no-op for updates without a uuid (master-generated ones). */
  acknowledge(status: TaskStatus): void {
    if (!status.uuid || status.uuid.length === 0) return;
    this.send('ACKNOWLEDGE', {
      type: CallType.ACKNOWLEDGE,
      acknowledge: { agentId: { value: idOf(status.agentId) }, taskId: { value: idOf(status.taskId) }, uuid: status.uuid },
    });
  }

  /** Asks for the latest state of the given tasks, or of every known task (none given). */
  reconcile(tasks?: { taskId: string; agentId?: string }[]): void {
    this.send('RECONCILE', {
      type: CallType.RECONCILE,
      reconcile: { tasks: (tasks ?? []).map((t) => ({ taskId: { value: t.taskId }, ...(t.agentId ? { agentId: { value: t.agentId } } : {}) })) },
    });
  }

  /** Sends bytes to an executor (its `frameworkMessage` callback). */
  message(agentId: string, executorId: string, data: Uint8Array): void {
    this.send('MESSAGE', { type: CallType.MESSAGE, message: { agentId: { value: agentId }, executorId: { value: executorId }, data } });
  }

  // ---- connection ---------------------------------------------------------------------------

  private connect(): void {
    if (this.state !== 'running') return;
    const address = this.redirect ?? this.opts.masters[this.masterIndex % this.opts.masters.length] as string;
    this.following = this.redirect !== undefined;
    this.redirect = undefined;
    let client = this.clients.get(address);
    if (!client) {
      try {
        client = schedulerClient(address, this.opts.security);
      } catch (e) {
        // A setup that would leak the secret (or unreadable TLS files) will not get better.
        this.finish(new Error(`SchedulerDriver: ${(e as Error).message}`));
        return;
      }
      this.clients.set(address, client);
    }
    let call: Stream;
    try {
      call = client.connect();
    } catch (e) {
      this.lastProblem = `${address}: ${(e as Error).message}`;
      this.scheduleReconnect();
      return;
    }
    const conn: Connection = {
      address,
      call,
      writer: new BatchWriter(call, (calls: Call[]) => ({ calls })),
      subscribed: false,
      closed: false,
      heartbeatMs: DEFAULTS.heartbeatIntervalSeconds * 1000,
      lastError: undefined,
      onClose: [],
    };
    this.conn = conn;
    call.on('data', (batch: agora.v1.EventBatch) => this.onBatch(conn, batch));
    call.on('error', (err: Error) => {
      const { code, details } = err as { code?: number; details?: string };
      // Refused credentials or permissions will not change by retrying: stop with the reason.
      if (code === grpc.status.UNAUTHENTICATED || code === grpc.status.PERMISSION_DENIED) return this.fatal(conn, details || err.message);
      this.followRedirect(conn, details || err.message);
      this.onClosed(conn, err.message);
    });
    call.on('end', () => this.onClosed(conn, 'the master closed the stream'));
    const framework: FrameworkInfo = { ...this.opts.framework, ...(this.id ? { id: { value: this.id } } : {}) };
    this.log.debug({ master: address, frameworkId: this.id }, 'subscribing');
    conn.writer.send({ type: CallType.SUBSCRIBE, ...(this.id ? { frameworkId: { value: this.id } } : {}), subscribe: { frameworkInfo: framework } });
    this.armWatchdog(conn);
  }

  /** No event for 3 heartbeat intervals: the master (or the path to it) is gone. */
  private armWatchdog(conn: Connection): void {
    this.watchdog?.cancel();
    const ms = conn.heartbeatMs * 3;
    this.watchdog = this.opts.clock.setTimeout(() => {
      this.log.warn({ master: conn.address }, `no heartbeat from the master for ${ms} ms; reconnecting`);
      this.onClosed(conn, `no heartbeat for ${ms} ms`);
    }, ms);
  }

  private onBatch(conn: Connection, batch: agora.v1.EventBatch): void {
    if (conn.closed || conn !== this.conn) return;
    for (const event of batch.events ?? []) {
      if (conn.closed) return;
      this.armWatchdog(conn);
      try {
        this.onEvent(conn, event);
      } catch (e) {
        // Never let a malformed event take the driver down.
        this.log.error({ err: e }, 'could not handle an event from the master');
      }
    }
  }

  private onEvent(conn: Connection, event: Event): void {
    if (event.type !== EventType.ERROR) conn.lastError = undefined;
    switch (event.type) {
      case EventType.SUBSCRIBED: {
        const s = event.subscribed ?? {};
        const id = idOf(s.frameworkId);
        if (!id) {
          this.log.error('SUBSCRIBED without a framework_id; ignored');
          return;
        }
        if (this.id && id !== this.id) this.log.warn({ was: this.id, now: id }, 'the master gave this framework a new ID');
        this.id = id;
        conn.subscribed = true;
        const hb = Number(s.heartbeatIntervalSeconds);
        if (Number.isFinite(hb) && hb > 0) conn.heartbeatMs = hb * 1000;
        this.armWatchdog(conn);
        this.backoff.reset();
        const masterInfo: MasterInfo = s.masterInfo ?? {};
        this.log.info({ frameworkId: id, master: conn.address }, 'subscribed');
        if (!this.settledStart && this.pendingStart) {
          this.settledStart = true;
          this.connectTimer?.cancel();
          this.pendingStart.resolve(id);
        }
        this.deliver({ type: 'subscribed', frameworkId: id, masterInfo });
        return;
      }
      case EventType.HEARTBEAT:
        return;
      case EventType.OFFERS:
        this.deliver({ type: 'offers', offers: event.offers?.offers ?? [] });
        return;
      case EventType.RESCIND:
        this.deliver({ type: 'rescind', offerId: idOf(event.rescind?.offerId) });
        return;
      case EventType.UPDATE:
        if (event.update?.status) this.deliver({ type: 'update', status: event.update.status });
        return;
      case EventType.MESSAGE:
        this.deliver({
          type: 'message',
          agentId: idOf(event.message?.agentId),
          executorId: idOf(event.message?.executorId),
          data: event.message?.data ?? new Uint8Array(0),
        });
        return;
      case EventType.FAILURE: {
        const f = (event.failure ?? {}) as agora.v1.Event.Failure;
        const executorId = idOf(f.executorId) || undefined;
        const status = Object.prototype.hasOwnProperty.call(f, 'status') && f.status != null ? f.status : undefined;
        this.deliver({ type: 'failure', agentId: idOf(f.agentId), ...(executorId ? { executorId } : {}), ...(status !== undefined ? { status } : {}) });
        return;
      }
      case EventType.ERROR: {
        const message = event.error?.message || 'the master reported an error without a message';
        this.deliver({ type: 'error', message });
        if (!conn.subscribed) {
          // Refused before SUBSCRIBED: the framework itself was refused (or this is not the leader).
          this.lastProblem = `${conn.address} refused: ${message}`;
          if (NOT_LEADER.test(message)) {
            this.log.info({ master: conn.address, message }, 'master is not the leader; trying the next one');
            this.followRedirect(conn, message);
            this.onClosed(conn, message);
          } else {
            this.fatal(conn, message);
          }
          return;
        }
        this.log.warn({ message }, 'the master refused a call');
        conn.lastError = { message, at: this.opts.clock.now() };
        return;
      }
      default:
        this.log.debug({ type: event.type }, 'ignoring an event this driver does not handle');
    }
  }

  private onClosed(conn: Connection, reason: string): void {
    if (!closeOnce(conn)) return;
    for (const f of conn.onClose.splice(0)) f();
    if (this.conn !== conn) return;
    this.conn = undefined;
    this.watchdog?.cancel();
    if (this.state !== 'running') return;
    const refusal = conn.lastError;
    if (conn.subscribed && refusal && this.opts.clock.now() - refusal.at <= REFUSAL_WINDOW_MS && !NOT_LEADER.test(refusal.message)) {
      // ERROR then close: the master dropped the framework (failed over elsewhere, torn down).
      this.fatal(conn, refusal.message);
      return;
    }
    this.lastProblem = `${conn.address}: ${reason}`;
    if (conn.subscribed) {
      this.log.warn({ master: conn.address, reason }, 'disconnected from the master; reconnecting');
      this.deliver({ type: 'disconnected' });
    } else {
      this.log.debug({ master: conn.address, reason }, 'could not subscribe; retrying');
    }
    this.masterIndex++;
    this.scheduleReconnect();
  }

  /**
   * A standby answered with the leader's address: go there next. The answer also proves the
   * cluster is up and failing over, so the backoff starts again from its minimum rather than
   * growing while the standbys wait for the old leader's lease to expire.
   */
  private followRedirect(conn: Connection, message: string): void {
    if (!NOT_LEADER.test(message)) return;
    this.backoff.reset();
    const leader = LEADER_IS.exec(message)?.[1];
    if (!leader || leader === conn.address) return;
    try {
      parseHostPort(leader);
    } catch {
      return;
    }
    this.log.info({ from: conn.address, leader }, 'redirected to the leading master');
    this.redirect = leader;
  }

  private scheduleReconnect(): void {
    if (this.state !== 'running') return;
    // A standby just named the leader: go there now (unless this attempt already followed one).
    const ms = this.redirect && !this.following ? 0 : this.backoff.next();
    this.reconnectTimer?.cancel();
    this.reconnectTimer = this.opts.clock.setTimeout(() => this.connect(), ms);
  }

  /** The master refused this framework: reject start() or report, then stop for good. */
  private fatal(conn: Connection, message: string): void {
    const err = new Error(`master ${conn.address} refused framework '${this.opts.framework.name}'${this.id ? ` (${this.id})` : ''}: ${message}`);
    this.log.error({ master: conn.address, message }, 'the master refused this framework; stopping');
    this.finish(err);
  }

  private failStart(err: Error): void {
    if (this.settledStart) return;
    this.finish(err);
  }

  /** Final: closes everything; a pending start() rejects with `err`. */
  private finish(err: Error): void {
    this.state = 'stopped';
    this.watchdog?.cancel();
    this.reconnectTimer?.cancel();
    this.connectTimer?.cancel();
    const conn = this.conn;
    this.conn = undefined;
    if (conn) this.onClosed(conn, 'stopped');
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    if (!this.settledStart && this.pendingStart) {
      this.settledStart = true;
      this.pendingStart.reject(err);
    }
    // Let already-received events reach their consumers first, then end the loops.
    this.tail = this.tail.then(() => this.channel.close());
  }

  // ---- commands and dispatch ------------------------------------------------------------------

  private send(what: string, call: Call): void {
    const conn = this.conn;
    if (this.state !== 'running' || !conn || !conn.subscribed || !this.id) {
      // Stopping (e.g. the ack after the callback that called stop()) is not worth a warning.
      if (this.state === 'stopping' || this.state === 'stopped') {
        this.log.debug({ call: what }, `${what} dropped: the driver is stopping`);
        return;
      }
      this.log.warn({ call: what }, `${what} dropped: not subscribed to a master (offers are void after a reconnect; act again after 'subscribed')`);
      return;
    }
    conn.writer.send({ ...call, frameworkId: { value: this.id } });
  }

  /** Queues an event for in-order delivery to iterators, then the callback, then the auto-ack. */
  private deliver(event: SchedulerEvent): void {
    this.tail = this.tail.then(async () => {
      if (this.state === 'stopped' && event.type !== 'error') return;
      this.channel.push(event);
      let ok = true;
      try {
        await this.invoke(event);
      } catch (e) {
        ok = false;
        this.log.error({ err: e, event: event.type }, `the ${event.type} callback threw`);
      }
      if (event.type === 'update' && ok && this.opts.autoAcknowledge) this.acknowledge(event.status);
    });
  }

  private async invoke(event: SchedulerEvent): Promise<void> {
    const cb = this.opts.callbacks;
    switch (event.type) {
      case 'subscribed': return cb.subscribed?.(this, event.frameworkId, event.masterInfo);
      case 'offers': return cb.resourceOffers?.(this, event.offers);
      case 'rescind': return cb.offerRescinded?.(this, event.offerId);
      case 'update': return cb.statusUpdate?.(this, event.status);
      case 'message': return cb.frameworkMessage?.(this, event.agentId, event.executorId, event.data);
      case 'failure': return cb.failure?.(this, event.agentId, event.executorId, event.status);
      case 'error': return cb.error?.(this, event.message);
      case 'disconnected': return cb.disconnected?.(this);
    }
  }
}

function delay(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

/**
 * The agent's one stream to the master (AgentLink.Connect): register, heartbeat, and carry
 * calls up and events down.
 *
 * The link never gives up: when the stream drops, the master restarts or refuses us, it waits
 * (reconnectMinMs doubling to reconnectMaxMs, with jitter so a rack of agents does not
 * stampede a restarted master) and tries the next master of the list. Every attempt re-sends
 * REGISTER built fresh by the agent, so a re-registration always reports the current tasks.
 *
 * Leader discovery: a standby master refuses Connect with gRPC UNAVAILABLE and the details
 * `not leader; leader is HOST:PORT` (or `not leader; no leader elected yet`). The link then goes
 * to the named leader next (even one not in the list: masters come and go), else on to the next
 * master of the list. A named leader is tried at once; if that attempt is refused too, backoff
 * applies again (capped low while standbys refuse), so a stale redirect cannot spin.
 */
import {
  AgentCallType,
  AgentEventType,
  BatchWriter,
  agentLinkClient,
  grpc,
  type AgentCall,
  type AgentLinkClient,
  type ClientSecurity,
  type Clock,
  type Logger,
  type TimerHandle,
  type agora,
} from '@agora/core';

type Registered = agora.v1.AgentEvent.Registered.$Properties;
type Register = agora.v1.AgentCall.Register.$Properties;

export interface MasterLinkOptions {
  masters: string[];
  clock: Clock;
  logger: Logger;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  registrationTimeoutMs: number;
  /** Overrides the master's heartbeat interval. */
  heartbeatIntervalMs: number | undefined;
  /** TLS and credential towards the masters (undefined: the process default). */
  security?: ClientSecurity | undefined;
}

export interface MasterLinkHandlers {
  /** The REGISTER message for this attempt (agent info with ID, tasks, frameworks). */
  register(): Register;
  registered(ev: Registered, master: string): void;
  event(ev: agora.v1.AgentEvent.$Properties): void;
  disconnected(reason: string): void;
  /** A master refused our credentials or permissions (the link keeps retrying). */
  refused?(reason: string): void;
}

const DEFAULT_HEARTBEAT_MS = 5_000;
/** Longest wait between attempts while standbys answer `not leader` (an election is running). */
const NOT_LEADER_MAX_BACKOFF_MS = 500;

/**
 * The leader a standby master named in its refusal, or undefined when the error is not a
 * redirect (or names no leader yet).
 */
export function leaderFromRefusal(err: { code?: number; details?: string; message?: string }): string | undefined {
  if (err.code !== grpc.status.UNAVAILABLE) return undefined;
  const m = /not leader; leader is (\S+)/.exec(err.details ?? err.message ?? '');
  return m?.[1];
}

export class MasterLink {
  private readonly clients = new Map<string, AgentLinkClient>();
  private call: ReturnType<AgentLinkClient['connect']> | undefined;
  private writer: BatchWriter<AgentCall, agora.v1.AgentCallBatch.$Properties> | undefined;
  private registeredOn: string | undefined;
  private next = 0;
  /** Where to go next instead of the list's next master (a standby named the leader). */
  private redirect: string | undefined;
  /** The current attempt follows a redirect (a second redirect in a row waits for the backoff). */
  private following = false;
  private backoffMs: number;
  private retryTimer: TimerHandle | undefined;
  private regTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private stopped = false;
  /** The agent's ID, stamped on every call. */
  agentId = '';

  constructor(private readonly o: MasterLinkOptions, private readonly h: MasterLinkHandlers) {
    this.backoffMs = o.reconnectMinMs;
  }

  /** True while registered with a master. */
  get connected(): boolean {
    return this.registeredOn !== undefined;
  }

  /** The master we are registered with. */
  get master(): string | undefined {
    return this.registeredOn;
  }

  start(): void {
    this.connect();
  }

  /** Sends a call when registered; returns false (dropped) otherwise. */
  send(call: AgentCall): boolean {
    if (!this.registeredOn || !this.writer) return false;
    this.writer.send(call);
    return true;
  }

  /** Ends the stream after flushing what is queued, and closes the clients. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.retryTimer?.cancel();
    this.regTimer?.cancel();
    this.heartbeatTimer?.cancel();
    const call = this.call;
    if (call) {
      // BatchWriter flushes on setImmediate: let the last updates leave before half-closing.
      await new Promise((r) => setImmediate(r));
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 300);
        const done = (): void => { clearTimeout(t); resolve(); };
        call.once('status', done);
        call.once('error', done);
        call.once('end', done);
        try { call.end(); } catch { done(); }
      });
      this.drop(call, 'agent stopping', false);
    }
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private client(address: string): AgentLinkClient {
    let c = this.clients.get(address);
    if (!c) {
      c = agentLinkClient(address, this.o.security);
      this.clients.set(address, c);
    }
    return c;
  }

  private connect(): void {
    if (this.stopped) return;
    let address: string;
    this.following = this.redirect !== undefined;
    if (this.redirect) {
      address = this.redirect;
      this.redirect = undefined;
    } else {
      address = this.o.masters[this.next % this.o.masters.length] as string;
      this.next++;
    }
    const call = this.client(address).connect();
    const writer = new BatchWriter<AgentCall, agora.v1.AgentCallBatch.$Properties>(call, (calls) => ({ calls }));
    this.call = call;
    this.writer = writer;
    this.o.logger.debug({ master: address }, 'connecting to master');
    call.on('data', (batch: agora.v1.AgentEventBatch) => {
      for (const ev of batch.events ?? []) {
        if (this.call !== call) return;
        try {
          this.onEvent(call, address, ev);
        } catch (err) {
          this.o.logger.error({ err, type: ev.type }, 'cannot handle master event');
        }
      }
    });
    call.on('error', (err: Error & { code?: number; details?: string }) => {
      const leader = leaderFromRefusal(err);
      if (leader && this.call === call) {
        this.redirect = leader;
        this.o.logger.info({ master: address, leader }, 'not the leader; going to the leader it named');
      }
      // A standby's refusal means a failover is under way, not that masters are overloaded: keep
      // retrying briskly so the agent is back within moments of the new leader serving
      // (with plain doubling it drifted 5–10 s behind at 1,000 agents). A named leader is tried at
      // once; otherwise the delay stays capped while standbys keep refusing.
      if (this.call === call && err.code === grpc.status.UNAVAILABLE && /not leader/.test(err.details ?? err.message ?? '')) {
        this.backoffMs = leader ? this.o.reconnectMinMs : Math.min(this.backoffMs, NOT_LEADER_MAX_BACKOFF_MS);
      }
      if (err.code === grpc.status.UNAUTHENTICATED || err.code === grpc.status.PERMISSION_DENIED) {
        this.o.logger.error({ master: address, reason: err.details }, 'the master refused this agent');
        this.h.refused?.(`master ${address} refused this agent: ${err.details ?? err.message}`);
      }
      this.drop(call, err.message, true);
    });
    call.on('end', () => this.drop(call, 'master closed the stream', true));
    this.regTimer = this.o.clock.setTimeout(() => this.drop(call, `no REGISTERED from ${address} within ${this.o.registrationTimeoutMs / 1000} s`, true), this.o.registrationTimeoutMs);
    writer.send({ type: AgentCallType.REGISTER, ...(this.agentId ? { agentId: { value: this.agentId } } : {}), register: this.h.register() });
  }

  private onEvent(call: NonNullable<MasterLink['call']>, address: string, ev: agora.v1.AgentEvent.$Properties): void {
    if (ev.type === AgentEventType.REGISTERED) {
      const reg = ev.registered ?? {};
      this.regTimer?.cancel();
      this.regTimer = undefined;
      this.agentId = reg.agentId?.value ?? this.agentId;
      this.registeredOn = address;
      this.backoffMs = this.o.reconnectMinMs;
      const hbMs = this.o.heartbeatIntervalMs ?? ((reg.heartbeatIntervalSeconds ?? 0) > 0 ? (reg.heartbeatIntervalSeconds as number) * 1000 : DEFAULT_HEARTBEAT_MS);
      this.heartbeat(call, hbMs);
      this.h.registered(reg, address);
      return;
    }
    if (!this.registeredOn) {
      // A master that removed this agent (marked it gone) answers SHUTDOWN instead of
      // REGISTERED: retrying with the same identity would be refused forever.
      if (ev.type === AgentEventType.SHUTDOWN) {
        this.drop(call, `master ${address} told this agent to shut down`, false);
        this.h.event(ev);
        return;
      }
      if (ev.type === AgentEventType.ERROR) this.drop(call, `master ${address} refused registration: ${ev.error?.message ?? 'no reason given'}`, true);
      else this.o.logger.warn({ type: ev.type }, 'event before REGISTERED ignored');
      return;
    }
    if (ev.type === AgentEventType.PING) {
      this.writer?.send({ type: AgentCallType.HEARTBEAT, agentId: { value: this.agentId } });
      return;
    }
    this.h.event(ev);
  }

  private heartbeat(call: NonNullable<MasterLink['call']>, everyMs: number): void {
    this.heartbeatTimer?.cancel();
    const beat = (): void => {
      if (this.call !== call || this.stopped) return;
      this.writer?.send({ type: AgentCallType.HEARTBEAT, agentId: { value: this.agentId } });
      this.heartbeatTimer = this.o.clock.setTimeout(beat, everyMs);
    };
    this.heartbeatTimer = this.o.clock.setTimeout(beat, everyMs);
  }

  /** Forgets a stream (once) and, unless stopping, schedules the next attempt. */
  private drop(call: NonNullable<MasterLink['call']>, reason: string, retry: boolean): void {
    if (this.call !== call) return;
    this.call = undefined;
    this.writer?.close();
    this.writer = undefined;
    this.regTimer?.cancel();
    this.heartbeatTimer?.cancel();
    // cancel() makes grpc-js emit a CANCELLED error; keep a listener so it is never unhandled.
    call.on('error', () => {});
    try { call.cancel(); } catch { /* already closed */ }
    const was = this.registeredOn;
    this.registeredOn = undefined;
    if (was) this.h.disconnected(reason);
    if (!retry || this.stopped) return;
    // A standby named the leader and this attempt did not already follow a redirect: go now.
    const delay = this.redirect && !this.following ? 0 : Math.round(this.backoffMs * (0.8 + Math.random() * 0.4));
    if (delay > 0) this.backoffMs = Math.min(this.backoffMs * 2, this.o.reconnectMaxMs);
    this.o.logger.warn({ reason, retryInMs: delay }, was ? 'lost the master; reconnecting' : 'cannot register with a master; retrying');
    this.retryTimer = this.o.clock.setTimeout(() => this.connect(), delay);
  }
}

/**
 * What a master in high availability adds around the single master: the etcd client, the
 * election, the etcd registry, and a gate in front of everything the master does.
 *
 * The gate exists because losing leadership is noticed late: a frozen leader resumes with calls
 * already queued on its sockets and timers already due, and Node runs them in whatever order
 * the event loop finds them — possibly before the timer that would notice the stale lease. So
 * leadership is checked *synchronously* at every entrance instead: each new stream, each batch
 * of calls on an existing stream, each unary Operator call and each master timer asks
 * `serving()`, which asks the election whether the last answered keep-alive is recent enough.
 * A deposed leader therefore never launches, kills or acknowledges anything, and its registry
 * writes are refused by etcd anyway (registry-etcd.ts).
 *
 * Between winning the election and serving (the take-over: registry read, books rebuilt) new
 * streams are *held*, not refused: agents and schedulers redirected here would otherwise be
 * turned away and retry in a storm — 10,000 agents every ≤ 500 ms — that takes the very CPU the
 * take-over needs, and then arrive in a burst after a backoff. A held stream is admitted the
 * moment this master serves (its calls were kept by the transport meanwhile), or refused like any
 * other if the take-over fails.
 */
import { Etcd3 } from 'etcd3';
import { grpc, type Clock, type Logger, type MasterInfo } from '@agora/core';
import { LeaderElection } from './leader-election.js';
import { EtcdRegistry } from './registry-etcd.js';

/** etcd settings of a master, compiled. */
export interface CompiledEtcdOptions {
  endpoints: string[];
  ttlSeconds: number;
  prefix: string;
  /** Standbys revoke the lease of a leader whose port refuses connections (leader-probe.ts). */
  fastFailover: boolean;
}

/** standby: not (yet) leader; leader: serving; deposed: was leader or gave up, serves no more. */
export type Role = 'standby' | 'leader' | 'deposed';

type Handler = (...args: never[]) => unknown;

/** Most streams held during one take-over; past it new ones are refused as by a standby. */
const MAX_HELD_STREAMS = 200_000;

interface HeldStream {
  stream: NodeJS.EventEmitter;
  admit: () => void;
  gone: boolean;
}

/** Ends a stream with UNAVAILABLE and the refusal (clients parse `leader is HOST:PORT`). */
function refuseStream(stream: NodeJS.EventEmitter, details: string): void {
  stream.emit('error', Object.assign(new Error(details), { code: grpc.status.UNAVAILABLE, details }));
}

/** The HA side of one master. */
export class MasterHa {
  readonly client: Etcd3;
  readonly registry: EtcdRegistry;
  election: LeaderElection | undefined;
  role: Role = 'standby';
  /** Streams that arrived after this master won the election and before it served. */
  private held: HeldStream[] = [];

  constructor(readonly opts: CompiledEtcdOptions, private readonly info: MasterInfo, private readonly log: Logger) {
    this.client = new Etcd3({ hosts: opts.endpoints, dialTimeout: 2000 });
    this.registry = new EtcdRegistry(this.client, {
      prefix: `${opts.prefix}registry/`,
      fence: () => this.election?.fence(),
      onFenced: (reason) => this.election?.lose(reason),
    });
    // Warm standby: keep the registry decoded while waiting, so a take-over reads nothing.
    this.registry.follow(opts.prefix).catch((e: Error) => this.log.warn({ err: e.message }, 'cannot keep a warm copy of the registry; a take-over will read it from etcd'));
  }

  /** True when this master may act as leader right now (see the file comment). */
  serving(): boolean {
    return this.role === 'leader' && (this.election?.isLeader() ?? false);
  }

  /** The refusal standbys and deposed masters give (clients parse `leader is HOST:PORT`). */
  refusal(): string {
    const leader = this.election?.leaderAddress ?? '';
    if (this.role === 'deposed') return leader && leader !== this.info.address ? `not leader; leader is ${leader}` : 'not leader; this master lost leadership';
    return leader && leader !== this.info.address ? `not leader; leader is ${leader}` : 'not leader; no leader elected yet';
  }

  /** A stream handler that refuses with UNAVAILABLE unless serving, and drops calls once not. */
  gateStream<S extends NodeJS.EventEmitter>(connect: (stream: S) => void): (stream: S) => void {
    const admit = (stream: S): void => {
      // The API modules attach their 'data' listener with on(); wrapping it here keeps them
      // unaware of HA. A batch that arrives after leadership lapsed is dropped: the stream is
      // being closed by the step-down, and the client will resend to the new leader.
      const on = stream.on.bind(stream);
      (stream as NodeJS.EventEmitter).on = (event: string | symbol, listener: (...args: unknown[]) => void) =>
        on(event, event === 'data' ? (...args: unknown[]) => { if (this.serving()) listener(...args); } : listener);
      connect(stream);
    };
    return (stream: S): void => {
      if (this.serving()) return admit(stream);
      if (this.takingOver() && this.held.length < MAX_HELD_STREAMS) {
        const h: HeldStream = { stream, admit: () => admit(stream), gone: false };
        const gone = (): void => { h.gone = true; };
        stream.once('cancelled', gone);
        stream.once('close', gone);
        stream.once('error', gone);
        this.held.push(h);
        return;
      }
      refuseStream(stream, this.refusal());
    };
  }

  /** Elected but not serving yet: the registry is being read. */
  private takingOver(): boolean {
    return this.role === 'standby' && (this.election?.isLeader() ?? false);
  }

  /** This master now serves: admits every stream held during the take-over, in arrival order. */
  admitHeld(): void {
    const held = this.held;
    this.held = [];
    for (const h of held) {
      if (h.gone) continue;
      if (this.serving()) h.admit();
      else refuseStream(h.stream, this.refusal());
    }
  }

  /** The take-over failed or leadership is gone: refuses the held streams (clients go elsewhere). */
  refuseHeld(): void {
    const held = this.held;
    this.held = [];
    for (const h of held) if (!h.gone) refuseStream(h.stream, this.refusal());
  }

  /** Unary Operator handlers: GetHealth always answers; the rest refuse unless serving. */
  gateUnary<T extends Record<string, Handler>>(handlers: T): T {
    const out: Record<string, Handler> = {};
    for (const [name, h] of Object.entries(handlers)) {
      out[name] = ((call: unknown, callback: (err: grpc.ServiceError | null, value?: unknown) => void) => {
        if (name === 'getHealth') {
          if (this.role === 'leader' && this.serving()) return (h as (c: unknown, cb: unknown) => unknown)(call, callback);
          // A standby is healthy (it is ready to take over); a deposed master is not.
          callback(null, { healthy: this.role === 'standby', masterInfo: this.info });
          return undefined;
        }
        if (!this.serving()) {
          const details = this.refusal();
          callback(Object.assign(new Error(details), { code: grpc.status.UNAVAILABLE, details, metadata: new grpc.Metadata() }) as grpc.ServiceError);
          return undefined;
        }
        return (h as (c: unknown, cb: unknown) => unknown)(call, callback);
      }) as Handler;
    }
    return out as T;
  }

  /** A clock whose timers do nothing once this master is no longer serving. */
  gateClock(clock: Clock): Clock {
    return {
      now: () => clock.now(),
      setTimeout: (fn, ms) => clock.setTimeout(() => { if (this.serving()) fn(); }, ms),
    };
  }

  /** Leaves the election (revoking the lease if leading) and closes the etcd client. */
  async close(): Promise<void> {
    try {
      await this.election?.resign();
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'could not resign cleanly; the lease will expire');
    }
    await this.registry.close();
    this.client.close();
  }
}

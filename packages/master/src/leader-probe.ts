/**
 * A standby's direct watch on the leader's process: the fast path of failure detection.
 *
 * etcd alone learns that a leader died only when its lease expires, a whole TTL after its last
 * keep-alive. But a leader killed outright (kill -9, a crash, OOM) leaves a trace at once: the
 * kernel closes its sockets, and its port no longer has a listener, so a connection to it is
 * refused (TCP RST → ECONNREFUSED). A standby holds one idle TCP connection to the leader's
 * gRPC port (no gRPC on it, it costs the leader nothing but a socket); when that connection
 * ends it connects again at once, and `REFUSALS_NEEDED` refusals in a row are taken as proof
 * that the leader's process is gone.
 *
 * What is deliberately *not* a death signal: a timeout, an unreachable host or network, a reset
 * of an established connection. A partitioned, overloaded or frozen (SIGSTOP, long GC pause)
 * leader produces those — its kernel still accepts connections for a stopped process — and
 * may come back; for those the lease TTL remains the only judge, and the leader fences itself
 * by time (leader-election.ts).
 *
 * Refusals count only after this probe has once been connected to the leader: a port that
 * refuses from the start says more about the path (a firewall answering with resets, as some
 * sandboxes do for every unknown destination) than about the leader, and a standby that starts
 * after the leader died simply waits for the TTL. What remains assumed is that nothing between
 * the masters *starts* answering a live leader's port with resets (a partition made with
 * `iptables -j REJECT --reject-with tcp-reset` would); where that can happen, turn the fast path
 * off (`etcdFastFailover: false`).
 *
 * Addresses the probe cannot judge are not probed: an unspecified host (0.0.0.0, ::) does not
 * name a machine, and a loopback leader address only means the leader's machine to a standby
 * that itself serves on loopback (the same machine).
 */
import { connect, type Socket } from 'node:net';

/** Consecutive refused connections that prove the leader's process is gone. */
export const REFUSALS_NEEDED = 2;
/** Pause between the refusals of one verdict (ms): a second, independent look. */
const CONFIRM_DELAY_MS = 25;
/** Pause before reconnecting after a connection ended or failed in a way that proves nothing (ms). */
const RETRY_MS = 250;
/** A connect attempt that neither succeeds nor fails in this long proves nothing either (ms). */
const CONNECT_TIMEOUT_MS = 1000;

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);
const isUnspecified = (host: string): boolean => host === '' || host === '0.0.0.0' || host === '::' || host === '[::]';

/** `host:port` split; undefined when it is not one. */
export function splitAddress(address: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  return { host: m[1] ?? '', port };
}

/**
 * Whether a standby serving on `own` can judge the leader at `leader` by connecting to it:
 * the reason it cannot, or undefined when it can.
 */
export function unprobeable(leader: string, own: string): string | undefined {
  const l = splitAddress(leader);
  if (!l) return `'${leader}' is not host:port`;
  if (isUnspecified(l.host)) return `'${leader}' names no host`;
  const o = splitAddress(own);
  if (isLoopback(l.host) && !(o && (isLoopback(o.host) || isUnspecified(o.host)))) return `'${leader}' is a loopback address and this master is not on loopback`;
  return undefined;
}

/** Options of a LeaderProbe. */
export interface LeaderProbeOptions {
  /** The leader's `host:port`. */
  address: string;
  /** Called once, when the leader's process is proven gone. */
  onDead: (evidence: string) => void;
}

/** Watches one leader address until `stop()` or a verdict. */
export class LeaderProbe {
  private socket: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private refusals = 0;
  /** Connected to the leader at least once: only then does a refusal mean anything. */
  private seen = false;
  private stopped = false;
  private readonly host: string;
  private readonly port: number;

  constructor(private readonly opts: LeaderProbeOptions) {
    const a = splitAddress(opts.address);
    if (!a) throw new Error(`leader probe: '${opts.address}' is not host:port`);
    this.host = a.host;
    this.port = a.port;
  }

  /** True once connected to the leader at least once (from then on a refusal is evidence). */
  get seenAlive(): boolean {
    return this.seen;
  }

  /** Starts watching. */
  start(): void {
    this.attempt();
  }

  /** Stops watching (idempotent); no verdict after this. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.socket?.destroy();
    this.socket = undefined;
  }

  private attempt(): void {
    if (this.stopped) return;
    this.timer = undefined;
    const socket = connect({ host: this.host, port: this.port });
    this.socket = socket;
    socket.unref();
    let connected = false;
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => { if (!connected) socket.destroy(); });
    socket.on('connect', () => {
      connected = true;
      this.seen = true;
      this.refusals = 0;
      socket.setTimeout(0);
      // Keep-alive probes notice a vanished peer on an idle connection (a host that died
      // silently); their failure is a timeout, which proves nothing: it only means "look again".
      socket.setKeepAlive(true, 1000);
    });
    // The leader's server may send a little (HTTP/2 settings) or close an idle connection: harmless.
    socket.on('data', () => undefined);
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (this.socket !== socket || this.stopped) return;
      if (!connected && e.code === 'ECONNREFUSED' && this.seen) {
        this.refusals++;
        if (this.refusals >= REFUSALS_NEEDED) {
          this.socket = undefined;
          this.stopped = true;
          this.opts.onDead(`${REFUSALS_NEEDED} connections to ${this.opts.address} refused in a row: nothing listens on the leader's port`);
          return;
        }
        this.later(CONFIRM_DELAY_MS);
        return;
      }
      this.refusals = 0;
    });
    socket.on('close', () => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = undefined;
      if (this.timer) return; // a refusal already scheduled the next look
      // An established connection that ends is the moment to look again, at once: a process
      // that died closes its connections as it goes.
      this.later(connected ? 0 : RETRY_MS);
    });
  }

  private later(ms: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => this.attempt(), ms);
    this.timer.unref();
  }
}

/**
 * Leader election on etcd: one key (`${prefix}leader`) whose value is the leader's `host:port`,
 * attached to the leader's lease. A candidate takes the key with a transaction "create it if it
 * does not exist"; standbys watch the key and try again the moment it is deleted (the leader's
 * lease expired or was revoked). One key rather than etcd's queue recipe (one key per candidate,
 * lowest revision wins) because a handful of masters gain nothing from a queue, and a single key
 * also tells every standby the leader's address for its redirects.
 *
 * Why the leader fences itself by time. etcd tells a leader nothing while the leader is frozen
 * (SIGSTOP, a long GC pause, a VM migration): when the process resumes, its sockets and timers
 * fire in no useful order and it would happily serve calls for a moment, although its lease may
 * have expired and a new leader may be serving. So the leader remembers when it *sent* its last
 * keep-alive that etcd answered (`lastOk`); etcd cannot expire the lease before `lastOk + TTL`
 * (it refreshed it after that send). The leader considers itself leader only until
 * `lastOk + TTL − margin` and checks this synchronously before acting (`isLeader()`), not just in
 * a timer. Since a new leader can only be elected after expiry, the two never serve at once; the
 * margin (TTL/5, 1 s at the default 5 s) absorbs timer latency and clock-rate drift. Registry
 * writes are fenced independently in etcd (see `fence()` and registry-etcd.ts), so even a leader
 * whose clock lied could not write.
 *
 * TTL 5 s (default): a dead leader is replaced within TTL + etcd's expiry scan (≤ 0.5 s) + one
 * watch event, ≈ 5.5 s worst case, inside the 10 s detection budget; keep-alives every TTL/5 (1 s)
 * mean three consecutive keep-alives must fail before a healthy leader steps down on its own, so
 * one slow etcd fsync or event-loop hiccup does not cause a failover.
 *
 * The fast path (`fastFailover`, on by default): a leader whose *process* is gone need not be
 * waited for. Each standby watches the leader's port directly (leader-probe.ts); when the
 * connection is refused — nothing listens there any more: the process died — the standby
 * revokes the dead leader's lease by its ID (the one etcd reported with the key). etcd deletes
 * the key with the lease, every candidate's watch fires and one wins at once: a kill -9'd
 * leader is replaced in tens of milliseconds instead of a TTL. This cannot make two leaders
 * act: the lease revoked is the one the dead process held (a later leader's lease has another
 * ID), and a refusal is only taken as proof when the address can be judged from here. A leader
 * that is merely slow, frozen or partitioned is never refused (its kernel still accepts, or
 * packets are lost): it is left to the TTL as before.
 */
import { performance } from 'node:perf_hooks';
import type { Etcd3, Lease, Watcher } from 'etcd3';
import { silentLogger, type Logger } from '@agora/core';
import { LeaderProbe, unprobeable } from './leader-probe.js';

/** What a registry write must compare to prove its writer still leads. */
export interface Fence {
  /** The election key. */
  key: string;
  /** Create revision of the key when this candidate created it (a decimal string, as etcd gives it). */
  createRevision: string;
}

/** Options of a LeaderElection. */
export interface LeaderElectionOptions {
  /** The etcd client (shared with the EtcdRegistry). */
  client: Etcd3;
  /** What this candidate publishes as leader: its `host:port`. */
  address: string;
  /** The election key. @default '/agora/leader' */
  key?: string;
  /** Lease TTL in whole seconds (etcd's unit; ≥ 2). @default 5 */
  ttlSeconds?: number;
  /**
   * Standbys watch the leader's port and revoke the lease of a leader whose process is gone
   * (connection refused), instead of waiting for the TTL (see the file comment).
   * @default true
   */
  fastFailover?: boolean;
  /** @default silent */
  logger?: Logger;
  /** Called once this candidate holds the key. */
  onElected?: () => void;
  /** Called once when a leader stops being one (lease lost, key gone, keep-alives stale). */
  onLost?: (reason: string) => void;
  /** Called whenever the known leader address changes ('' = none). */
  onLeaderChanged?: (address: string) => void;
}

type State = 'idle' | 'candidate' | 'leader' | 'lost' | 'closed';

/** One master's candidacy. `start()`, then wait for `onElected`; `close()` or `resign()` to end. */
export class LeaderElection {
  /** Lease TTL in seconds. */
  readonly ttlSeconds: number;
  /** Leadership ends at lastOk + ttl − margin (ms). */
  readonly marginMs: number;
  /** Keep-alive (and standby poll) interval, ms. */
  readonly intervalMs: number;
  private readonly key: string;
  private readonly log: Logger;
  private state: State = 'idle';
  private lease: Lease | undefined;
  private leaseId = '';
  private createRevision = '';
  private lastOk = 0;
  private known = '';
  /** Lease of the known leader's key (decimal string; '' when unknown). */
  private knownLease = '';
  private probe: LeaderProbe | undefined;
  /** Times this candidate revoked a dead leader's lease (tests and logs). */
  revokedDeadLeaders = 0;
  private watcher: Watcher | undefined;
  private timers: NodeJS.Timeout[] = [];
  private attempting = false;
  private elected: { promise: Promise<void>; resolve: () => void };

  constructor(private readonly opts: LeaderElectionOptions) {
    const ttl = opts.ttlSeconds ?? 5;
    if (!Number.isInteger(ttl) || ttl < 2) throw new Error(`leader election: ttlSeconds must be an integer ≥ 2, got ${String(opts.ttlSeconds)}`);
    this.ttlSeconds = ttl;
    this.marginMs = (ttl * 1000) / 5;
    this.intervalMs = (ttl * 1000) / 5;
    this.key = opts.key ?? '/agora/leader';
    this.log = opts.logger ?? silentLogger();
    let resolve!: () => void;
    this.elected = { promise: new Promise<void>((r) => { resolve = r; }), resolve };
  }

  /** Address of the current leader as last seen in etcd ('' when none). */
  get leaderAddress(): string {
    return this.known;
  }

  /** Resolves once this candidate is elected (never, if it is closed first). */
  whenElected(): Promise<void> {
    return this.elected.promise;
  }

  /** Joins the election: watches the key and tries to take it. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error('leader election already started');
    this.state = 'candidate';
    try {
      this.watcher = await this.opts.client.watch().key(this.key).create();
      this.watcher.on('put', (kv) => this.onPut(kv.value.toString(), String(kv.lease)));
      this.watcher.on('delete', () => this.onDelete());
      this.watcher.on('error', (e: Error) => this.log.warn({ err: e.message }, 'etcd watch failed; polling until it resumes'));
    } catch (e) {
      // The poll below covers for the watch until etcd is reachable again.
      this.log.warn({ err: (e as Error).message }, 'could not watch the election key; polling');
    }
    // A watch event can be missed across reconnects: poll as a backstop.
    this.every(this.intervalMs, () => { if (this.state === 'candidate') void this.campaign(); });
    await this.campaign();
  }

  /**
   * True while this candidate leads and its last answered keep-alive is recent enough. Call it
   * right before acting as leader: when stale it ends leadership on the spot (onLost).
   */
  isLeader(): boolean {
    if (this.state !== 'leader') return false;
    const age = performance.now() - this.lastOk;
    if (age > this.ttlSeconds * 1000 - this.marginMs) {
      this.lose(`no keep-alive answered for ${(age / 1000).toFixed(1)} s (lease TTL ${this.ttlSeconds} s): etcd may have expired the lease`);
      return false;
    }
    return true;
  }

  /** The fence registry writes compare, or undefined when not (or no longer) leader. */
  fence(): Fence | undefined {
    return this.isLeader() ? { key: this.key, createRevision: this.createRevision } : undefined;
  }

  /**
   * Ends leadership now (a fenced write failed, or the caller knows better). Idempotent; the
   * lease is revoked best-effort so that a standby takes over without waiting for the TTL.
   */
  lose(reason: string): void {
    if (this.state !== 'leader') return;
    this.state = 'lost';
    this.log.error({ reason }, 'lost leadership');
    this.stopTimers();
    void this.revoke();
    this.opts.onLost?.(reason);
  }

  /** Leaves the election; a leader revokes its lease so a standby takes over at once. */
  async resign(): Promise<void> {
    const wasLeader = this.state === 'leader';
    this.state = 'closed';
    this.stopTimers();
    await this.watcher?.cancel().catch(() => undefined);
    if (wasLeader) await this.revoke();
  }

  /** Same as resign(); provided for symmetry with other closables. */
  close(): Promise<void> {
    return this.resign();
  }

  // ---------------------------------------------------------------- candidate

  /** One attempt: create the key under a fresh lease if nobody holds it. */
  private async campaign(): Promise<void> {
    if (this.state !== 'candidate' || this.attempting) return;
    this.attempting = true;
    const c = this.opts.client;
    let lease: Lease | undefined;
    try {
      const current = await c.get(this.key).exec();
      const kv = current.kvs[0];
      if (kv) {
        this.setKnown(kv.value.toString(), String(kv.lease));
        return;
      }
      this.setKnown('');
      if (this.state !== 'candidate') return;
      // The lease starts no earlier than this instant, so it is a safe start for the clock.
      const sentAt = performance.now();
      lease = c.lease(this.ttlSeconds, { autoKeepAlive: false });
      const id = await lease.grant();
      const res = await c.if(this.key, 'Create', '==', 0)
        .then(c.put(this.key).value(this.opts.address).lease(id))
        .else(c.get(this.key))
        .commit();
      if (!res.succeeded || this.state !== 'candidate') {
        void lease.revoke().catch(() => undefined);
        const other = res.responses[0]?.response_range?.kvs[0];
        if (other) this.setKnown(other.value.toString(), String(other.lease));
        return;
      }
      this.lease = lease;
      this.leaseId = id;
      this.createRevision = String(res.header.revision);
      this.lastOk = sentAt;
      this.state = 'leader';
      this.setKnown(this.opts.address, id);
      this.log.info({ key: this.key, revision: this.createRevision, ttlSeconds: this.ttlSeconds }, 'elected leader');
      this.every(this.intervalMs, () => this.keepAlive());
      // Between keep-alives, notice staleness even with no traffic to trigger isLeader().
      this.every(Math.min(250, this.intervalMs / 2), () => { this.isLeader(); });
      this.elected.resolve();
      this.opts.onElected?.();
    } catch (e) {
      if (lease && this.state !== 'leader') void lease.revoke().catch(() => undefined);
      this.log.warn({ err: (e as Error).message }, 'election attempt failed; retrying');
    } finally {
      this.attempting = false;
    }
  }

  private onPut(address: string, lease: string): void {
    this.setKnown(address, lease);
    if (this.state === 'leader' && lease !== this.leaseId) this.lose('the election key now belongs to another lease');
  }

  private onDelete(): void {
    this.setKnown('');
    if (this.state === 'leader') this.lose('the election key was deleted (lease expired or revoked)');
    else if (this.state === 'candidate') void this.campaign();
  }

  private setKnown(address: string, lease = ''): void {
    const leaseChanged = lease !== this.knownLease;
    this.knownLease = lease;
    if (address !== this.known) {
      this.known = address;
      this.opts.onLeaderChanged?.(address);
    } else if (!leaseChanged) {
      return;
    }
    this.watchLeader();
  }

  // ---------------------------------------------------------------- fast path

  /** (Re)starts the probe on the known leader, or stops it when there is nothing to watch. */
  private watchLeader(): void {
    this.probe?.stop();
    this.probe = undefined;
    if (this.opts.fastFailover === false || this.state !== 'candidate') return;
    const address = this.known;
    const lease = this.knownLease;
    if (!address || !lease || lease === '0' || address === this.opts.address) return;
    const why = unprobeable(address, this.opts.address);
    if (why) {
      this.log.debug({ leader: address, why }, 'not watching the leader directly; its lease TTL decides');
      return;
    }
    const probe = new LeaderProbe({ address, onDead: (evidence) => void this.revokeDead(address, lease, evidence) });
    this.probe = probe;
    probe.start();
  }

  /** The leader at `address` (holding `lease`) is dead: revoke its lease so that the key goes now. */
  private async revokeDead(address: string, lease: string, evidence: string): Promise<void> {
    if (this.probe) this.probe = undefined;
    if (this.state !== 'candidate' || this.known !== address || this.knownLease !== lease) return;
    this.log.warn({ leader: address, lease, evidence }, 'the leader\'s process is gone; revoking its lease instead of waiting for the TTL');
    try {
      await this.opts.client.leaseClient.leaseRevoke({ ID: lease }, { deadline: Date.now() + 2000 } as never);
      this.revokedDeadLeaders++;
    } catch (e) {
      // Another standby revoked it first, or etcd is away (then the TTL decides): both are fine.
      this.log.debug({ lease, err: (e as Error).message }, 'revoking the dead leader\'s lease failed');
    }
    // The watch's delete event normally starts the campaign; do not depend on it.
    if (this.state === 'candidate') void this.campaign();
  }

  // ---------------------------------------------------------------- leader

  private keepAlive(): void {
    const lease = this.lease;
    if (this.state !== 'leader' || !lease) return;
    const sentAt = performance.now();
    lease.keepaliveOnce({ deadline: Date.now() + this.intervalMs * 2 })
      .then((res) => {
        if (Number(res.TTL) <= 0) this.lose('etcd says the lease has expired');
        else if (sentAt > this.lastOk) this.lastOk = sentAt;
      })
      .catch((e: Error) => {
        // A lease etcd no longer knows is final; anything else (timeout, etcd briefly down) is
        // retried by the next tick, and isLeader() steps down if they keep failing.
        if (/lease.*(not found|invalid|expired)/i.test(e.message) || e.name === 'EtcdLeaseInvalidError') this.lose(`etcd refused the keep-alive: ${e.message}`);
        else this.log.warn({ err: e.message }, 'lease keep-alive failed');
      });
  }

  private async revoke(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    if (!lease) return;
    try {
      await lease.revoke({ deadline: Date.now() + 2000 });
    } catch {
      // Best effort: the lease expires by itself within the TTL.
    }
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private stopTimers(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
    this.probe?.stop();
    this.probe = undefined;
  }
}

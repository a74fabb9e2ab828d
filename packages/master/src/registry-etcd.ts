/**
 * The registry in etcd, for masters in high availability: one key per record under a prefix
 * (`${prefix}frameworks/<id>`, `${prefix}agents/<id>`, `${prefix}roles/<role>`,
 * `${prefix}reservations/<agentId>`), each value the record as JSON with its
 * info as base64 protobuf (the same encoding as the file registry, so every field survives).
 * One key per record rather than one document because etcd caps a value at 1.5 MiB by default,
 * which 10,000 agents would exceed, and because a registration then writes ~300 bytes, not the
 * whole registry.
 *
 * Fencing: every write is one etcd transaction whose guard compares the election key's create
 * revision with the one this master created. A deposed leader — frozen while its lease expired,
 * partitioned, or simply slow — therefore cannot write once another master was elected (or
 * once the key is gone): etcd orders the transaction after the key's deletion and the guard
 * fails. The master then steps down (`onFenced`).
 *
 * Group commit, as in the file registry: while one transaction is in flight further `apply()`
 * calls queue; the next transaction carries all of them (up to `maxTxnOps` operations, etcd's
 * `--max-txn-ops`, 128 by default), so 1,000 agents registering at once cost a few round trips.
 * Each caller's batch always lands in a single transaction: all-or-nothing per caller.
 *
 * Warm standby (`follow()`): a standby keeps a decoded copy of the registry in step with etcd —
 * one read at start, then a watch — so that a take-over reads nothing from etcd and decodes
 * nothing. The copy is provably complete when used: the watch covers the election key too, and
 * etcd delivers a watch's events in revision order, so once the follower has seen this master's
 * own election key created (revision R) it has seen every registry write before R; writes after
 * R can only be this master's own (the fence). If the follower cannot vouch for that in time
 * (watch broken, etcd slow), `load()` reads everything as before.
 */
import type { Etcd3, IOperation, IKeyValue, Watcher } from 'etcd3';
import { Range } from 'etcd3';
import { agora, type Resource } from '@agora/core';
import type { Fence } from './leader-election.js';
import { agentExtras, RegistryState, type AgentRecord, type FrameworkRecord, type Registry, type RegistryOperation, type RegistrySnapshot, type RoleRecord } from './registry.js';
import { GroupCommit } from './group-commit.js';

/** Options of an EtcdRegistry. */
export interface EtcdRegistryOptions {
  /** Key prefix of the registry. @default '/agora/registry/' */
  prefix?: string;
  /**
   * The fence every write must pass (from `LeaderElection.fence()`); `undefined` from it means
   * "not leader" and the write is refused without asking etcd. Without this option writes are
   * unconditional (single-writer use, tests).
   */
  fence?: () => Fence | undefined;
  /** Called when etcd refused a write because the fence no longer holds. */
  onFenced?: (reason: string) => void;
  /** Most operations per transaction (etcd's `--max-txn-ops`). @default 128 */
  maxTxnOps?: number;
  /** Keys per page when loading. @default 1000 */
  pageSize?: number;
}

/** How long `load()` waits for the warm copy to reach the election revision before reading etcd. */
const FOLLOWER_CATCH_UP_MS = 2000;

/** A standby's warm copy of the registry (see the file comment). */
interface Follower {
  state: RegistryState;
  /** Highest etcd revision applied (every event of the watched range up to it is in `state`). */
  revision: number;
  watcher: Watcher | undefined;
  /** Set when the copy can no longer be trusted (decode error, watch error). */
  broken: string | undefined;
  waiters: Set<() => void>;
}

/** The error `apply()` rejects with when this master may no longer write. */
export class RegistryFencedError extends Error {
  override name = 'RegistryFencedError';
}


interface StoredRecord {
  id: string;
  registeredTime: number;
  info: string;
  goneTime?: number;
  drain?: { deadline: number };
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/** Registry kept in etcd (the master's store when it runs with `--etcd`). */
export class EtcdRegistry implements Registry {
  private readonly prefix: string;
  private readonly maxTxnOps: number;
  private readonly pageSize: number;
  private readonly commits: GroupCommit;
  /** Transactions committed so far (tests check group commit with it). */
  writes = 0;
  /** How the last `load()` got its data: 'etcd' (read everything) or 'warm' (the follower's copy). */
  lastLoad: 'etcd' | 'warm' | undefined;
  private follower: Follower | undefined;

  constructor(private readonly client: Etcd3, private readonly opts: EtcdRegistryOptions = {}) {
    this.prefix = opts.prefix ?? '/agora/registry/';
    this.maxTxnOps = opts.maxTxnOps ?? 128;
    this.pageSize = opts.pageSize ?? 1000;
    this.commits = new GroupCommit(async (batches) => {
      try {
        await this.commit(batches.flat());
      } catch (e) {
        throw e instanceof RegistryFencedError ? e : new Error(`registry write to etcd failed: ${(e as Error).message}`);
      }
    }, this.maxTxnOps);
  }

  /**
   * The registry as of now. With a warm copy (`follow()`) that has seen this master's election
   * (the fence's create revision), that copy, without reading etcd; otherwise every record read
   * from etcd. Either way following stops: from here on this master writes the registry.
   */
  async load(): Promise<RegistrySnapshot> {
    const f = this.follower;
    const need = Number(this.opts.fence?.()?.createRevision ?? Number.NaN);
    if (f && Number.isFinite(need) && (await this.reached(f, need, FOLLOWER_CATCH_UP_MS))) {
      this.unfollow();
      this.lastLoad = 'warm';
      return f.state.snapshot();
    }
    this.unfollow();
    this.lastLoad = 'etcd';
    return (await this.readAll()).snapshot;
  }

  /**
   * Keeps a decoded copy of the registry in step with etcd until `load()` or `close()`.
   * `watchPrefix` must cover both the registry prefix and the election key (the cluster's
   * prefix). Resolves once the copy is loaded and the watch is open; on failure the copy is
   * simply not used (load() reads etcd).
   */
  async follow(watchPrefix: string): Promise<void> {
    if (this.follower || !this.prefix.startsWith(watchPrefix)) return;
    const f: Follower = { state: new RegistryState(), revision: 0, watcher: undefined, broken: 'loading', waiters: new Set() };
    this.follower = f;
    let watcher: Watcher;
    try {
      const { snapshot, revision } = await this.readAll();
      if (this.follower !== f) return;
      f.state = RegistryState.from(snapshot);
      f.revision = revision;
      watcher = await this.client.watch().prefix(watchPrefix).startRevision(String(revision + 1)).create();
    } catch (e) {
      f.broken = `could not start following: ${(e as Error).message}`;
      this.wake(f);
      throw e;
    }
    if (this.follower !== f) {
      void watcher.cancel().catch(() => undefined);
      return;
    }
    f.watcher = watcher;
    f.broken = undefined;
    watcher.on('put', (kv: IKeyValue) => this.followed(f, kv, false));
    watcher.on('delete', (kv: IKeyValue) => this.followed(f, kv, true));
    // etcd3 resumes a disconnected watch from the last revision it saw; an error is final
    // (e.g. the revisions it needs were compacted): the copy is then not trusted.
    watcher.on('error', (e: Error) => { f.broken = `watch failed: ${e.message}`; this.wake(f); });
  }

  private followed(f: Follower, kv: IKeyValue, deleted: boolean): void {
    if (f.broken) return;
    const key = kv.key.toString();
    try {
      if (key.startsWith(this.prefix)) this.applyKv(f.state, key, deleted ? undefined : kv.value.toString());
    } catch (e) {
      f.broken = (e as Error).message;
    }
    const rev = Number(kv.mod_revision);
    if (rev > f.revision) f.revision = rev;
    this.wake(f);
  }

  private wake(f: Follower): void {
    for (const w of [...f.waiters]) w();
  }

  /** Resolves true once the copy has applied revision `rev`, false if broken or after `ms`. */
  private reached(f: Follower, rev: number, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (f.broken && f.broken !== 'loading') return done(false);
        if (!f.broken && f.revision >= rev) done(true);
      };
      const timer = setTimeout(() => done(false), ms);
      const done = (ok: boolean): void => { clearTimeout(timer); f.waiters.delete(check); resolve(ok); };
      f.waiters.add(check);
      check();
    });
  }

  private unfollow(): void {
    const f = this.follower;
    this.follower = undefined;
    if (!f) return;
    f.broken ??= 'stopped';
    this.wake(f);
    void f.watcher?.cancel().catch(() => undefined);
  }

  /** One key of the registry into a keyed copy: `value` undefined for a deletion. */
  private applyKv(state: RegistryState, key: string, value: string | undefined): void {
    const rest = key.slice(this.prefix.length);
    const slash = rest.indexOf('/');
    const kind = rest.slice(0, slash + 1);
    const id = rest.slice(slash + 1);
    if (value === undefined) {
      if (kind === 'frameworks/') state.frameworks.delete(id);
      else if (kind === 'agents/') state.agents.delete(id);
      else if (kind === 'roles/') state.roles.delete(id);
      else if (kind === 'reservations/') state.reservations.delete(id);
      return;
    }
    const one: RegistrySnapshot = { frameworks: [], agents: [], roles: [], reservations: [] };
    this.decode(key, value, one);
    state.apply([
      ...one.frameworks.map((framework) => ({ type: 'putFramework' as const, framework })),
      ...one.agents.map((agent) => ({ type: 'putAgent' as const, agent })),
      ...(one.roles ?? []).map((role) => ({ type: 'putRole' as const, role })),
      ...(one.reservations ?? []).map((reservations) => ({ type: 'putReservations' as const, reservations })),
    ]);
  }

  /** Reads every record, page by page, all at one etcd revision (a consistent snapshot). */
  private async readAll(): Promise<{ snapshot: RegistrySnapshot; revision: number }> {
    const snapshot: RegistrySnapshot = { frameworks: [], agents: [], roles: [], reservations: [] };
    const end = Range.prefix(this.prefix).end;
    let start: Buffer = Buffer.from(this.prefix);
    let revision: string | undefined;
    for (;;) {
      const q = this.client.getAll().inRange(new Range(start, end)).limit(this.pageSize);
      if (revision) q.revision(revision);
      const res = await q.exec();
      revision ??= String(res.header.revision);
      for (const kv of res.kvs) this.decode(kv.key.toString(), kv.value.toString(), snapshot);
      if (!res.more || res.kvs.length === 0) break;
      start = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
    }
    return { snapshot, revision: Number(revision) };
  }

  apply(ops: RegistryOperation[]): Promise<void> {
    // Checked up front so one bad batch cannot fail the group it would be committed with.
    const bad = ops.find((op) => this.keyOf(op) === undefined);
    if (bad) return Promise.reject(new Error(`unknown registry operation ${JSON.stringify(bad)}`));
    return this.commits.enqueue(ops);
  }

  close(): Promise<void> {
    this.unfollow();
    return this.commits.idle();
  }

  /** One transaction; later operations on a key win over earlier ones (as applied in order). */
  private async commit(ops: RegistryOperation[]): Promise<void> {
    const last = new Map<string, RegistryOperation>();
    for (const op of ops) {
      const key = this.keyOf(op)!;
      last.delete(key); // keep the final operation in its final position
      last.set(key, op);
    }
    const c = this.client;
    const writes: IOperation[] = [...last].map(([key, op]) => {
      const value = this.valueOf(op);
      return value === undefined ? c.delete().key(key) : c.put(key).value(value);
    });
    let fence: Fence | undefined;
    if (this.opts.fence) {
      fence = this.opts.fence();
      if (!fence) throw new RegistryFencedError('registry write refused: this master is not the leader');
    }
    if (!fence) {
      // A transaction with no guard always succeeds.
      await c.if(this.prefix, 'Version', '>', -1).then(...writes).commit();
      this.writes++;
      return;
    }
    const res = await c.if(fence.key, 'Create', '==', fence.createRevision).then(...writes).commit();
    if (!res.succeeded) {
      const reason = `registry write refused by etcd: the election key ${fence.key} is no longer the one this master created (revision ${fence.createRevision}); another master leads or none does`;
      this.opts.onFenced?.(reason);
      throw new RegistryFencedError(reason);
    }
    this.writes++;
  }

  // ---------------------------------------------------------------- encoding

  /** The etcd key an operation touches, or undefined for an operation this store does not know. */
  private keyOf(op: RegistryOperation): string | undefined {
    switch (op?.type) {
      case 'putFramework': return `${this.prefix}frameworks/${op.framework.id}`;
      case 'removeFramework': return `${this.prefix}frameworks/${op.frameworkId}`;
      case 'putAgent': return `${this.prefix}agents/${op.agent.id}`;
      case 'removeAgent': return `${this.prefix}agents/${op.agentId}`;
      case 'putRole': return `${this.prefix}roles/${op.role.role}`;
      case 'removeRole': return `${this.prefix}roles/${op.role}`;
      case 'putReservations': return `${this.prefix}reservations/${op.reservations.agentId}`;
      default: return undefined;
    }
  }

  /** The value to store, or undefined for a removal. */
  private valueOf(op: RegistryOperation): string | undefined {
    switch (op.type) {
      case 'putFramework': {
        const f = op.framework;
        return JSON.stringify({ id: f.id, registeredTime: f.registeredTime, info: b64(agora.v1.FrameworkInfo.encode(f.info).finish()) } satisfies StoredRecord);
      }
      case 'putAgent': {
        const a = op.agent;
        return JSON.stringify({ id: a.id, registeredTime: a.registeredTime, info: b64(agora.v1.AgentInfo.encode(a.info).finish()), ...agentExtras(a) } satisfies StoredRecord);
      }
      case 'putRole': return JSON.stringify(op.role);
      case 'putReservations': {
        const r = op.reservations;
        // No reservations left: drop the key rather than store an empty list.
        if (r.resources.length === 0) return undefined;
        return JSON.stringify({ agentId: r.agentId, resources: r.resources.map((x) => b64(agora.v1.Resource.encode(x).finish())) });
      }
      default: return undefined;
    }
  }

  private decode(key: string, value: string, into: RegistrySnapshot): void {
    const rest = key.slice(this.prefix.length);
    let rec: StoredRecord;
    let raw: unknown;
    try {
      raw = JSON.parse(value);
      rec = raw as StoredRecord;
    } catch (e) {
      // Refuse rather than silently forget an admitted framework or agent.
      throw new Error(`registry key ${key} in etcd is unreadable: ${(e as Error).message}`);
    }
    if (rest.startsWith('frameworks/')) {
      const f: FrameworkRecord = { id: rec.id, registeredTime: rec.registeredTime, info: agora.v1.FrameworkInfo.decode(unb64(rec.info)) };
      into.frameworks.push(f);
    } else if (rest.startsWith('agents/')) {
      const a: AgentRecord = { id: rec.id, registeredTime: rec.registeredTime, info: agora.v1.AgentInfo.decode(unb64(rec.info)), ...agentExtras(raw as AgentRecord) };
      into.agents.push(a);
    } else if (rest.startsWith('roles/')) {
      (into.roles ??= []).push(raw as RoleRecord);
    } else if (rest.startsWith('reservations/')) {
      const r = raw as { agentId: string; resources: string[] };
      const resources = r.resources.map((x) => agora.v1.Resource.toObject(agora.v1.Resource.decode(unb64(x)), { defaults: false }) as Resource);
      (into.reservations ??= []).push({ agentId: r.agentId, resources });
    }
    // Other keys under the prefix belong to a newer version of Agora: leave them alone.
  }
}

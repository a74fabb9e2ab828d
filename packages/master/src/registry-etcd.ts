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
 */
import type { Etcd3, IOperation } from 'etcd3';
import { Range } from 'etcd3';
import { agora, type Resource } from '@agora/core';
import type { Fence } from './leader-election.js';
import { agentExtras, type AgentRecord, type FrameworkRecord, type Registry, type RegistryOperation, type RegistrySnapshot, type RoleRecord } from './registry.js';
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

  /** Reads every record, page by page, all at one etcd revision (a consistent snapshot). */
  async load(): Promise<RegistrySnapshot> {
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
    return snapshot;
  }

  apply(ops: RegistryOperation[]): Promise<void> {
    // Checked up front so one bad batch cannot fail the group it would be committed with.
    const bad = ops.find((op) => this.keyOf(op) === undefined);
    if (bad) return Promise.reject(new Error(`unknown registry operation ${JSON.stringify(bad)}`));
    return this.commits.enqueue(ops);
  }

  close(): Promise<void> {
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

/**
 * The master's durable state (Mesos "registry"): which frameworks and agents it has admitted,
 * plus operator role settings (weights, quota) and dynamic reservations per agent. Tasks are
 * not here; agents report them when they re-register.
 *
 * The interface is shaped for both the embedded file store and an etcd store: `load()` reads
 * one snapshot at start; `apply()` commits a batch of operations atomically and resolves only
 * once they are durable (the master answers SUBSCRIBED / REGISTERED after that). Concurrent
 * `apply()` calls may be group-committed — one write for many callers — which is what keeps
 * 1,000 agents registering at once from costing 1,000 fsyncs.
 */
import { agora, type AgentInfo, type FrameworkInfo, type Resource } from '@agora/core';

/** A framework the master has admitted and not torn down. */
export interface FrameworkRecord {
  id: string;
  info: FrameworkInfo;
  /** Seconds since the epoch. */
  registeredTime: number;
}

/** An agent identity the master has admitted. */
export interface AgentRecord {
  id: string;
  info: AgentInfo;
  /** Seconds since the epoch. */
  registeredTime: number;
  /**
   * Seconds since the epoch when it was marked GONE (unreachable too long). A gone agent is no
   * longer admitted: the record stays only so that the agent is refused if it ever comes back.
   */
  goneTime?: number;
  /** Being drained (`DrainAgent`): tasks still running at `deadline` (seconds since the epoch) are killed. */
  drain?: AgentDrainRecord;
}

/** The drain of one agent, as the registry keeps it. */
export interface AgentDrainRecord {
  /** Seconds since the epoch. */
  deadline: number;
}

/** The optional parts of an agent record, as plain JSON (every backend stores them alike). */
export function agentExtras(a: AgentRecord): { goneTime?: number; drain?: AgentDrainRecord } {
  const out: { goneTime?: number; drain?: AgentDrainRecord } = {};
  if (typeof a.goneTime === 'number') out.goneTime = a.goneTime;
  if (a.drain && typeof a.drain.deadline === 'number') out.drain = { deadline: a.drain.deadline };
  return out;
}

/**
 * Operator settings of one role (`agora roles set`). Scalars are plain name → amount objects
 * so that every registry backend can store them as JSON.
 */
export interface RoleRecord {
  role: string;
  /** @default 1 */
  weight?: number;
  /** Quota guarantee, e.g. `{ cpus: 4, mem: 4096 }`. */
  guarantee?: Record<string, number>;
  /** Quota limit. */
  limit?: Record<string, number>;
}

/**
 * The dynamic reservations (RESERVE operations) on one agent, as resources carrying their
 * DYNAMIC reservation. Empty `resources` means none (the record may be dropped).
 */
export interface ReservationRecord {
  agentId: string;
  resources: Resource[];
}

/** Everything the registry holds. `roles` and `reservations` are absent in older snapshots. */
export interface RegistrySnapshot {
  frameworks: FrameworkRecord[];
  agents: AgentRecord[];
  roles?: RoleRecord[];
  reservations?: ReservationRecord[];
}

/** One change; a batch of them is applied all-or-nothing. */
export type RegistryOperation =
  | { type: 'putFramework'; framework: FrameworkRecord }
  | { type: 'removeFramework'; frameworkId: string }
  | { type: 'putAgent'; agent: AgentRecord }
  | { type: 'removeAgent'; agentId: string }
  /** Sets a role's weight and quota (replaces the previous record of that role). */
  | { type: 'putRole'; role: RoleRecord }
  /** Back to defaults: weight 1, no quota. */
  | { type: 'removeRole'; role: string }
  /** Replaces the agent's dynamic reservations (empty list: none). */
  | { type: 'putReservations'; reservations: ReservationRecord };

/** Every RegistryOperation type; a Registry refuses others up front (use this set, not a copy). */
export const REGISTRY_OPERATION_TYPES: ReadonlySet<string> = new Set<RegistryOperation['type']>([
  'putFramework', 'removeFramework', 'putAgent', 'removeAgent', 'putRole', 'removeRole', 'putReservations',
]);

/** Durable storage of admitted frameworks and agents. */
export interface Registry {
  /** Reads the whole state (empty on first start). Called once, before any `apply`. */
  load(): Promise<RegistrySnapshot>;
  /** Commits `ops` atomically; resolves once durable, rejects if they could not be stored. */
  apply(ops: RegistryOperation[]): Promise<void>;
  /** Finishes pending writes and releases resources. */
  close(): Promise<void>;
}

/** The snapshot as a mutable pair of maps, with the operations applied in order. */
export class RegistryState {
  readonly frameworks = new Map<string, FrameworkRecord>();
  readonly agents = new Map<string, AgentRecord>();
  readonly roles = new Map<string, RoleRecord>();
  readonly reservations = new Map<string, ReservationRecord>();

  static from(snapshot: RegistrySnapshot): RegistryState {
    const s = new RegistryState();
    for (const f of snapshot.frameworks) s.frameworks.set(f.id, f);
    for (const a of snapshot.agents) s.agents.set(a.id, a);
    for (const r of snapshot.roles ?? []) s.roles.set(r.role, r);
    for (const r of snapshot.reservations ?? []) if (r.resources.length > 0) s.reservations.set(r.agentId, r);
    return s;
  }

  clone(): RegistryState {
    return RegistryState.from(this.snapshot());
  }

  apply(ops: readonly RegistryOperation[]): void {
    for (const op of ops) {
      switch (op.type) {
        case 'putFramework': this.frameworks.set(op.framework.id, op.framework); break;
        case 'removeFramework': this.frameworks.delete(op.frameworkId); break;
        case 'putAgent': this.agents.set(op.agent.id, op.agent); break;
        case 'removeAgent': this.agents.delete(op.agentId); break;
        case 'putRole': this.roles.set(op.role.role, op.role); break;
        case 'removeRole': this.roles.delete(op.role); break;
        case 'putReservations':
          if (op.reservations.resources.length > 0) this.reservations.set(op.reservations.agentId, op.reservations);
          else this.reservations.delete(op.reservations.agentId);
          break;
        default: throw new Error(`unknown registry operation ${JSON.stringify(op)}`);
      }
    }
  }

  snapshot(): RegistrySnapshot {
    return { frameworks: [...this.frameworks.values()], agents: [...this.agents.values()], roles: [...this.roles.values()], reservations: [...this.reservations.values()] };
  }
}

/**
 * JSON form of a snapshot. Infos travel as base64 protobuf so that every field (enums, bytes,
 * optional presence) survives exactly, whatever the schema grows.
 */
export function encodeSnapshot(s: RegistrySnapshot): string {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  return JSON.stringify({
    version: 1,
    frameworks: s.frameworks.map((f) => ({ id: f.id, registeredTime: f.registeredTime, info: b64(agora.v1.FrameworkInfo.encode(f.info).finish()) })),
    agents: s.agents.map((a) => ({ id: a.id, registeredTime: a.registeredTime, info: b64(agora.v1.AgentInfo.encode(a.info).finish()), ...agentExtras(a) })),
    roles: s.roles ?? [],
    reservations: (s.reservations ?? []).map((r) => ({ agentId: r.agentId, resources: r.resources.map((x) => b64(agora.v1.Resource.encode(x).finish())) })),
  });
}

/** Inverse of encodeSnapshot. Throws an Error saying what is wrong with the text. */
export function decodeSnapshot(text: string): RegistrySnapshot {
  const raw = JSON.parse(text) as {
    version?: number; frameworks?: { id: string; registeredTime: number; info: string }[]; agents?: ({ id: string; registeredTime: number; info: string } & Pick<AgentRecord, 'goneTime' | 'drain'>)[];
    roles?: RoleRecord[]; reservations?: { agentId: string; resources: string[] }[];
  };
  if (raw.version !== 1) throw new Error(`registry version ${String(raw.version)} is not supported (expected 1)`);
  const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
  return {
    frameworks: (raw.frameworks ?? []).map((f) => ({ id: f.id, registeredTime: f.registeredTime, info: agora.v1.FrameworkInfo.decode(bytes(f.info)) })),
    agents: (raw.agents ?? []).map((a) => ({ id: a.id, registeredTime: a.registeredTime, info: agora.v1.AgentInfo.decode(bytes(a.info)), ...agentExtras(a as AgentRecord) })),
    roles: raw.roles ?? [],
    reservations: (raw.reservations ?? []).map((r) => ({ agentId: r.agentId, resources: r.resources.map((x) => agora.v1.Resource.toObject(agora.v1.Resource.decode(bytes(x)), { defaults: false }) as Resource) })),
  };
}

/** A registry in memory only: for tests and throw-away clusters. */
export class MemoryRegistry implements Registry {
  private readonly state = new RegistryState();
  /** Number of `apply` calls so far. */
  applied = 0;

  async load(): Promise<RegistrySnapshot> {
    return this.state.snapshot();
  }

  async apply(ops: RegistryOperation[]): Promise<void> {
    this.applied++;
    this.state.apply(ops);
  }

  async close(): Promise<void> {}
}

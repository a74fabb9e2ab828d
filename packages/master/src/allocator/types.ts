/**
 * The allocator's view of the world. Everything here is plain, read-only data: the master
 * builds it from its own books and the allocator never sees a stream, a timer or a file
 * (CONVENTIONS §1). `now` comes in with the state so filters can be judged without a clock.
 */
import type { Resource } from '@agora/core';

/** Scalar quantities by resource name (`cpus` → 2.5). */
export type ScalarVector = ReadonlyMap<string, number>;

/** A refusal recorded by DECLINE or by the unused part of an ACCEPT. */
export interface ResourceFilter {
  readonly until: number;
  readonly resources: readonly Resource[];
}

/** An agent whose unused resources may be offered this round. */
export interface AgentSlot {
  readonly id: string;
  /**
   * Resources neither offered nor used, without allocation roles (as the ledger keeps them).
   * Reserved entries (static `cpus(eng):2` or dynamic) go only to their role and its children.
   */
  readonly available: readonly Resource[];
}

/** A framework that may receive offers. */
export interface FrameworkSlot {
  readonly id: string;
  /**
   * Roles it subscribed with (MULTI_ROLE); `['*']` when it gave none. Each role is allocated
   * separately: one offer per (agent, framework, role).
   */
  readonly roles: readonly string[];
  /** Suppressed frameworks receive nothing until they revive. */
  readonly suppressed: boolean;
  /**
   * False for a framework that holds resources but cannot take offers now (disconnected): its
   * usage still counts for its roles' shares and quota. @default true
   */
  readonly active?: boolean;
  /** Roles it suppressed with SUPPRESS{roles} (the others still get offers). */
  readonly suppressedRoles?: ReadonlySet<string>;
  /** What it holds now (allocated + offered) over all its roles. */
  readonly usage: ScalarVector;
  /**
   * What it holds per role, the basis of fairness and quota. When absent, everything in
   * `usage` counts for its first role.
   */
  readonly roleUsage?: ReadonlyMap<string, ScalarVector>;
  /**
   * Agent ID → refusal: until `until` (ms) this framework is not offered that agent's
   * resources as long as they fit within `resources` (what it declined). Mesos semantics:
   * once more is free than was refused, the agent is offered again.
   */
  readonly filters?: ReadonlyMap<string, ResourceFilter>;
  /** DRF weight of the framework inside its role (shares are divided by it). @default 1 */
  readonly weight?: number;
  /** Used by the priority sorter (higher first) and to pick preemption victims. @default 0 */
  readonly priority?: number;
  /**
   * Change counter for an `AllocatorState`: the owner bumps it whenever `roles`, `suppressed`,
   * `suppressedRoles`, `active`, `usage`/`roleUsage`, `weight` or `priority` change (filters are
   * read live and need no bump). Unchanged since the last round: the kept role tree is reused
   * for this framework. Absent: it is re-read every round (always correct, slower).
   */
  readonly version?: number;
}

/** Quota of a role: scalar guarantee (met before fair sharing) and limit (never exceeded). */
export interface RoleQuota {
  readonly guarantee?: ScalarVector;
  readonly limit?: ScalarVector;
}

/** Operator configuration of one role (absent roles have weight 1 and no quota). */
export interface RoleConfig {
  /** @default 1 */
  readonly weight?: number;
  readonly quota?: RoleQuota;
}

/** Input of one allocation round. */
export interface AllocationInput {
  /** Agents to consider, in any order (usually only those whose resources changed). */
  readonly agents: Iterable<AgentSlot>;
  readonly frameworks: readonly FrameworkSlot[];
  /** Scalar totals of every active agent, the denominator of dominant shares. */
  readonly totals: ScalarVector;
  /** Milliseconds since the epoch, for filters. */
  readonly now: number;
  /** Role name → weight and quota. Roles not listed have weight 1 and no quota. */
  readonly roles?: ReadonlyMap<string, RoleConfig>;
}

/** One decision: offer `resources` of `agentId` to `frameworkId`, allocated to `role`. */
export interface Allocation {
  readonly agentId: string;
  readonly frameworkId: string;
  readonly role: string;
  readonly resources: Resource[];
}

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
  /** Resources neither offered nor used, without allocation roles (as the ledger keeps them). */
  readonly available: readonly Resource[];
}

/** A framework that may receive offers. */
export interface FrameworkSlot {
  readonly id: string;
  /** The role its offers are allocated to ('*' when it gave none). */
  readonly role: string;
  /** Suppressed frameworks receive nothing until they revive. */
  readonly suppressed: boolean;
  /** What it holds now (allocated + offered), the basis of fairness. */
  readonly usage: ScalarVector;
  /**
   * Agent ID → refusal: until `until` (ms) this framework is not offered that agent's
   * resources as long as they fit within `resources` (what it declined). Mesos semantics:
   * once more is free than was refused, the agent is offered again.
   */
  readonly filters?: ReadonlyMap<string, ResourceFilter>;
  /** DRF weight (shares are divided by it). @default 1 */
  readonly weight?: number;
  /** Used by priority-style sorters: higher first. @default 0 */
  readonly priority?: number;
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
}

/** One decision: offer `resources` of `agentId` to `frameworkId`. */
export interface Allocation {
  readonly agentId: string;
  readonly frameworkId: string;
  readonly resources: Resource[];
}

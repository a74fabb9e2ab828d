/**
 * The pure allocator: state and `now` in, allocations (and explanations, preemption decisions)
 * out (CONVENTIONS §1–3). Nothing here imports the rest of the master; the master imports this.
 */
export { Allocator, AllocatorState, allocate, isAllocatable, MIN_ALLOCATABLE } from './allocator.js';
export type { AllocatorOptions, AgentOrder, MinAllocatable } from './allocator.js';
export { dominantShareOf, weightedShare, KeyedSorter } from './sorter.js';
export type { Sorter, SorterClient } from './sorter.js';
export { DrfSorter } from './sorter-drf.js';
export { RandomSorter, seededRandom } from './sorter-random.js';
export { PrioritySorter } from './sorter-priority.js';
export { RoundRobinSorter } from './sorter-round-robin.js';
export { explain } from './explain.js';
export type { ExplainInput, Explanation, AgentVerdict } from './explain.js';
export { planPreemption, preemptionKey } from './preemption.js';
export type { PreemptionInput, PreemptionTask, PreemptionDecision } from './preemption.js';
export { DEFAULT_ROLE, validateRoleName, parentRole, isWithin, mayUse, reservedFor } from './roles.js';
export { subtreeUsage, chop } from './quota.js';
export type {
  Allocation, AllocationInput, AgentSlot, FrameworkSlot, ResourceFilter, ScalarVector, RoleConfig, RoleQuota,
} from './types.js';

import { DrfSorter } from './sorter-drf.js';
import { PrioritySorter } from './sorter-priority.js';
import { RandomSorter } from './sorter-random.js';
import { RoundRobinSorter } from './sorter-round-robin.js';
import type { Sorter } from './sorter.js';

/** Names of the built-in sorters. */
export type SorterName = 'drf' | 'random' | 'priority' | 'round-robin';

/** The built-in sorter names, for flags and validation. */
export const SORTER_NAMES: readonly SorterName[] = ['drf', 'random', 'priority', 'round-robin'];

/** A built-in sorter by name (`seed` feeds the random one). Throws on an unknown name. */
export function createSorter(name: SorterName, seed = 1): Sorter {
  switch (name) {
    case 'drf': return new DrfSorter();
    case 'random': return new RandomSorter(seed);
    case 'priority': return new PrioritySorter();
    case 'round-robin': return new RoundRobinSorter();
    default: throw new Error(`unknown sorter '${String(name)}' (known: ${SORTER_NAMES.join(', ')})`);
  }
}

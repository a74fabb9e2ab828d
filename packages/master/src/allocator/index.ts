/**
 * The pure allocator: state and `now` in, allocations out (CONVENTIONS §1–3). Nothing here
 * imports the rest of the master; the master imports this.
 */
export { Allocator, allocate, isAllocatable, MIN_ALLOCATABLE } from './allocator.js';
export type { AllocatorOptions } from './allocator.js';
export { dominantShareOf } from './sorter.js';
export type { Sorter, SorterClient } from './sorter.js';
export { DrfSorter } from './sorter-drf.js';
export { RandomSorter, seededRandom } from './sorter-random.js';
export type { Allocation, AllocationInput, AgentSlot, FrameworkSlot, ResourceFilter, ScalarVector } from './types.js';

import { DrfSorter } from './sorter-drf.js';
import { RandomSorter } from './sorter-random.js';
import type { Sorter } from './sorter.js';

/** Names of the built-in sorters. */
export type SorterName = 'drf' | 'random';

/** A built-in sorter by name (`seed` feeds the random one). Throws on an unknown name. */
export function createSorter(name: SorterName, seed = 1): Sorter {
  switch (name) {
    case 'drf': return new DrfSorter();
    case 'random': return new RandomSorter(seed);
    default: throw new Error(`unknown sorter '${String(name)}' (known: drf, random)`);
  }
}

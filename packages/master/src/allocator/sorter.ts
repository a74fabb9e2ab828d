/**
 * The fairness seam (Mesos `sorter/sorter.hpp`): a Sorter decides which framework is offered
 * an agent's resources next. The allocator asks it once per agent with the usage it has
 * accumulated so far in the round, so a sorter sees every earlier decision of the round.
 */
import type { ScalarVector } from './types.js';

/** A framework as a sorter sees it. */
export interface SorterClient {
  readonly id: string;
  /** Allocated + offered scalars, including what this round has handed out so far. */
  readonly usage: ScalarVector;
  /** @default 1 */
  readonly weight: number;
  /** @default 0 */
  readonly priority: number;
}

/** Orders clients; first = offered first. Must not mutate its input. */
export interface Sorter {
  readonly name: string;
  sort<C extends SorterClient>(clients: readonly C[], totals: ScalarVector): C[];
}

/** Dominant share of `usage` against `totals` (0 when the cluster holds none of a resource). */
export function dominantShareOf(usage: ScalarVector, totals: ScalarVector): number {
  let share = 0;
  for (const [name, used] of usage) {
    const total = totals.get(name) ?? 0;
    if (total > 0 && used > 0) share = Math.max(share, used / total);
  }
  return share;
}

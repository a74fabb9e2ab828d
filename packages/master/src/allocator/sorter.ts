/**
 * The fairness seam (Mesos `sorter/sorter.hpp`): a Sorter decides who is offered an agent's
 * resources next. Unlike Mesos, which re-sorts every client for every agent, a Sorter here
 * gives each client a *rank* (`group`, then `key`, smaller first; ties by ID) that is
 * recomputed only when that client's usage changes; the allocator keeps clients in heaps
 * ordered by rank. The same sorter orders roles (level one) and frameworks inside a role
 * (level two), as Mesos's two-level hierarchical allocator does.
 */
import type { ScalarVector } from './types.js';

/** A framework (or a role) as a sorter sees it. */
export interface SorterClient {
  readonly id: string;
  /** Allocated + offered scalars, including what this round has handed out so far. */
  readonly usage: ScalarVector;
  /** @default 1 */
  readonly weight: number;
  /** @default 0 (for a role: the highest priority of its frameworks) */
  readonly priority: number;
}

/** Orders clients by rank; first = offered first. Pure apart from its own seeded state. */
export interface Sorter {
  readonly name: string;
  /**
   * True when a client's rank changes only with its usage, weight, priority or `served()`, so
   * an allocator may keep ranks from one round to the next (an AllocatorState). False or
   * absent: every round ranks every client afresh (the random sorter draws new keys).
   */
  readonly persistentRanks?: boolean;
  /** Coarse rank, compared first (the priority sorter puts -priority here). */
  group(client: SorterClient): number;
  /** Fine rank inside a group; called whenever the client's usage changed. */
  key(client: SorterClient, totals: ScalarVector): number;
  /** Told that `client` was just given resources (round-robin moves it to the back). */
  served(client: SorterClient): void;
  /** The clients in order (first = offered first). Never mutates its input. */
  sort<C extends SorterClient>(clients: readonly C[], totals: ScalarVector): C[];
}

/** Dominant share of `usage` against `totals` (0 when the cluster holds none of a resource). */
export function dominantShareOf(usage: ScalarVector, totals: ScalarVector): number {
  let share = 0;
  for (const [name, used] of usage) {
    if (used <= 0) continue;
    const total = totals.get(name) ?? 0;
    if (total > 0) {
      const s = used / total;
      if (s > share) share = s;
    }
  }
  return share;
}

/** DRF rank: dominant share divided by weight. */
export function weightedShare(c: SorterClient, totals: ScalarVector): number {
  return dominantShareOf(c.usage, totals) / (c.weight > 0 ? c.weight : 1);
}

/** Shared by the built-in sorters: the total order they define (group, key, then ID). */
export abstract class KeyedSorter implements Sorter {
  abstract readonly name: string;
  readonly persistentRanks: boolean = true;
  group(_client: SorterClient): number {
    return 0;
  }
  abstract key(client: SorterClient, totals: ScalarVector): number;
  served(_client: SorterClient): void {}

  sort<C extends SorterClient>(clients: readonly C[], totals: ScalarVector): C[] {
    const keyed = clients.map((c) => ({ c, g: this.group(c), k: this.key(c, totals) }));
    keyed.sort((a, b) => a.g - b.g || a.k - b.k || (a.c.id < b.c.id ? -1 : a.c.id > b.c.id ? 1 : 0));
    return keyed.map((x) => x.c);
  }
}

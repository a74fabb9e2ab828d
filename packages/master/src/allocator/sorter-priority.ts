/**
 * Priority scheduling: higher `priority` first (FrameworkInfo.priority; a role ranks by its
 * highest-priority framework). Clients of equal priority share by DRF, so a crowd of equals
 * is still fair among itself.
 */
import { KeyedSorter, weightedShare, type SorterClient } from './sorter.js';
import type { ScalarVector } from './types.js';

export class PrioritySorter extends KeyedSorter {
  readonly name = 'priority';

  override group(c: SorterClient): number {
    return -(Number.isFinite(c.priority) ? c.priority : 0);
  }

  key(c: SorterClient, totals: ScalarVector): number {
    return weightedShare(c, totals);
  }
}

/**
 * Dominant Resource Fairness (Ghodsi et al., NSDI 2011; Mesos `sorter/drf`): the framework
 * with the smallest dominant share (its largest fraction of any one resource, divided by its
 * weight) is offered first. Ties go to the lower ID so that results are reproducible.
 */
import { dominantShareOf, type Sorter, type SorterClient } from './sorter.js';
import type { ScalarVector } from './types.js';

export class DrfSorter implements Sorter {
  readonly name = 'drf';

  sort<C extends SorterClient>(clients: readonly C[], totals: ScalarVector): C[] {
    if (clients.length <= 1) return [...clients];
    const keyed = clients.map((c) => ({ c, share: dominantShareOf(c.usage, totals) / (c.weight > 0 ? c.weight : 1) }));
    keyed.sort((a, b) => a.share - b.share || (a.c.id < b.c.id ? -1 : a.c.id > b.c.id ? 1 : 0));
    return keyed.map((k) => k.c);
  }
}

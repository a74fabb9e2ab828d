/**
 * Dominant Resource Fairness (Ghodsi et al., NSDI 2011; Mesos `sorter/drf`): the client with
 * the smallest dominant share (its largest fraction of any one resource, divided by its
 * weight) is offered first. Ties go to the lower ID so that results are reproducible.
 */
import { KeyedSorter, weightedShare, type SorterClient } from './sorter.js';
import type { ScalarVector } from './types.js';

export class DrfSorter extends KeyedSorter {
  readonly name = 'drf';

  key(c: SorterClient, totals: ScalarVector): number {
    return weightedShare(c, totals);
  }
}

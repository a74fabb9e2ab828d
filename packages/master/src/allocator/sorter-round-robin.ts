/**
 * Round-robin: whoever was served longest ago goes first, whatever it holds. Clients never
 * served go first, in ID order. The turn counter lives in the sorter (one per allocator), so
 * turns carry over from round to round; it is pure state, no clock.
 */
import { KeyedSorter, type SorterClient } from './sorter.js';

/** Bound on remembered clients; beyond it the oldest turns are forgotten (they rank first again). */
const MAX_REMEMBERED = 100_000;

export class RoundRobinSorter extends KeyedSorter {
  readonly name = 'round-robin';
  private turn = 0;
  private readonly last = new Map<string, number>();

  key(c: SorterClient): number {
    return this.last.get(c.id) ?? 0;
  }

  override served(c: SorterClient): void {
    this.last.delete(c.id);
    this.last.set(c.id, ++this.turn);
    if (this.last.size > MAX_REMEMBERED) {
      const oldest = this.last.keys().next().value;
      if (oldest !== undefined) this.last.delete(oldest);
    }
  }
}

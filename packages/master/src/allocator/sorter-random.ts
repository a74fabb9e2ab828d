/**
 * A random order on every call (Mesos `sorter/random`), useful as a baseline and to shake out
 * order dependence. The generator is seeded (CONVENTIONS §3) so a test run can be replayed.
 */
import type { Sorter, SorterClient } from './sorter.js';
import type { ScalarVector } from './types.js';

/** mulberry32: tiny, fast, good enough for shuffling. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class RandomSorter implements Sorter {
  readonly name = 'random';
  private readonly random: () => number;

  /** @param seed the RNG seed @default 1 */
  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  sort<C extends SorterClient>(clients: readonly C[], _totals: ScalarVector): C[] {
    const out = [...clients];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const t = out[i] as C;
      out[i] = out[j] as C;
      out[j] = t;
    }
    return out;
  }
}

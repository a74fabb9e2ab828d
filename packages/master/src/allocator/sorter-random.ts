/**
 * A random order (Mesos `sorter/random`), useful as a baseline and to shake out order
 * dependence: every client gets a fresh random rank whenever it is (re)ranked, weighted so
 * that a client of weight w comes first w times as often as one of weight 1. The generator is
 * seeded (CONVENTIONS §3) so a run can be replayed.
 */
import { KeyedSorter, type SorterClient } from './sorter.js';

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

export class RandomSorter extends KeyedSorter {
  readonly name = 'random';
  /** Fresh keys every round: kept ranks would freeze one random order. */
  override readonly persistentRanks = false;
  private readonly random: () => number;

  /** @param seed the RNG seed @default 1 */
  constructor(seed = 1) {
    super();
    this.random = seededRandom(seed);
  }

  key(c: SorterClient): number {
    // Exponential race (Efraimidis–Spirakis): min of Exp(w) picks i with probability w_i / Σw.
    const w = c.weight > 0 ? c.weight : 1;
    return -Math.log(1 - this.random()) / w;
  }
}

/** What bench/allocator.ts needs from the master package, in one place. */
export { Allocator, AllocatorState } from '@agora/master';
export type { AgentSlot, FrameworkSlot } from '@agora/master';

/** mulberry32, so that synthetic clusters are the same on every run. */
export function seededRandomForBench(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What bench/allocator.ts needs from the master package, in one place. */
export { Allocator, AllocatorState, seededRandom } from '@agora/master';
export type { AgentSlot, FrameworkSlot } from '@agora/master';

/**
 * @agora/master — the Agora master: registrations, the resource ledger, DRF allocation and
 * offers, task and status bookkeeping, the durable registry and the operator API.
 *
 * @example
 * import { startMaster } from '@agora/master';
 * const master = await startMaster({ port: 0, workDir: './.agora/master' });
 * // agents connect to master.address, schedulers subscribe to it …
 * await master.stop();
 */
export { Master, startMaster } from './master.js';
export type { MasterOptions } from './options.js';
export { FileRegistry } from './registry-file.js';
export { MemoryRegistry } from './registry.js';
export type { Registry, RegistrySnapshot, RegistryOperation, FrameworkRecord, AgentRecord } from './registry.js';
export { Allocator, allocate, createSorter, DrfSorter, RandomSorter, isAllocatable, MIN_ALLOCATABLE, dominantShareOf } from './allocator/index.js';
export type { AllocatorOptions, Sorter, SorterClient, SorterName, Allocation, AllocationInput, AgentSlot, FrameworkSlot, ResourceFilter, ScalarVector } from './allocator/index.js';
export { validateTask, validateOffers, validateFrameworkInfo, validateAgentInfo, validateExecutor, validateFits, validateId } from './validation.js';

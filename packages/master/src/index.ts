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
export { EtcdRegistry, RegistryFencedError } from './registry-etcd.js';
export type { EtcdRegistryOptions } from './registry-etcd.js';
export { LeaderElection } from './leader-election.js';
export type { LeaderElectionOptions, Fence } from './leader-election.js';
export type { Registry, RegistrySnapshot, RegistryOperation, FrameworkRecord, AgentRecord, RoleRecord, ReservationRecord } from './registry.js';
export {
  Allocator, AllocatorState, allocate, createSorter, DrfSorter, RandomSorter, PrioritySorter, RoundRobinSorter, SORTER_NAMES, isAllocatable, MIN_ALLOCATABLE,
  dominantShareOf, explain, planPreemption, validateRoleName, seededRandom,
} from './allocator/index.js';
export type {
  AllocatorOptions, AgentOrder, MinAllocatable, Sorter, SorterClient, SorterName, Allocation, AllocationInput, AgentSlot, FrameworkSlot,
  ResourceFilter, ScalarVector, RoleConfig, RoleQuota, Explanation, AgentVerdict, PreemptionDecision, PreemptionInput, PreemptionTask,
} from './allocator/index.js';
export { validateTask, validateOffers, validateFrameworkInfo, validateAgentInfo, validateExecutor, validateFits, validateId } from './validation.js';
export { MasterAuthorizer } from './auth/authorizer.js';
export type { SandboxSubject } from './auth/authorizer.js';
export type { MasterSecurityOptions } from './auth/master-security.js';
export { parseRateLimits, readRateLimitsFile, RateLimiter, TokenBucket } from './auth/rate-limit.js';
export type { RateLimits, RateLimit } from './auth/rate-limit.js';

/**
 * What failure handling (agent-health.ts, reconciliation.ts, drain.ts) reads and does of the
 * master's books. MasterState provides it; the modules take this narrow view instead of
 * MasterState itself so that no import cycle forms (as the preemptor does).
 */
import type { Clock, Logger, TaskState, TaskStatus, TaskStatusReason } from '@agora/core';
import type { AgentEntry } from './agents.js';
import type { FrameworkEntry } from './frameworks.js';
import type { Ledger } from './ledger.js';
import type { MasterMetrics } from './metrics.js';
import type { OfferBook, OfferRecord } from './offers.js';
import type { CompiledMasterOptions } from './options.js';
import type { AgentRecord, RegistryOperation } from './registry.js';
import type { TaskRecord, TaskTable, FreedExecutor } from './tasks.js';

export interface FailureHost {
  readonly clock: Clock;
  readonly log: Logger;
  readonly opts: CompiledMasterOptions;
  readonly metrics: MasterMetrics;
  readonly agents: Map<string, AgentEntry>;
  readonly frameworks: Map<string, FrameworkEntry>;
  readonly tasks: TaskTable;
  readonly ledger: Ledger;
  readonly offers: OfferBook;
  /** Agents marked GONE: ID → seconds since the epoch (refused if they come back). */
  readonly goneAgents: Map<string, number>;
  /** Agents known from the registry that have not re-registered since this master started leading. */
  readonly recoveringAgents: Set<string>;
  persist(ops: RegistryOperation[]): Promise<void>;
  agentRecord(agent: AgentEntry): AgentRecord;
  deactivateAgent(agent: AgentEntry, why: string): void;
  rescindOffer(o: OfferRecord, notify: boolean): void;
  setTaskState(rec: TaskRecord, status: TaskStatus): void;
  masterStatus(taskId: string, state: TaskState, reason: TaskStatusReason, message: string, agentId?: string, executorId?: string): TaskStatus;
  sendUpdate(fw: FrameworkEntry, status: TaskStatus): void;
  requestAllocation(agentId?: string): void;
  /** The agent stopped being a question mark (re-registered, unreachable or gone): held reconciliation may be answered. */
  agentSettled(agentId: string): void;
  /** The agent is gone: drop what other modules keep about it. */
  agentGone(agent: AgentEntry): void;
  /** Takes a freed executor's resources off its framework's share (if they were charged). */
  unchargeExecutor(freed: FreedExecutor): void;
}

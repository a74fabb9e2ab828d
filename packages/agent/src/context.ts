/**
 * What the agent's parts (built-in executors, custom executors, files) share: the compiled
 * options, the state, the status update manager and a few actions. An interface rather than
 * the Agent itself so each part can be read (and tested) without the whole.
 */
import {
  TaskStatusSource,
  newUuidBytes,
  type AgentCall,
  type AgentInfo,
  type Logger,
  type TaskState,
  type TaskStatus,
  type TaskStatusReason,
} from '@agora/core';
import type { Isolation } from './isolation/index.js';
import type { CompiledAgentOptions } from './options.js';
import type { AgentState, TaskRecord } from './state.js';
import type { StatusUpdateManager } from './status-updates.js';

export interface StatusExtra {
  message?: string;
  reason?: TaskStatusReason;
  exitCode?: number;
  /** @default SOURCE_EXECUTOR (the built-in executors); SOURCE_AGENT for the agent's own verdicts */
  source?: TaskStatusSource;
}

export interface AgentContext {
  readonly o: CompiledAgentOptions;
  readonly log: Logger;
  readonly state: AgentState;
  readonly updates: StatusUpdateManager;
  /** The ID the master gave this agent ('' before the first registration). */
  agentId(): string;
  /** host:port of the agent's gRPC server. */
  address(): string;
  agentInfo(): AgentInfo;
  /** True once stop() began: no new work is accepted. */
  stopping(): boolean;
  /** Sends a call to the master (dropped while disconnected). */
  sendToMaster(call: AgentCall): void;
  /** Users, cgroups/rlimits and disk quotas of containers (isolation/). */
  readonly isolation: Isolation;
  /** A fresh path for one process's exit status file (see runner-execa.ts); undefined: none. */
  exitFile(): string | undefined;
}

/** Builds a status update for a task, with a fresh uuid. */
export function makeStatus(ctx: AgentContext, task: TaskRecord, state: TaskState, extra: StatusExtra = {}): TaskStatus {
  const status: TaskStatus = {
    taskId: { value: task.taskId },
    state,
    source: extra.source ?? TaskStatusSource.SOURCE_EXECUTOR,
    agentId: { value: ctx.agentId() },
    executorId: { value: task.executorId },
    timestamp: ctx.o.clock.now() / 1000,
    uuid: newUuidBytes(),
  };
  if (extra.message) status.message = extra.message;
  if (extra.reason) status.reason = extra.reason;
  if (extra.exitCode !== undefined) status.exitCode = extra.exitCode;
  return status;
}

/**
 * Records a task's new state and hands the update to the status update manager, which owns
 * its delivery from then on.
 */
export function recordUpdate(ctx: AgentContext, task: TaskRecord, status: TaskStatus): boolean {
  if (!ctx.updates.update(task.frameworkId, status)) return false;
  task.state = status.state ?? task.state;
  task.latestUuid = status.uuid ?? undefined;
  return true;
}

/** makeStatus + recordUpdate. */
export function emit(ctx: AgentContext, task: TaskRecord, state: TaskState, extra: StatusExtra = {}): void {
  recordUpdate(ctx, task, makeStatus(ctx, task, state, extra));
}

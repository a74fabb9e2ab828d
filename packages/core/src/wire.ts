/**
 * Friendly names for the generated wire types. Every message of proto/agora/v1 is available
 * as `agora.v1.X` (class with encode/decode) and `X` below (its plain-object shape, as
 * accepted by encode and by every API that takes a message).
 */
import { agora } from './gen/agora.js';

export { agora };

const v1 = agora.v1;

/** Task states (Mesos v1 names). */
export const TaskState = v1.TaskState;
export type TaskState = agora.v1.TaskState;
export const TaskStatusReason = v1.TaskStatus.Reason;
export type TaskStatusReason = agora.v1.TaskStatus.Reason;
export const TaskStatusSource = v1.TaskStatus.Source;
export type TaskStatusSource = agora.v1.TaskStatus.Source;
export const ValueType = v1.Value.Type;
export type ValueType = agora.v1.Value.Type;
export const CallType = v1.Call.Type;
export type CallType = agora.v1.Call.Type;
export const EventType = v1.Event.Type;
export type EventType = agora.v1.Event.Type;
export const OperationType = v1.Offer.Operation.Type;
export type OperationType = agora.v1.Offer.Operation.Type;
export const AgentCallType = v1.AgentCall.Type;
export type AgentCallType = agora.v1.AgentCall.Type;
export const AgentEventType = v1.AgentEvent.Type;
export type AgentEventType = agora.v1.AgentEvent.Type;
export const ExecutorCallType = v1.ExecutorCall.Type;
export type ExecutorCallType = agora.v1.ExecutorCall.Type;
export const ExecutorEventType = v1.ExecutorEvent.Type;
export type ExecutorEventType = agora.v1.ExecutorEvent.Type;
export const ExecutorInfoType = v1.ExecutorInfo.Type;
export type ExecutorInfoType = agora.v1.ExecutorInfo.Type;
export const FrameworkCapability = v1.FrameworkInfo.Capability;
export type FrameworkCapability = agora.v1.FrameworkInfo.Capability;

export type Resource = agora.v1.Resource.$Properties;
export type Attribute = agora.v1.Attribute.$Properties;
export type Labels = agora.v1.Labels.$Properties;
export type CommandInfo = agora.v1.CommandInfo.$Properties;
export type ExecutorInfo = agora.v1.ExecutorInfo.$Properties;
export type TaskInfo = agora.v1.TaskInfo.$Properties;
export type TaskGroupInfo = agora.v1.TaskGroupInfo.$Properties;
export type TaskStatus = agora.v1.TaskStatus.$Properties;
export type Task = agora.v1.Task.$Properties;
export type KillPolicy = agora.v1.KillPolicy.$Properties;
export type HealthCheck = agora.v1.HealthCheck.$Properties;
export type FrameworkInfo = agora.v1.FrameworkInfo.$Properties;
export type AgentInfo = agora.v1.AgentInfo.$Properties;
export type MasterInfo = agora.v1.MasterInfo.$Properties;
export type Offer = agora.v1.Offer.$Properties;
export type Operation = agora.v1.Offer.Operation.$Properties;
export type InverseOffer = agora.v1.InverseOffer.$Properties;
export type Filters = agora.v1.Filters.$Properties;
export type Call = agora.v1.Call.$Properties;
export type Event = agora.v1.Event.$Properties;
export type AgentCall = agora.v1.AgentCall.$Properties;
export type AgentEvent = agora.v1.AgentEvent.$Properties;
export type ExecutorCall = agora.v1.ExecutorCall.$Properties;
export type ExecutorEvent = agora.v1.ExecutorEvent.$Properties;
export type AgentState = agora.v1.AgentState.$Properties;
export type FrameworkState = agora.v1.FrameworkState.$Properties;
export type State = agora.v1.State.$Properties;

/** `TASK_RUNNING` for TaskState.TASK_RUNNING, and so on. */
export function taskStateName(state: TaskState | null | undefined): string {
  return v1.TaskState[state ?? 0] ?? `TASK_STATE_${state}`;
}

/** `REASON_…` name of a status reason. */
export function reasonName(reason: TaskStatusReason | null | undefined): string {
  return v1.TaskStatus.Reason[reason ?? 0] ?? `REASON_${reason}`;
}

const TERMINAL = new Set<TaskState>([
  TaskState.TASK_FINISHED,
  TaskState.TASK_FAILED,
  TaskState.TASK_KILLED,
  TaskState.TASK_ERROR,
  TaskState.TASK_LOST,
  TaskState.TASK_DROPPED,
  TaskState.TASK_GONE,
  TaskState.TASK_GONE_BY_OPERATOR,
]);

/** True for states after which a task never runs again (Mesos `protobuf::isTerminalState`). */
export function isTerminalState(state: TaskState | null | undefined): boolean {
  return TERMINAL.has(state ?? TaskState.TASK_UNKNOWN);
}

/** Reads an ID message (`{ value }`) as a string; '' when absent. */
export function idOf(id: { value?: string | null } | null | undefined): string {
  return id?.value ?? '';
}

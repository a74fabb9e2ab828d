/**
 * The JSON the HTTP operator API answers with, built from the same per-entry views as the
 * gRPC Operator service (OperatorApi.agentState / frameworkState / roleStates) and reshaped
 * for browsers: camelCase, enums as names, resources as `{cpus, mem, disk, ports}`.
 */
import {
  idOf, isTerminalState, reasonName, resources as R, taskStateName, agora,
  type Resource, type Task, type TaskStatus,
} from '@agora/core';
import type { AgentEntry } from '../agents.js';
import type { FrameworkEntry } from '../frameworks.js';
import type { MasterState } from '../master-state.js';
import type { OperatorApi } from '../operator-api.js';
import { roleStates } from '../roles-view.js';
import type { TaskHistory } from '../task-history.js';

/** Resources as the UI draws them: scalars by name (cpus, mem, disk, gpus…) and port ranges. */
export interface ResourceSummary {
  cpus: number;
  mem: number;
  disk: number;
  ports: [number, number][];
  [scalar: string]: number | [number, number][];
}

const round = (v: number): number => Math.round(v * 1000) / 1000;

/** Sums a resource list into a ResourceSummary (reservations and roles flattened). */
export function summarize(list: readonly Resource[] | null | undefined): ResourceSummary {
  const out: ResourceSummary = { cpus: 0, mem: 0, disk: 0, ports: [] };
  const ranges: [number, number][] = [];
  for (const r of list ?? []) {
    const name = r.name ?? '';
    if (r.scalar) out[name] = round(((out[name] as number | undefined) ?? 0) + (r.scalar.value ?? 0));
    else if (name === 'ports') for (const x of r.ranges?.range ?? []) ranges.push([Number(x.begin ?? 0), Number(x.end ?? 0)]);
  }
  out.ports = R.normalizeRanges(ranges);
  return out;
}

const statusSource = (s: TaskStatus['source']): string => agora.v1.TaskStatus.Source[s ?? 0] ?? 'SOURCE_UNKNOWN';

/** One status as JSON. */
export function statusJson(s: TaskStatus): Record<string, unknown> {
  return {
    state: taskStateName(s.state),
    timestamp: s.timestamp ?? 0,
    message: s.message ?? '',
    reason: reasonName(s.reason),
    source: statusSource(s.source),
    ...(s.healthy !== undefined && s.healthy !== null ? { healthy: s.healthy } : {}),
  };
}

function labelsOf(task: Task): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of task.labels?.labels ?? []) if (l.key) out[l.key] = l.value ?? '';
  return out;
}

/** The wire task, state name and history in the contract's shape. */
export function taskJson(task: Task, history: TaskHistory): Record<string, unknown> {
  const f = history.get(task);
  const frameworkId = idOf(task.frameworkId);
  const executorId = idOf(task.executorId) || idOf(task.taskId);
  const statuses = f?.statuses.length ? f.statuses : task.statuses ?? [];
  const lastTs = statuses.length ? (statuses[statuses.length - 1]!.timestamp ?? 0) * 1000 : 0;
  return {
    id: idOf(task.taskId),
    name: task.name ?? '',
    frameworkId,
    agentId: idOf(task.agentId),
    executorId,
    state: taskStateName(task.state),
    role: task.role ?? '',
    statuses: statuses.map(statusJson),
    resources: summarize(task.resources),
    labels: labelsOf(task),
    // Where the agent keeps it, relative to the agent's work directory (the latest run).
    sandbox: `agents/${idOf(task.agentId)}/frameworks/${frameworkId}/executors/${executorId}/runs/latest`,
    command: f?.command ?? '',
    createdAt: f?.createdAt ?? (task.launchedAt ? task.launchedAt * 1000 : 0),
    startedAt: f?.startedAt ?? null,
    updatedAt: f?.updatedAt ?? lastTs,
  };
}

/** An agent in the contract's shape. */
export function agentJson(m: MasterState, op: OperatorApi, a: AgentEntry): Record<string, unknown> {
  const s = op.agentState(a);
  const available = m.ledger.get(a.id)?.available ?? [];
  return {
    id: a.id,
    hostname: a.hostname,
    address: a.info.address ?? '',
    active: a.active,
    reachability: a.reachability,
    draining: a.drain !== undefined,
    drainDeadline: a.drain ? a.drain.deadline : null,
    unreachable: a.unreachableSince !== undefined,
    unreachableSince: a.unreachableSince ?? null,
    registeredTime: a.registeredTime,
    lastHeartbeat: a.lastHeartbeat,
    attributes: Object.fromEntries((a.info.attributes ?? []).map((x) => [x.name ?? '', x.text?.value ?? x.scalar?.value ?? ''])),
    resources: {
      total: summarize(s.totalResources),
      allocated: summarize(s.allocatedResources),
      offered: summarize(s.offeredResources),
      available: summarize(a.active ? available : []),
    },
    taskCount: s.taskCount ?? 0,
  };
}

/** Live task counts by framework and state name, in one pass over the live tasks. */
export function taskCountsByFramework(m: MasterState): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const rec of m.tasks.allLive()) {
    let c = out.get(rec.frameworkId);
    if (!c) out.set(rec.frameworkId, (c = {}));
    const name = taskStateName(rec.state);
    c[name] = (c[name] ?? 0) + 1;
  }
  return out;
}

/** A framework in the contract's shape; `counts` from taskCountsByFramework. */
export function frameworkJson(op: OperatorApi, f: FrameworkEntry, counts: Map<string, Record<string, number>>): Record<string, unknown> {
  const s = op.frameworkState(f);
  const info = f.info;
  return {
    id: f.id,
    name: info.name ?? '',
    user: info.user ?? '',
    hostname: info.hostname ?? '',
    roles: [...f.roles],
    principal: info.principal ?? '',
    webuiUrl: info.webuiUrl ?? '',
    active: !f.removed,
    connected: f.connected,
    suppressed: f.suppressed,
    registeredTime: f.registeredTime,
    failoverTimeoutSeconds: info.failoverTimeoutSeconds ?? 0,
    dominantShare: s.dominantShare ?? 0,
    resources: { allocated: summarize(s.allocatedResources), offered: summarize(s.offeredResources) },
    taskCounts: counts.get(f.id) ?? {},
  };
}

const scalarsOf = (list: readonly Resource[] | null | undefined): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const r of list ?? []) if (r.scalar) out[r.name ?? ''] = r.scalar.value ?? 0;
  return out;
};

/** Every role in the contract's shape. */
export function rolesJson(m: MasterState): Record<string, unknown>[] {
  return roleStates(m).map((r) => ({
    name: r.name ?? '',
    weight: r.weight ?? 1,
    quota: { guarantee: scalarsOf(r.guarantee), limit: scalarsOf(r.limit) },
    allocated: summarize(r.allocated),
    offered: summarize(r.offered),
    share: r.share ?? 0,
    frameworks: r.frameworkIds ?? [],
  }));
}

/** Task filters of /tasks and /state. */
export interface TaskQuery {
  states: Set<number> | undefined;
  frameworkId: string | undefined;
  agentId: string | undefined;
  offset: number;
  limit: number;
}

/**
 * Live and completed tasks matching the query, newest launched first, one page of them.
 * Sorting touches only the matching tasks' launch times, so a page over 10k tasks costs a
 * few milliseconds.
 */
export function taskPage(m: MasterState, history: TaskHistory, q: TaskQuery): { total: number; offset: number; limit: number; items: Record<string, unknown>[] } {
  const match = (t: Task): boolean =>
    (!q.agentId || idOf(t.agentId) === q.agentId) && (!q.states || q.states.has(t.state ?? 0)) && (!q.frameworkId || idOf(t.frameworkId) === q.frameworkId);
  const all: Task[] = [];
  const live = q.frameworkId ? m.tasks.ofFramework(q.frameworkId) : q.agentId ? m.tasks.ofAgent(q.agentId) : m.tasks.allLive();
  const wantLive = !q.states || [...q.states].some((s) => !isTerminalState(s));
  if (wantLive) for (const r of live) if (match(r.task)) all.push(r.task);
  for (const t of m.tasks.allCompleted()) if (match(t)) all.push(t);
  const created = (t: Task): number => history.get(t)?.createdAt ?? (t.launchedAt ?? 0) * 1000;
  const keyed = all.map((t, i) => ({ t, k: created(t), i }));
  // Newest first; ties (same millisecond) keep the later-inserted first.
  keyed.sort((a, b) => b.k - a.k || b.i - a.i);
  const items = keyed.slice(q.offset, q.offset + q.limit).map((x) => taskJson(x.t, history));
  return { total: all.length, offset: q.offset, limit: q.limit, items };
}

/** Finds a task by ID (optionally within one framework): live first, then completed. */
export function findTasks(m: MasterState, taskId: string, frameworkId?: string): Task[] {
  if (frameworkId) {
    const t = m.tasks.get(frameworkId, taskId)?.task ?? m.tasks.getCompleted(frameworkId, taskId);
    return t ? [t] : [];
  }
  const out: Task[] = [];
  for (const r of m.tasks.allLive()) if (r.taskId === taskId) out.push(r.task);
  if (out.length > 0) return out;
  for (const t of m.tasks.allCompleted()) if (idOf(t.taskId) === taskId) out.push(t);
  return out;
}

/** Why a task is not running yet (undefined when it is, or has ended). */
export function waitingReason(m: MasterState, task: Task): string | undefined {
  const state = task.state ?? 0;
  if (state !== agora.v1.TaskState.TASK_STAGING && state !== agora.v1.TaskState.TASK_STARTING) return undefined;
  const agent = m.agents.get(idOf(task.agentId));
  if (!agent) return `its agent ${idOf(task.agentId)} is not known to the master any more`;
  if (agent.unreachableSince !== undefined) return `its agent ${agent.id} is unreachable; the task is reported lost once the agent is gone`;
  if (!agent.active) return `its agent ${agent.id} is disconnected; the task starts once the agent is back`;
  if (state === agora.v1.TaskState.TASK_STAGING) return `sent to agent ${agent.id} (${agent.hostname}); waiting for the agent to fetch and start it`;
  return `agent ${agent.id} is starting it (executor launching)`;
}

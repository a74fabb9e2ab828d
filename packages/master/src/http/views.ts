/**
 * The JSON the HTTP operator API answers with, in the shapes of the gRPC Operator messages
 * reshaped for browsers: camelCase, enums as names, resources as `{cpus, mem, disk, ports}`.
 * Sums over tasks come from one pass (aggregate.ts), not from per-entry resource merges.
 */
import {
  idOf, reasonName, resources as R, taskStateName, agora,
  type Resource, type Task, type TaskStatus,
} from '@agora/core';
import { parentRole } from '../allocator/index.js';
import type { AgentEntry } from '../agents.js';
import { dominantShareOf } from '../allocator/index.js';
import type { FrameworkEntry } from '../frameworks.js';
import type { MasterState } from '../master-state.js';
import type { TaskHistory } from '../task-history.js';
import { addHeld, agentResources, emptyHeld, offeredByRole, type Held, type TaskAggregate } from './aggregate.js';

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
  const h = emptyHeld();
  addHeld(h, list);
  return summarizeHeld(h);
}

/** A Held (scalars as numbers, port ranges) as a ResourceSummary. */
export function summarizeHeld(h: Held | undefined): ResourceSummary {
  const out: ResourceSummary = { cpus: 0, mem: 0, disk: 0, ports: [] };
  if (!h) return out;
  for (const [k, v] of h.scalars) if (k !== 'ports') out[k] = round(v);
  out.ports = R.normalizeRanges(h.ports);
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
export function agentJson(m: MasterState, a: AgentEntry): Record<string, unknown> {
  const r = agentResources(m, a.id, a.info.resources ?? []);
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
      total: summarizeHeld(r.total),
      allocated: summarizeHeld(r.allocated),
      offered: summarizeHeld(r.offered),
      // An inactive agent offers nothing: what it has free is not available to frameworks.
      available: summarizeHeld(a.active ? r.available : undefined),
    },
    taskCount: m.tasks.countOfAgent(a.id),
  };
}

/** A framework in the contract's shape; `agg` from aggregateTasks. */
export function frameworkJson(m: MasterState, f: FrameworkEntry, agg: TaskAggregate): Record<string, unknown> {
  const info = f.info;
  const tasks = agg.byFramework.get(f.id);
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
    dominantShare: dominantShareOf(f.usage, m.ledger.totals),
    resources: { allocated: summarizeHeld(tasks?.allocated), offered: summarize(R.sum(m.offers.ofFramework(f.id).map((o) => o.resources))) },
    taskCounts: tasks?.counts ?? {},
  };
}

/** Every role (configured, subscribed to, or holding something) in the contract's shape. */
export function rolesJson(m: MasterState, agg: TaskAggregate): Record<string, unknown>[] {
  const names = new Set<string>(m.roleRecords.keys());
  const fwsOf = new Map<string, string[]>();
  for (const f of m.frameworks.values()) {
    for (const r of f.roles) {
      for (let x = r; x !== ''; x = parentRole(x)) names.add(x);
      fwsOf.set(r, [...(fwsOf.get(r) ?? []), f.id]);
    }
  }
  for (const r of agg.byRole.keys()) names.add(r);
  const offered = offeredByRole(m);
  return [...names].sort().map((name) => {
    const rec = m.roleRecords.get(name);
    const a = agg.byRole.get(name);
    const o = offered.get(name);
    const held = new Map<string, number>();
    for (const h of [a, o]) for (const [k, v] of h?.scalars ?? []) held.set(k, (held.get(k) ?? 0) + v);
    return {
      name,
      weight: rec?.weight ?? 1,
      quota: { guarantee: { ...(rec?.guarantee ?? {}) }, limit: { ...(rec?.limit ?? {}) } },
      allocated: summarizeHeld(a),
      offered: summarizeHeld(o),
      share: dominantShareOf(held, m.ledger.totals),
      frameworks: fwsOf.get(name) ?? [],
    };
  });
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
 * Live and completed tasks matching the query, newest first (by launch), one page of them.
 * Without filters the page is read from the newest end of the history's order, so it costs
 * its own length; with filters every task is matched once (no sorting).
 */
export function taskPage(m: MasterState, history: TaskHistory, q: TaskQuery): { total: number; offset: number; limit: number; items: Record<string, unknown>[] } {
  const items: Record<string, unknown>[] = [];
  const end = q.offset + q.limit;
  if (!q.states && !q.frameworkId && !q.agentId) {
    let i = 0;
    for (const t of history.newestFirst()) {
      if (i >= end) break;
      if (i++ >= q.offset) items.push(taskJson(t, history));
    }
    return { total: m.tasks.size + m.tasks.completedCount, offset: q.offset, limit: q.limit, items };
  }
  const match = (t: Task): boolean =>
    (!q.agentId || idOf(t.agentId) === q.agentId) && (!q.states || q.states.has(t.state ?? 0)) && (!q.frameworkId || idOf(t.frameworkId) === q.frameworkId);
  let total = 0;
  for (const t of history.newestFirst()) {
    if (!match(t)) continue;
    if (total >= q.offset && total < end) items.push(taskJson(t, history));
    total++;
  }
  return { total, offset: q.offset, limit: q.limit, items };
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

/**
 * Finding one task by ID (or an unambiguous prefix of one) through the operator API, with the
 * agent it runs on, for `agora task logs` and `agora task describe`.
 */
import { idOf, type OperatorClient, type Task, type agora } from '@agora/core';
import { UserError } from './errors.js';

/** A task and where it runs. */
export interface LocatedTask {
  task: Task;
  /** The agent as the master knows it (undefined when the master has forgotten the agent). */
  agent: agora.v1.AgentState | undefined;
}

/**
 * Picks the task named `id` from `tasks`: an exact match, else the only one whose ID starts
 * with `id` (task IDs are long: `splitter.1a2b3c4d-…`). Live tasks win over completed ones
 * with the same ID (a reused ID). Throws a UserError for no match or an ambiguous prefix.
 */
export function pickTask(tasks: readonly Task[], id: string): Task {
  const wanted = id.trim();
  if (!wanted) throw new UserError('the task ID is empty (see agora tasks --all)');
  const exact = tasks.filter((t) => idOf(t.taskId) === wanted);
  if (exact.length > 0) return exact[0] as Task;
  const byPrefix = tasks.filter((t) => idOf(t.taskId).startsWith(wanted));
  const ids = [...new Set(byPrefix.map((t) => idOf(t.taskId)))];
  if (ids.length === 1) return byPrefix[0] as Task;
  if (ids.length > 1) {
    const shown = ids.slice(0, 5).join(', ');
    throw new UserError(`'${wanted}' matches ${ids.length} tasks (${shown}${ids.length > 5 ? ', …' : ''}); give more of the ID`);
  }
  throw new UserError(`no task '${wanted}' is known to the master (see agora tasks --all)`);
}

/** Every task the master knows, live first (GetTasks returns live ones before completed ones). */
export async function allTasks(client: OperatorClient): Promise<Task[]> {
  const res = await client.getTasks({ includeCompleted: true });
  return (res.tasks ?? []) as Task[];
}

/** The task `id` and its agent; a UserError when unknown. */
export async function locateTask(client: OperatorClient, id: string): Promise<LocatedTask> {
  const [tasks, agents] = await Promise.all([allTasks(client), client.getAgents()]);
  const task = pickTask(tasks, id);
  const agentId = idOf(task.agentId);
  const agent = (agents.agents ?? []).find((a) => idOf(a.agentInfo?.id) === agentId) as agora.v1.AgentState | undefined;
  return { task, agent };
}

/**
 * Where a task's own stdout/stderr live inside its executor's sandbox: a command task owns the
 * sandbox; a task of a group run by the built-in executor writes under `tasks/<task ID>/`.
 */
export function taskFilePath(task: Task, stream: 'stdout' | 'stderr'): string {
  const taskId = idOf(task.taskId);
  const executorId = idOf(task.executorId) || taskId;
  return executorId === taskId ? stream : `tasks/${taskId}/${stream}`;
}

/**
 * What `agora task describe` says about one task: gathered from the master (task, agent,
 * framework, why-not-offered), and the agent (sandbox), then rendered as text or JSON.
 */
import { FilesClient, TaskState, agora, idOf, isTerminalState, reasonName, taskStateName, type Task } from '@agora/core';
import { oneLine } from './errors.js';
import type { RolesClient } from './roles-client.js';
import { age, fmtResources, renderTable, shortState, toJson } from './table.js';
import { reachabilityName, drainName } from './commands/agents.js';

/** Everything describe shows. */
export interface TaskDescription {
  task: Task;
  agent: agora.v1.AgentState | undefined;
  framework: agora.v1.FrameworkState.$Properties | undefined;
  /** The sandbox on the agent: its absolute path and files, or why they cannot be shown. */
  sandbox: { directory: string; files: { path: string; size: number }[] } | { error: string };
  /** Why the task is not running (yet), newest concern first; empty when it runs or ended. */
  waiting: string[];
  /** The framework's offer verdicts, when the task waits for something. */
  offers: agora.v1.ExplainOffersResponse | undefined;
}

/** Reads the sandbox listing through the agent's Files service (a description, never a throw). */
export async function sandboxOf(task: Task, address: string): Promise<TaskDescription['sandbox']> {
  if (!address) return { error: 'the master does not know the agent\'s address' };
  const files = new FilesClient(address, 3_000);
  try {
    const res = await files.browse({ frameworkId: task.frameworkId, executorId: { value: idOf(task.executorId) || idOf(task.taskId) }, path: '' });
    return { directory: res.directory ?? '', files: (res.entries ?? []).filter((e) => !e.directory).map((e) => ({ path: e.path ?? '', size: Number(e.size ?? 0) })) };
  } catch (err) {
    const e = err as { code?: number; details?: string };
    return { error: e.code === 5 ? 'not created yet' : `cannot ask the agent at ${address}: ${oneLine(e.details || err)}` };
  }
}

/** Why a live task is not running, in words (empty for RUNNING and ended tasks). */
export function waitingReasons(task: Task, agent: agora.v1.AgentState | undefined, now = Date.now() / 1000): string[] {
  const state = task.state ?? TaskState.TASK_UNKNOWN;
  if (isTerminalState(state) || state === TaskState.TASK_RUNNING) return [];
  const out: string[] = [];
  const agentName = agent?.agentInfo?.hostname || idOf(task.agentId);
  const reach = agent ? reachabilityName(agent) : 'UNKNOWN';
  if (!agent) out.push(`its agent ${idOf(task.agentId)} is not known to the master any more`);
  else if (reach !== 'REACHABLE') out.push(`its agent ${agentName} is ${reach}${agent.unreachableTime ? ` since ${age(agent.unreachableTime, now)} ago` : ''}: the master waits to hear from it`);
  if (agent && drainName(agent)) out.push(`its agent is ${drainName(agent)}`);
  const since = task.statuses?.length ? task.statuses[task.statuses.length - 1]?.timestamp : task.launchedAt;
  const forHowLong = since ? ` for ${age(since, now)}` : '';
  switch (state) {
    case TaskState.TASK_STAGING:
      out.push(`launched on ${agentName}${forHowLong}; the agent has not reported it starting yet (fetching its URIs, or the agent is busy)`);
      break;
    case TaskState.TASK_STARTING:
      out.push(`the agent is starting its process${forHowLong}`);
      break;
    case TaskState.TASK_KILLING:
      out.push(`being killed${forHowLong}: waiting for the process to exit${task.killPolicy?.gracePeriodSeconds !== undefined ? ` (grace ${task.killPolicy.gracePeriodSeconds} s, then SIGKILL)` : ''}`);
      break;
    case TaskState.TASK_UNREACHABLE:
      out.push('its agent is unreachable; the task comes back RUNNING if the agent returns, or ends LOST/GONE');
      break;
    default:
      out.push(`it is ${taskStateName(state)}`);
  }
  return out;
}

/** The description as JSON (wire messages as readable JSON, secrets masked). */
export function describeJson(d: TaskDescription): Record<string, unknown> {
  return {
    task: toJson(agora.v1.Task, d.task as agora.v1.Task),
    agent: d.agent ? toJson(agora.v1.AgentState, d.agent) : null,
    framework: d.framework ? { id: idOf(d.framework.frameworkInfo?.id), name: d.framework.frameworkInfo?.name ?? '', active: !!d.framework.active, connected: !!d.framework.connected } : null,
    sandbox: d.sandbox,
    waiting: d.waiting,
    offers: d.offers ? toJson(agora.v1.ExplainOffersResponse, d.offers) : null,
  };
}

function when(seconds: number | null | undefined, now: number): string {
  if (!seconds) return '-';
  return `${new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')} (${age(seconds, now)} ago)`;
}

function size(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** The description as text, kubectl-describe style. */
export function describeText(d: TaskDescription, now = Date.now() / 1000): string {
  const t = d.task;
  const lines: string[] = [];
  const field = (k: string, v: string): void => { lines.push(`${`${k}:`.padEnd(14)}${v}`); };
  const latest = t.statuses?.[t.statuses.length - 1];
  field('Name', t.name || '-');
  field('ID', idOf(t.taskId));
  field('Framework', `${d.framework?.frameworkInfo?.name ? `${d.framework.frameworkInfo.name} ` : ''}(${idOf(t.frameworkId)})${d.framework && !d.framework.active ? ' [inactive]' : ''}`);
  field('Role', t.role || '*');
  field('State', `${shortState(t.state)}${latest?.timestamp ? ` since ${when(latest.timestamp, now)}` : ''}`);
  if (latest?.reason) field('Reason', reasonName(latest.reason));
  if (latest?.message) field('Message', latest.message);
  if (typeof latest?.exitCode === 'number') field('Exit code', String(latest.exitCode));
  const a = d.agent?.agentInfo;
  field('Agent', `${idOf(t.agentId)}${a ? ` (${a.hostname}, ${a.address}, ${[reachabilityName(d.agent), drainName(d.agent)].filter(Boolean).join(' ')})` : ' (unknown to the master)'}`);
  field('Resources', fmtResources(t.resources));
  field('Launched', when(t.launchedAt, now));
  field('Command', t.commandLine || '-');
  if (t.executorId && idOf(t.executorId) !== idOf(t.taskId)) field('Executor', idOf(t.executorId));
  const labels = (t.labels?.labels ?? []).map((l) => `${l.key}=${l.value ?? ''}`).join(', ');
  if (labels) field('Labels', labels);
  if (t.killPolicy?.gracePeriodSeconds !== undefined) field('Kill grace', `${t.killPolicy.gracePeriodSeconds} s`);
  if ('error' in d.sandbox) field('Sandbox', `- (${d.sandbox.error})`);
  else {
    field('Sandbox', d.sandbox.directory || '-');
    field('Files', d.sandbox.files.map((f) => `${f.path} ${size(f.size)}`).join(', ') || '(empty)');
  }
  lines.push('', 'States:');
  const history = [...(t.statuses ?? [])];
  const rows = history.map((s) => [
    s.timestamp ? new Date(s.timestamp * 1000).toISOString().slice(11, 23) : '-',
    shortState(s.state),
    s.source ? (agora.v1.TaskStatus.Source[s.source] ?? '').replace(/^SOURCE_/, '') : '-',
    s.reason ? reasonName(s.reason).replace(/^REASON_/, '') : '',
    s.message ?? '',
  ]);
  // The master records the launch itself (STAGING) without a status update.
  if (!history.some((s) => s.state === TaskState.TASK_STAGING) && t.launchedAt) rows.unshift([new Date(t.launchedAt * 1000).toISOString().slice(11, 23), 'STAGING', 'MASTER', '', 'launched']);
  lines.push(rows.length ? renderTable(['TIME (UTC)', 'STATE', 'SOURCE', 'REASON', 'MESSAGE'], rows) : '  (none)');
  if (d.waiting.length) {
    lines.push('', 'Waiting:');
    for (const w of d.waiting) lines.push(`  - ${w}`);
  }
  if (d.offers && d.waiting.length) {
    lines.push('', `Offers to framework ${idOf(t.frameworkId)}:`);
    for (const n of d.offers.notes ?? []) lines.push(`  note: ${n}`);
    for (const v of d.offers.agents ?? []) lines.push(`  ${v.hostname || idOf(v.agentId)}: ${v.offerable ? 'offerable' : 'not offered'}${v.reasons?.length ? ` (${v.reasons.join('; ')})` : ''}`);
  }
  return lines.join('\n');
}

/** Asks for the framework's offer verdicts; undefined when the master cannot say. */
export async function offersOf(roles: RolesClient, frameworkId: string): Promise<agora.v1.ExplainOffersResponse | undefined> {
  try {
    return await roles.explainOffers(frameworkId);
  } catch {
    return undefined;
  }
}

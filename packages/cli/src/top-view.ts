/**
 * One frame of `agora top`: the cluster at a glance, fitted to a terminal of `width` × `height`
 * characters. Pure (state in, lines out) so that it can be tested without a terminal.
 */
import { agora, idOf, resources, type Resource, type Task } from '@agora/core';
import { drainName, reachabilityName } from './commands/agents.js';
import { age, fmtResources, shortState } from './table.js';

/** What a frame shows. */
export interface TopSnapshot {
  state: agora.v1.State.$Properties;
  roles: agora.v1.RoleState.$Properties[];
  /** When it was read (ms since the epoch). */
  at: number;
}

/** Resource names shown as bars, in this order (others follow). */
const BAR_ORDER = ['cpus', 'mem', 'disk', 'gpus'];

/** Totals per scalar resource: allocated (used), offered and total of the active agents. */
export function totals(state: agora.v1.State.$Properties): { name: string; used: number; offered: number; total: number }[] {
  const agents = state.agents ?? [];
  const total = resources.sum(agents.filter((a) => a.active).map((a) => a.totalResources ?? []));
  const used = resources.stripAllocation(resources.sum(agents.map((a) => a.allocatedResources ?? [])));
  const offered = resources.stripAllocation(resources.sum(agents.map((a) => a.offeredResources ?? [])));
  const names = resources.scalarNames(total).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return names.map((name) => ({ name, used: resources.scalarOf(used, name), offered: resources.scalarOf(offered, name), total: resources.scalarOf(total, name) }));
}

function rank(name: string): number {
  const i = BAR_ORDER.indexOf(name);
  return i < 0 ? BAR_ORDER.length : i;
}

/** `[████▒▒░░░░]`: allocated (█), offered (▒), free (░). */
export function bar(used: number, offered: number, total: number, width: number): string {
  const w = Math.max(1, width);
  if (total <= 0) return `[${'░'.repeat(w)}]`;
  const u = Math.min(w, Math.round((used / total) * w));
  const o = Math.min(w - u, Math.round((offered / total) * w));
  return `[${'█'.repeat(u)}${'▒'.repeat(o)}${'░'.repeat(w - u - o)}]`;
}

function num(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 2 : 1).replace(/\.?0+$/, '');
}

/** Cuts `s` to `width` characters (with … when cut). */
export function fit(s: string, width: number): string {
  if (width <= 0) return '';
  return s.length <= width ? s : `${s.slice(0, Math.max(0, width - 1))}…`;
}

/**
 * Rows under a header in columns as wide as their content, fitted to `width`: the last column
 * takes what is left, and when even that is not enough the widest columns give way.
 */
export function columns(head: string[], rows: string[][], width: number): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const gaps = 2 * (head.length - 1);
  while (widths.reduce((a, b) => a + b, 0) + gaps > width) {
    const i = widths.indexOf(Math.max(...widths));
    if ((widths[i] ?? 0) <= 4) break;
    widths[i] = (widths[i] ?? 0) - 1;
  }
  const line = (cells: string[]): string => fit(cells.map((c, i) => (i === cells.length - 1 ? fit(c, widths[i] ?? 0) : fit(c, widths[i] ?? 0).padEnd(widths[i] ?? 0))).join('  ').trimEnd(), width);
  return [line(head), ...rows.map(line)];
}

/** The newest tasks first: live and completed, by launch time. */
function newestTasks(state: agora.v1.State.$Properties): Task[] {
  return [...(state.tasks ?? []), ...(state.completedTasks ?? [])].sort((a, b) => (b.launchedAt ?? 0) - (a.launchedAt ?? 0)) as Task[];
}

/**
 * Renders one frame as lines no longer than `width`, at most `height` of them (the task list
 * takes the rows left over; sections that do not fit are cut at the bottom).
 */
export function renderTop(s: TopSnapshot, width: number, height: number): string[] {
  const now = s.at / 1000;
  const st = s.state;
  const mi = st.masterInfo;
  const agents = st.agents ?? [];
  const fws = st.frameworks ?? [];
  const live = st.tasks ?? [];
  const byState = new Map<string, number>();
  for (const t of live) byState.set(shortState(t.state), (byState.get(shortState(t.state)) ?? 0) + 1);
  const out: string[] = [];
  const clock = new Date(s.at).toISOString().slice(11, 19);
  out.push(fit(`agora top — master ${mi?.address ?? '?'}${mi?.leader ? ' (leader)' : ''} — up ${age(mi?.startTime, now)} — ${clock} UTC`, width));
  out.push(fit(`agents ${agents.filter((a) => a.active).length} active / ${agents.length}   frameworks ${fws.filter((f) => f.active).length} active / ${fws.length}   tasks ${byState.size ? [...byState].map(([k, n]) => `${n} ${k.toLowerCase()}`).join(', ') : 'none running'}   offers ${(st.offers ?? []).length}`, width));
  out.push('');
  const tot = totals(st);
  if (tot.length === 0) out.push(fit('No resources: no active agent.', width));
  const barWidth = Math.max(10, Math.min(50, width - 50));
  for (const r of tot) {
    const pct = r.total > 0 ? Math.round((r.used / r.total) * 100) : 0;
    out.push(fit(`${r.name.padEnd(6)} ${bar(r.used, r.offered, r.total, barWidth)} ${`${num(r.used)} / ${num(r.total)}`.padStart(15)} ${`${pct}%`.padStart(4)}${r.offered > 0 ? `  (${num(r.offered)} offered)` : ''}`, width));
  }
  const section = (head: string[], rows: string[][]): void => {
    if (rows.length > 0) out.push('', ...columns(head, rows, width));
  };
  section(['ROLE', 'WEIGHT', 'ALLOCATED', 'OFFERED', 'SHARE', 'FRAMEWORKS'], s.roles.map((r) => [
    r.name ?? '', num(r.weight ?? 1), fmtResources(r.allocated), fmtResources(r.offered), `${(Math.round((r.share ?? 0) * 1000) / 10).toFixed(1)}%`, String((r.frameworkIds ?? []).length),
  ]));
  section(['AGENT', 'HOST', 'STATE', 'TASKS', 'ALLOCATED', 'TOTAL'], agents.map((a) => [
    idOf(a.agentInfo?.id), a.agentInfo?.hostname ?? '', [reachabilityName(a), drainName(a)].filter(Boolean).join(' '), String(a.taskCount ?? 0), fmtResources(resources.stripAllocation(a.allocatedResources ?? []) as Resource[]), fmtResources(a.totalResources),
  ]));
  section(['FRAMEWORK', 'NAME', 'STATUS', 'TASKS', 'SHARE', 'ALLOCATED'], fws.map((f) => [
    idOf(f.frameworkInfo?.id), f.frameworkInfo?.name ?? '', !f.active ? 'inactive' : f.connected ? (f.suppressed ? 'suppressed' : 'connected') : 'disconnected', String(f.taskCount ?? 0), `${(Math.round((f.dominantShare ?? 0) * 1000) / 10).toFixed(1)}%`, fmtResources(resources.stripAllocation(f.allocatedResources ?? []) as Resource[]),
  ]));
  const tasks = newestTasks(st);
  const room = height - out.length - 2;
  if (tasks.length > 0 && room > 0) {
    const shown = tasks.slice(0, room);
    out.push('', ...columns(['TASK', 'NAME', 'STATE', 'AGE', 'RESOURCES', 'AGENT'], shown.map((t) => [
      idOf(t.taskId), t.name ?? '', shortState(t.state), age(t.launchedAt, now), fmtResources(resources.stripAllocation(t.resources ?? []) as Resource[]), idOf(t.agentId),
    ]), width));
  }
  return out.slice(0, Math.max(1, height));
}

/** Percentiles and the Graphviz view, pure. */
import type { Job } from './job.js';
import type { JobStats, RunRecord } from './store.js';

/** Nearest-rank percentile of `xs` (unsorted), p in [0, 100]; undefined when empty. */
export function percentile(xs: readonly number[], p: number): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export interface JobStatsView {
  job: string;
  successCount: number;
  errorCount: number;
  skippedCount: number;
  lastSuccess: string | null;
  lastError: string | null;
  /** Over the latest finished runs (ms). */
  durationMs: { count: number; p50: number | null; p75: number | null; p95: number | null; p99: number | null; max: number | null };
}

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString());

export function statsView(job: string, s: JobStats | undefined): JobStatsView {
  const d = s?.durations ?? [];
  const p = (q: number): number | null => percentile(d, q) ?? null;
  return {
    job,
    successCount: s?.successCount ?? 0,
    errorCount: s?.errorCount ?? 0,
    skippedCount: s?.skippedCount ?? 0,
    lastSuccess: iso(s?.lastSuccess),
    lastError: iso(s?.lastError),
    durationMs: { count: d.length, p50: p(50), p75: p(75), p95: p(95), p99: p(99), max: d.length ? Math.max(...d) : null },
  };
}

/** A run as the API shows it: instants as ISO strings, duration computed. */
export function runView(r: RunRecord): Record<string, unknown> {
  return {
    id: r.id,
    job: r.job,
    scheduledAt: iso(r.scheduledAt),
    trigger: r.trigger,
    state: r.state,
    attempt: r.attempt,
    taskId: r.taskId ?? null,
    agentId: r.agentId ?? null,
    arguments: r.arguments ?? [],
    startedAt: iso(r.startedAt),
    endedAt: iso(r.endedAt),
    durationMs: r.startedAt !== undefined && r.endedAt !== undefined ? r.endedAt - r.startedAt : null,
    exitCode: r.exitCode ?? null,
    jitterMs: r.jitterMs ?? null,
    message: r.message ?? null,
  };
}

const q = (s: string): string => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;

/** The job DAG in Graphviz dot; nodes coloured by their last run (green ok, red failed). */
export function graphDot(jobs: readonly Job[], last: (job: string) => RunRecord | undefined): string {
  const lines = ['digraph jobs {', '  rankdir=LR;', '  node [shape=box, style="rounded,filled", fillcolor=white];'];
  for (const j of [...jobs].sort((a, b) => a.name.localeCompare(b.name))) {
    const r = last(j.name);
    const color = j.disabled ? 'lightgrey' : r?.state === 'succeeded' ? 'palegreen' : r?.state === 'failed' ? 'salmon' : 'white';
    const label = j.schedule ? `${j.name}\\n${j.schedule}${j.timezone !== 'UTC' ? ` ${j.timezone}` : ''}` : j.name;
    lines.push(`  ${q(j.name)} [label=${q(label).replaceAll('\\\\n', '\\n')}, fillcolor=${color}${j.softError ? ', peripheries=2' : ''}];`);
  }
  for (const j of jobs) for (const p of j.parents) lines.push(`  ${q(p)} -> ${q(j.name)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

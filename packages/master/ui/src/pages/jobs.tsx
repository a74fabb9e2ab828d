/**
 * Cron jobs: every framework that serves a Chronos-style `/v1/jobs` API (through the master's
 * proxy) — its jobs with the next run and the last one; a job opens to its next fire times and
 * its run history.
 */
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import type { Framework } from '../api-types.js';
import { frameworkApi, withQuery } from '../api.js';
import { EmptyRow, ErrorLine, Header, Id } from '../components/common.js';
import { formatDuration, formatTime } from '../format.js';
import { useJson } from '../hooks.js';
import { useLive } from '../live.js';
import { href } from '../router.js';
import { apiFrameworks } from './apps.js';

const REFRESH_MS = 3000;

interface Job {
  name: string;
  command: string;
  schedule?: string;
  parents?: string[];
  timezone?: string;
  disabled?: boolean;
  owner?: string;
  nextRunAt: string | null;
  lastRun: { id: string; state: string; endedAt: string | null } | null;
  activeRuns: number;
}

interface Run {
  id: string;
  scheduledAt: string | null;
  trigger?: string;
  state: string;
  attempt?: number;
  taskId: string | null;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  exitCode: number | null;
  message: string | null;
}

export function Jobs() {
  const s = useLive();
  const candidates = apiFrameworks(s.frameworks.values(), /cron|chronos/i);
  return (
    <section>
      <Header title="Jobs" />
      {candidates.length === 0 && <p class="muted">No framework with a REST API is subscribed (start one with <code>agora local</code>, which runs the cron framework).</p>}
      {candidates.map((f) => <JobsOf key={f.id} framework={f} likely={/cron|chronos/i.test(f.name)} />)}
    </section>
  );
}

function runTone(state: string): string {
  if (/^(succeeded|success|finished)$/i.test(state)) return 'ok';
  if (/fail|error|killed|timeout|lost/i.test(state)) return 'bad';
  if (/pending|launching|running|retry/i.test(state)) return 'busy';
  return 'idle';
}

function JobsOf({ framework, likely }: { framework: Framework; likely: boolean }) {
  const jobs = useJson<Job[]>(frameworkApi(framework.id, '/v1/jobs'), REFRESH_MS);
  const [open, setOpen] = useState<string | undefined>();
  if (!Array.isArray(jobs.data)) return likely && jobs.error ? <ErrorLine error={`${framework.name}: ${jobs.error}`} /> : null;
  return (
    <div class="block" data-framework-id={framework.id}>
      <h2>{framework.name} <span class="muted small"><a href={href('tasks', { frameworkId: framework.id })}>tasks</a></span></h2>
      <table class="grid" data-testid="jobs">
        <thead><tr><th>job</th><th>schedule</th><th>next run</th><th>last run</th><th>active</th><th>command</th></tr></thead>
        <tbody>
          {jobs.data.length === 0 && <EmptyRow cols={6} text="No job defined." />}
          {jobs.data.map((j) => (
            <Fragment key={j.name}>
              <tr class={open === j.name ? 'selected' : ''}>
                <td><button type="button" class="link" onClick={() => setOpen(open === j.name ? undefined : j.name)}>{open === j.name ? '▾' : '▸'} {j.name}</button>{j.disabled && <> <span class="badge idle">disabled</span></>}</td>
                <td>{j.schedule ? <code>{j.schedule}</code> : j.parents?.length ? `after ${j.parents.join(', ')}` : <span class="muted">on demand</span>}{j.timezone && j.timezone !== 'UTC' ? ` (${j.timezone})` : ''}</td>
                <td>{formatTime(j.nextRunAt)}</td>
                <td>{j.lastRun ? <><span class={`badge ${runTone(j.lastRun.state)}`}>{j.lastRun.state}</span> {formatTime(j.lastRun.endedAt)}</> : <span class="muted">never</span>}</td>
                <td class="num">{j.activeRuns}</td>
                <td><code class="wrap">{j.command}</code></td>
              </tr>
              {open === j.name && <tr><td colSpan={6}><JobDetail framework={framework} job={j.name} /></td></tr>}
            </Fragment>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function JobDetail({ framework, job }: { framework: Framework; job: string }) {
  const base = `/v1/jobs/${encodeURIComponent(job)}`;
  const next = useJson<{ next: string[]; timezone?: string }>(frameworkApi(framework.id, withQuery(`${base}/next`, { n: 5 })), REFRESH_MS);
  const history = useJson<Run[]>(frameworkApi(framework.id, withQuery(`${base}/history`, { limit: 20 })), REFRESH_MS);
  return (
    <div class="job-detail">
      <div>
        <h3>Next runs</h3>
        <ErrorLine error={next.error} />
        {next.data && (next.data.next.length ? <ol data-testid="next-runs">{next.data.next.map((t) => <li key={t}>{formatTime(t)} <span class="muted small">{t}</span></li>)}</ol> : <p class="muted">None scheduled.</p>)}
      </div>
      <div class="grow">
        <h3>History</h3>
        <ErrorLine error={history.error} />
        <table class="grid compact" data-testid="history">
          <thead><tr><th>scheduled</th><th>trigger</th><th>state</th><th>task</th><th>duration</th><th>exit</th><th>message</th></tr></thead>
          <tbody>
            {Array.isArray(history.data) && history.data.length === 0 && <EmptyRow cols={7} text="No run yet." />}
            {(Array.isArray(history.data) ? history.data : []).map((r) => (
              <tr key={r.id}>
                <td>{formatTime(r.scheduledAt ?? r.startedAt)}</td>
                <td>{r.trigger}{r.attempt && r.attempt > 1 ? ` (attempt ${r.attempt})` : ''}</td>
                <td><span class={`badge ${runTone(r.state)}`}>{r.state}</span></td>
                <td>{r.taskId ? <a href={href('tasks', r.taskId)}><Id value={r.taskId} /></a> : ''}</td>
                <td class="num">{formatDuration(r.durationMs)}</td>
                <td class="num">{r.exitCode ?? ''}</td>
                <td>{r.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}

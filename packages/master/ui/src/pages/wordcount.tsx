/**
 * Word count jobs in flight: for every wordcount framework, its chunks done / running / to go
 * and the bytes counted, from its tasks (names and labels, see wordcount-progress.ts).
 */
import type { TaskPage } from '../api-types.js';
import { withQuery } from '../api.js';
import { ErrorLine, Header, Id } from '../components/common.js';
import { formatBytes } from '../format.js';
import { useJson } from '../hooks.js';
import { useLive, useReloadOnReconnect } from '../live.js';
import { href } from '../router.js';
import { chunkOf, wordcountProgress } from '../wordcount-progress.js';

const REFRESH_MS = 2000;

export function Wordcount() {
  const s = useLive();
  const ids = new Set<string>();
  for (const f of s.frameworks.values()) if (/wordcount/i.test(f.name)) ids.add(f.id);
  // Frameworks that finished (and left) still have their tasks in the recent list.
  for (const t of s.tasks.values()) if (chunkOf(t) !== undefined) ids.add(t.frameworkId);
  return (
    <section>
      <Header title="Word count" />
      {ids.size === 0 && <p class="muted">No word count job has run since the master started. Start one with <code>agora wordcount FILE</code>.</p>}
      {[...ids].reverse().map((id) => <Job key={id} frameworkId={id} />)}
    </section>
  );
}

function Job({ frameworkId }: { frameworkId: string }) {
  const s = useLive();
  const framework = s.frameworks.get(frameworkId);
  const page = useJson<TaskPage>(withQuery('/tasks', { frameworkId, limit: 1000 }), framework?.active ? REFRESH_MS : undefined);
  // Live updates of this job's tasks win over the last fetched page.
  const byId = new Map((page.data?.items ?? []).map((t) => [t.id, t]));
  for (const t of s.tasks.values()) if (t.frameworkId === frameworkId) byId.set(t.id, t);
  useReloadOnReconnect(page.reload);
  const p = wordcountProgress([...byId.values()]);
  const pct = (n: number, of: number): number => (of > 0 ? Math.min(100, (n / of) * 100) : 0);
  const done = p.chunksTotal > 0 && p.chunksDone === p.chunksTotal;
  return (
    <div class="block" data-testid="wordcount-job" data-framework-id={frameworkId} data-chunks-done={p.chunksDone} data-chunks-total={p.chunksTotal}>
      <h2>
        {framework?.name ?? 'wordcount'} <Id value={frameworkId} />{' '}
        {done ? <span class="badge ok">done</span> : framework?.active ? <span class="badge busy">counting</span> : <span class="badge idle">ended</span>}
      </h2>
      <ErrorLine error={page.error} />
      <div class="progress" title={`${p.chunksDone} done, ${p.chunksRunning} running of ${p.chunksTotal}`}>
        <div class="progress-done" style={{ width: `${pct(p.chunksDone, p.chunksTotal)}%` }} />
        <div class="progress-running" style={{ width: `${pct(p.chunksRunning, p.chunksTotal)}%` }} />
      </div>
      <dl class="facts">
        <dt>chunks</dt>
        <dd>{p.chunksDone} done · {p.chunksRunning} running{p.chunksFailed ? ` · ${p.chunksFailed} to re-run` : ''} · {p.chunksTotal}{p.exact ? '' : '+'} in all</dd>
        {p.bytesTotal !== undefined && <><dt>bytes</dt><dd>{formatBytes(p.bytesDone)} of {formatBytes(p.bytesTotal)} counted ({Math.round(pct(p.bytesDone ?? 0, p.bytesTotal))} %)</dd></>}
        <dt>tasks</dt><dd><a href={href('tasks', { frameworkId })}>{p.tasks} launched</a></dd>
      </dl>
    </div>
  );
}

/**
 * Tasks, newest first, filtered by state / framework / agent (the filters live in the URL).
 * The list is one GET /tasks page, then kept current from the event stream: a task that starts
 * appears at the top, a task that leaves the filtered state leaves the list.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Task, TaskPage } from '../api-types.js';
import { TASK_STATES } from '../api-types.js';
import { withQuery } from '../api.js';
import { EmptyRow, ErrorLine, Header, Id, StateBadge } from '../components/common.js';
import { formatCpus, formatMem, formatTime, stateLabel, toMillis } from '../format.js';
import { useJson } from '../hooks.js';
import { live, useLive, useReloadOnReconnect } from '../live.js';
import { href, replaceQuery, type Route } from '../router.js';

const PAGE = 100;

/** The later of two versions of a task (an event wins a tie: it is at least as new). */
function newer(fetched: Task, update: Task | undefined): Task {
  if (!update) return fetched;
  const a = toMillis(fetched.updatedAt) ?? 0;
  const b = toMillis(update.updatedAt) ?? 0;
  if (a !== b) return a > b ? fetched : update;
  return (fetched.statuses?.length ?? 0) > (update.statuses?.length ?? 0) ? fetched : update;
}

export function Tasks({ route }: { route: Route }) {
  const state = route.query.get('state') ?? '';
  const frameworkId = route.query.get('frameworkId') ?? '';
  const agentId = route.query.get('agentId') ?? '';
  const [search, setSearch] = useState('');
  const [limit, setLimit] = useState(PAGE);
  const filterKey = `${state}|${frameworkId}|${agentId}`;
  const page = useJson<TaskPage>(withQuery('/tasks', { state, frameworkId, agentId, limit }));
  const s = useLive();
  useReloadOnReconnect(page.reload);

  // Every update seen while the page is open, newest last. Kept across filter changes: the
  // fetched page may be older than an update that arrived while it was on its way.
  const updates = useRef(new Map<string, Task>());
  const [, setSeen] = useState(0);
  useEffect(() => live.onTask((t) => {
    updates.current.delete(t.id);
    updates.current.set(t.id, t);
    setSeen((n) => n + 1);
  }), []);
  useEffect(() => setLimit(PAGE), [filterKey]);

  const matches = (t: Task): boolean =>
    (!state || t.state === state) && (!frameworkId || t.frameworkId === frameworkId) && (!agentId || t.agentId === agentId);
  const fetched = page.data?.items ?? [];
  const fetchedIds = new Set(fetched.map((t) => t.id));
  const fresh = [...updates.current.values()].filter((t) => !fetchedIds.has(t.id)).reverse();
  const merged = [...fresh, ...fetched.map((t) => newer(t, updates.current.get(t.id)))].filter(matches);
  const needle = search.trim().toLowerCase();
  const shown = needle ? merged.filter((t) => t.id.toLowerCase().includes(needle) || (t.name ?? '').toLowerCase().includes(needle)) : merged;
  const total = (page.data?.total ?? 0) + fresh.filter(matches).length;
  const frameworkName = useMemo(() => new Map([...s.frameworks.values()].map((f) => [f.id, f.name])), [s.frameworks, s.version]);

  return (
    <section>
      <Header title="Tasks">
        <label>
          state{' '}
          <select data-testid="state-filter" value={state} onChange={(e) => replaceQuery(route, { state: (e.target as HTMLSelectElement).value })}>
            <option value="">any</option>
            {TASK_STATES.map((st) => <option key={st} value={st}>{stateLabel(st)}</option>)}
          </select>
        </label>
        <input type="search" placeholder="name or ID" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
      </Header>
      {(frameworkId || agentId) && (
        <p class="filters">
          {frameworkId && <span class="chip">framework {frameworkName.get(frameworkId) ?? frameworkId} <a href={href('tasks', { state, agentId })} aria-label="clear">×</a></span>}
          {agentId && <span class="chip">agent <Id value={agentId} /> <a href={href('tasks', { state, frameworkId })} aria-label="clear">×</a></span>}
        </p>
      )}
      <ErrorLine error={page.error} />
      <table class="grid" data-testid="tasks">
        <thead>
          <tr><th>name</th><th>ID</th><th>state</th><th>framework</th><th>agent</th><th>cpus</th><th>mem</th><th>updated</th></tr>
        </thead>
        <tbody>
          {shown.length === 0 && <EmptyRow cols={8} text={page.loading ? 'Loading…' : 'No task matches.'} />}
          {shown.map((t) => (
            <tr key={t.id} data-task-id={t.id} data-task-name={t.name}>
              <td><a href={href('tasks', t.id)}>{t.name || <span class="muted">(no name)</span>}</a></td>
              <td><a href={href('tasks', t.id)}><Id value={t.id} /></a></td>
              <td><StateBadge state={t.state} /></td>
              <td>{frameworkName.get(t.frameworkId) ?? <Id value={t.frameworkId} />}</td>
              <td><Id value={t.agentId ?? ''} max={16} /></td>
              <td class="num">{formatCpus(t.resources?.cpus)}</td>
              <td class="num">{formatMem(t.resources?.mem)}</td>
              <td>{formatTime(t.updatedAt ?? t.statuses?.[t.statuses.length - 1]?.timestamp)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="muted small">
        {shown.length} shown of {total}{' '}
        {fetched.length < (page.data?.total ?? 0) && limit < 1000 && <button type="button" onClick={() => setLimit(Math.min(1000, limit + PAGE))}>show more</button>}
      </p>
    </section>
  );
}

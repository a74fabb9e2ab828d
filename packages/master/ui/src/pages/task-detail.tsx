/**
 * One task: its state history, where it runs, and its sandbox — a directory browser and a file
 * view that follows stdout/stderr as they grow (GET /files/read from the last offset, every
 * second, while "follow" is on).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Browse, FileChunk, Task } from '../api-types.js';
import { TERMINAL_STATES } from '../api-types.js';
import { getJson, withQuery } from '../api.js';
import { ErrorLine, Header, Id, StateBadge } from '../components/common.js';
import { formatBytes, formatCpus, formatMem, formatTime } from '../format.js';
import { useInterval, useJson } from '../hooks.js';
import { live, useLive, useReloadOnReconnect } from '../live.js';
import { href, type Route } from '../router.js';
import { EMPTY_TAIL, applyChunk, nextRead, type TailState } from '../tail.js';

const FOLLOW_EVERY_MS = 1000;

export function TaskDetail({ route }: { route: Route }) {
  const taskId = route.parts[1] ?? '';
  const loaded = useJson<Task>(`/tasks/${encodeURIComponent(taskId)}`);
  const [latest, setLatest] = useState<Task | undefined>();
  useEffect(() => {
    setLatest(undefined);
    return live.onTask((t) => { if (t.id === taskId) setLatest(t); });
  }, [taskId]);
  const s = useLive();
  useReloadOnReconnect(loaded.reload);
  const task = latest ?? loaded.data;
  const dir = route.query.get('path') ?? '';
  const file = route.query.get('file') ?? '';

  if (!task) {
    return (
      <section>
        <Header title={`Task ${taskId}`} />
        {loaded.loading ? <p class="muted">Loading…</p> : <ErrorLine error={loaded.error ?? 'no such task'} />}
      </section>
    );
  }
  const framework = s.frameworks.get(task.frameworkId);
  const agent = s.agents.get(task.agentId);
  const labels = Object.entries(task.labels ?? {});
  return (
    <section>
      <Header title={task.name || task.id}>
        <StateBadge state={task.state} />
      </Header>
      {loaded.data?.waiting && !latest && <p class="notice">Not running yet: {loaded.data.waiting}</p>}
      <dl class="facts">
        <dt>ID</dt><dd><code>{task.id}</code></dd>
        <dt>framework</dt><dd><a href={href('tasks', { frameworkId: task.frameworkId })}>{framework?.name ?? task.frameworkId}</a></dd>
        <dt>agent</dt><dd>{agent ? `${agent.hostname} (${agent.address})` : <Id value={task.agentId ?? ''} />}</dd>
        <dt>resources</dt><dd>{formatCpus(task.resources?.cpus)} cpus · {formatMem(task.resources?.mem)}{task.resources?.disk ? ` · ${formatMem(task.resources.disk)} disk` : ''}{task.resources?.ports?.length ? ` · ports ${task.resources.ports.map(([b, e]) => (b === e ? b : `${b}-${e}`)).join(', ')}` : ''}</dd>
        {task.command && <><dt>command</dt><dd><code class="wrap">{task.command}</code></dd></>}
        {task.executorId && task.executorId !== task.id && <><dt>executor</dt><dd><code>{task.executorId}</code></dd></>}
        {task.sandbox && <><dt>sandbox</dt><dd><code class="wrap">{task.sandbox}</code></dd></>}
        {labels.length > 0 && <><dt>labels</dt><dd>{labels.map(([k, v]) => <span key={k} class="chip">{k}={v}</span>)}</dd></>}
      </dl>
      <h2>Status updates</h2>
      <table class="grid compact" data-testid="statuses">
        <thead><tr><th>time</th><th>state</th><th>source</th><th>reason</th><th>message</th></tr></thead>
        <tbody>
          {[...(task.statuses ?? [])].reverse().map((st, i) => (
            <tr key={i}>
              <td>{formatTime(st.timestamp)}</td>
              <td><StateBadge state={st.state} /></td>
              <td>{(st.source ?? '').replace(/^SOURCE_/, '').toLowerCase()}</td>
              <td>{st.reason && st.reason !== 'REASON_UNKNOWN' ? st.reason.replace(/^REASON_/, '').toLowerCase().replaceAll('_', ' ') : ''}</td>
              <td>{st.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Sandbox</h2>
      <Sandbox task={task} dir={dir} file={file} />
    </section>
  );
}

function Sandbox({ task, dir, file }: { task: Task; dir: string; file: string }) {
  const listing = useJson<Browse>(withQuery('/files/browse', { taskId: task.id, path: dir }), TERMINAL_STATES.has(task.state) ? undefined : 3000);
  const crumbs = dir ? dir.split('/').filter(Boolean) : [];
  const at = (path: string, f?: string): string => href('tasks', task.id, { path, file: f });
  return (
    <div class="sandbox">
      <nav class="crumbs" data-testid="crumbs">
        <a href={at('')}>sandbox</a>
        {crumbs.map((c, i) => <span key={i}> / <a href={at(crumbs.slice(0, i + 1).join('/'))}>{c}</a></span>)}
        <span class="spacer" />
        <a class="chip" href={at(dir, 'stdout')}>stdout</a>
        <a class="chip" href={at(dir, 'stderr')}>stderr</a>
      </nav>
      <ErrorLine error={listing.error} />
      <table class="grid compact" data-testid="sandbox">
        <thead><tr><th>name</th><th class="num">size</th><th>modified</th><th>mode</th><th /></tr></thead>
        <tbody>
          {dir && <tr><td><a href={at(crumbs.slice(0, -1).join('/'))}>..</a></td><td /><td /><td /><td /></tr>}
          {(listing.data?.entries ?? []).map((e) => (
            <tr key={e.path} data-file={e.path} class={e.path === file ? 'selected' : ''}>
              <td>{e.isDir ? <a href={at(e.path)}>{e.name}/</a> : <a href={at(dir, e.path)}>{e.name}</a>}</td>
              <td class="num">{e.isDir ? '' : formatBytes(e.size)}</td>
              <td>{formatTime(e.mtime)}</td>
              <td><code>{typeof e.mode === 'number' ? e.mode.toString(8) : e.mode}</code></td>
              <td>{!e.isDir && <a href={withQuery('/files/download', { taskId: task.id, path: e.path })} download={e.name}>download</a>}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {file && <FileTail key={`${task.id}/${file}`} taskId={task.id} path={file} live={!TERMINAL_STATES.has(task.state)} />}
    </div>
  );
}

/** A file's last 64 KiB, then what is appended, read every second while following. */
function FileTail({ taskId, path, live: running }: { taskId: string; path: string; live: boolean }) {
  const [tail, setTail] = useState<TailState>(EMPTY_TAIL);
  const [follow, setFollow] = useState(true);
  const [error, setError] = useState<string | undefined>();
  const busy = useRef(false);
  const state = useRef(tail);
  state.current = tail;
  const pre = useRef<HTMLPreElement>(null);

  const read = async (): Promise<void> => {
    if (busy.current) return;
    busy.current = true;
    try {
      const { offset, length } = nextRead(state.current);
      const chunk = await getJson<FileChunk>(withQuery('/files/read', { taskId, path, offset, length }));
      setTail((t) => applyChunk(t, chunk));
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      busy.current = false;
    }
  };
  useEffect(() => { void read(); }, []);
  // A finished task's files stop growing; one last read after it ends picks up the last lines.
  useInterval(() => void read(), FOLLOW_EVERY_MS, follow && (running || tail.next === undefined));
  useEffect(() => { if (!running) void read(); }, [running]);
  useEffect(() => {
    const el = pre.current;
    if (el && follow) el.scrollTop = el.scrollHeight;
  }, [tail.text, follow]);

  return (
    <div class="file">
      <div class="file-bar">
        <strong>{path}</strong>
        <span class="muted">{formatBytes(tail.size)}{tail.truncated ? ' · showing the end' : ''}</span>
        <span class="spacer" />
        <label><input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} /> follow</label>
      </div>
      <ErrorLine error={error} />
      <pre ref={pre} class="file-text" data-testid="file-view" data-size={tail.size}>{tail.text || (tail.next === undefined ? 'Loading…' : '')}</pre>
    </div>
  );
}

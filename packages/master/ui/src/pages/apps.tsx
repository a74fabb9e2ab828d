/**
 * Long-running services: every framework that serves a Marathon-style `/v2` API (found by
 * asking each framework with a web UI URL, through the master's proxy) — its apps, deployments
 * in progress, and the launch queue with why each waiting app is not running.
 */
import type { Framework } from '../api-types.js';
import { frameworkApi } from '../api.js';
import { EmptyRow, ErrorLine, Header, Id } from '../components/common.js';
import { formatCpus, formatMem, formatTime } from '../format.js';
import { useJson } from '../hooks.js';
import { useLive } from '../live.js';
import { href } from '../router.js';

const REFRESH_MS = 3000;

interface App {
  id: string;
  instances: number;
  cpus?: number;
  mem?: number;
  cmd?: string;
  tasksRunning: number;
  tasksStaged: number;
  tasksHealthy: number;
  tasksUnhealthy: number;
  deployments: Array<{ id: string }>;
  lastTaskFailure?: { state?: string; message?: string; timestamp?: string };
}

interface Deployment {
  id: string;
  kind?: string;
  status?: string;
  affectedApps: string[];
  createdAt?: string | number;
  waitingFor?: string;
  secondsSinceProgress?: number;
}

interface QueueEntry {
  app: { id: string; instances: number };
  count: number;
  waiting: number;
  summary: string[];
  waitingFor?: string;
  lastUnusedOffers?: Array<{ at?: string; agentId?: string; hostname?: string; reason?: string }>;
}

/**
 * Frameworks whose API to ask: those named like the kind (`likely`), or when none is, every
 * framework with a web UI URL (a renamed framework is still found; the others answer 404).
 */
export function apiFrameworks(frameworks: Iterable<Framework>, likely: RegExp): Framework[] {
  const withApi = [...frameworks].filter((f) => f.webuiUrl && f.active !== false).sort((a, b) => a.name.localeCompare(b.name));
  const named = withApi.filter((f) => likely.test(f.name));
  return named.length > 0 ? named : withApi;
}

export function Apps() {
  const s = useLive();
  const candidates = apiFrameworks(s.frameworks.values(), /long-running|marathon/i);
  return (
    <section>
      <Header title="Apps" />
      {candidates.length === 0 && <p class="muted">No framework with a REST API is subscribed (start one with <code>agora local</code>, which runs the long-running framework).</p>}
      {candidates.map((f) => <AppsOf key={f.id} framework={f} likely={/long-running|marathon/i.test(f.name)} />)}
    </section>
  );
}

function AppsOf({ framework, likely }: { framework: Framework; likely: boolean }) {
  const apps = useJson<{ apps: App[] }>(frameworkApi(framework.id, '/v2/apps'), REFRESH_MS);
  const deployments = useJson<Deployment[]>(apps.data ? frameworkApi(framework.id, '/v2/deployments') : null, REFRESH_MS);
  const queue = useJson<{ queue: QueueEntry[] }>(apps.data ? frameworkApi(framework.id, '/v2/queue') : null, REFRESH_MS);
  // A framework whose API is not Marathon-like is simply not listed here.
  if (!apps.data || !Array.isArray(apps.data.apps)) return likely && apps.error ? <ErrorLine error={`${framework.name}: ${apps.error}`} /> : null;
  const list = apps.data.apps;
  const deps = Array.isArray(deployments.data) ? deployments.data : [];
  const waiting = queue.data?.queue ?? [];
  return (
    <div class="block" data-framework-id={framework.id}>
      <h2>{framework.name} <span class="muted small"><a href={href('tasks', { frameworkId: framework.id })}>tasks</a></span></h2>
      <table class="grid" data-testid="apps">
        <thead><tr><th>app</th><th>instances</th><th>running</th><th>staged</th><th>health</th><th>cpus</th><th>mem</th><th>command</th></tr></thead>
        <tbody>
          {list.length === 0 && <EmptyRow cols={8} text="No app deployed." />}
          {list.map((a) => (
            <tr key={a.id}>
              <td><strong>{a.id}</strong>{a.deployments?.length ? <> <span class="badge busy">deploying</span></> : null}</td>
              <td class="num">{a.instances}</td>
              <td class="num">{a.tasksRunning}</td>
              <td class="num">{a.tasksStaged}</td>
              <td>{a.tasksHealthy + a.tasksUnhealthy > 0 ? <><span class="badge ok">{a.tasksHealthy} healthy</span> {a.tasksUnhealthy > 0 && <span class="badge bad">{a.tasksUnhealthy} unhealthy</span>}</> : <span class="muted">–</span>}</td>
              <td class="num">{formatCpus(a.cpus)}</td>
              <td class="num">{formatMem(a.mem)}</td>
              <td><code class="wrap">{a.cmd}</code></td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>Deployments</h3>
      <ErrorLine error={deployments.error} />
      {deps.length === 0 ? <p class="muted">None in progress.</p> : (
        <table class="grid compact" data-testid="deployments">
          <thead><tr><th>ID</th><th>apps</th><th>kind</th><th>started</th><th>waiting for</th><th>since progress</th></tr></thead>
          <tbody>
            {deps.map((d) => (
              <tr key={d.id}>
                <td><Id value={d.id} /></td>
                <td>{(d.affectedApps ?? []).join(', ')}</td>
                <td>{d.kind}{d.status && d.status !== 'running' ? ` (${d.status})` : ''}</td>
                <td>{formatTime(d.createdAt)}</td>
                <td>{d.waitingFor}</td>
                <td class="num">{d.secondsSinceProgress !== undefined ? `${d.secondsSinceProgress} s` : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Why not running</h3>
      <ErrorLine error={queue.error} />
      {waiting.length === 0 ? <p class="muted">No app is waiting for instances.</p> : (
        <ul class="why" data-testid="queue">
          {waiting.map((q) => (
            <li key={q.app.id}>
              <strong>{q.app.id}</strong>: {q.count} instance(s) waiting{q.waitingFor ? ` — ${q.waitingFor}` : ''}
              <ul>{q.summary.map((line, i) => <li key={i}>{line}</li>)}</ul>
              {q.lastUnusedOffers && q.lastUnusedOffers.length > 0 && (
                <details>
                  <summary>last declined offers ({q.lastUnusedOffers.length})</summary>
                  <ul>{q.lastUnusedOffers.slice(-10).map((o, i) => <li key={i}>{formatTime(o.at)} {o.hostname || o.agentId}: {o.reason}</li>)}</ul>
                </details>
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

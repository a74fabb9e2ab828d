/**
 * The Agora web UI: a single page served by the master, talking only to the master's HTTP API
 * (same origin) and kept live by its event stream. Views are addressed by the URL hash.
 */
import { render } from 'preact';
import { useEffect } from 'preact/hooks';
import './styles.css';
import { live, useLive } from './live.js';
import { useRoute, type Route } from './router.js';
import { Agents } from './pages/agents.js';
import { Apps } from './pages/apps.js';
import { Frameworks } from './pages/frameworks.js';
import { Jobs } from './pages/jobs.js';
import { Overview } from './pages/overview.js';
import { TaskDetail } from './pages/task-detail.js';
import { Tasks } from './pages/tasks.js';
import { Wordcount } from './pages/wordcount.js';

const NAV: Array<{ path: string; label: string }> = [
  { path: '', label: 'Overview' },
  { path: 'agents', label: 'Agents' },
  { path: 'frameworks', label: 'Frameworks' },
  { path: 'tasks', label: 'Tasks' },
  { path: 'apps', label: 'Apps' },
  { path: 'jobs', label: 'Jobs' },
  { path: 'wordcount', label: 'Word count' },
];

function Page({ route }: { route: Route }) {
  const [first, second] = route.parts;
  switch (first ?? '') {
    case '': return <Overview />;
    case 'agents': return <Agents />;
    case 'frameworks': return <Frameworks />;
    case 'tasks': return second ? <TaskDetail route={route} /> : <Tasks route={route} />;
    case 'apps': return <Apps />;
    case 'jobs': return <Jobs />;
    case 'wordcount': return <Wordcount />;
    default: return <p class="error">No page “{route.parts.join('/')}”. <a href="#/">Overview</a></p>;
  }
}

function App() {
  const route = useRoute();
  const s = useLive();
  const section = route.parts[0] ?? '';
  useEffect(() => {
    const label = NAV.find((n) => n.path === section)?.label ?? 'Agora';
    document.title = `${label} · Agora`;
  }, [section]);
  return (
    <>
      <nav class="top">
        <a class="brand" href="#/">Agora</a>
        {NAV.map((n) => (
          <a key={n.path} href={`#/${n.path}`} class={n.path === section ? 'active' : ''}>{n.label}</a>
        ))}
        <span class="spacer" />
        <span class={`live ${s.connected ? 'on' : 'off'}`} data-testid="live" title={s.error ?? 'receiving the master’s events'}>
          {s.connected ? 'live' : 'offline'}
        </span>
      </nav>
      <main>
        {s.error && !s.connected && <p class="error" role="alert">{s.error}</p>}
        <Page route={route} />
      </main>
    </>
  );
}

live.start();
render(<App />, document.getElementById('app')!);

/** The cluster at a glance: counts, allocation meters, and cpus/mem over time per role. */
import { useEffect, useMemo } from 'preact/hooks';
import type { TaskPage } from '../api-types.js';
import { Header, Meter } from '../components/common.js';
import { Plot } from '../components/plot.js';
import { formatCpus, formatMem } from '../format.js';
import { useJson } from '../hooks.js';
import { live, useLive } from '../live.js';
import { href } from '../router.js';
import { plotColumns } from '../utilization.js';

export function Overview() {
  const s = useLive();
  const agents = [...s.agents.values()];
  const frameworks = [...s.frameworks.values()];
  // The master counts running tasks (the live list holds only the recent ones); asked again
  // shortly after task events, at most twice a second.
  const runningPage = useJson<TaskPage>('/tasks?state=TASK_RUNNING&limit=1', 5000);
  const { reload } = runningPage;
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = live.onTask(() => { timer ??= setTimeout(() => { timer = undefined; reload(); }, 500); });
    return () => { off(); if (timer) clearTimeout(timer); };
  }, [reload]);
  const running = runningPage.data?.total ?? [...s.tasks.values()].filter((t) => t.state === 'TASK_RUNNING').length;
  const samples = s.utilization;
  // The latest sample is the freshest view of allocation (agents' events carry state changes).
  const last = samples[samples.length - 1];
  const total = last?.total ?? { cpus: 0, mem: 0 };
  const used = last?.allocated ?? { cpus: 0, mem: 0 };
  const cpuCols = useMemo(() => plotColumns(samples, 'cpus'), [samples]);
  const memCols = useMemo(() => plotColumns(samples, 'mem'), [samples]);
  return (
    <section>
      <Header title="Overview">
        {s.master && <span class="muted">master {s.master.hostname} · {s.master.address} · {s.master.version}</span>}
      </Header>
      <div class="cards">
        <a class="card" href={href('agents')} data-testid="count-agents">
          <span class="card-value">{agents.filter((a) => a.active).length}</span>
          <span class="card-label">agents active{agents.length > agents.filter((a) => a.active).length ? ` (of ${agents.length})` : ''}</span>
        </a>
        <a class="card" href={href('frameworks')} data-testid="count-frameworks">
          <span class="card-value">{frameworks.filter((f) => f.active).length}</span>
          <span class="card-label">frameworks</span>
        </a>
        <a class="card" href={href('tasks', { state: 'TASK_RUNNING' })} data-testid="count-running">
          <span class="card-value">{running}</span>
          <span class="card-label">tasks running</span>
        </a>
        <a class="card" href={href('tasks')} data-testid="count-tasks">
          <span class="card-value">{s.taskTotal}</span>
          <span class="card-label">tasks known</span>
        </a>
      </div>
      <div class="meters">
        <div><h3>cpus allocated</h3><Meter used={used.cpus} total={total.cpus} format={formatCpus} /></div>
        <div><h3>memory allocated</h3><Meter used={used.mem} total={total.mem} format={formatMem} /></div>
      </div>
      <div class="plots">
        <Plot title="cpus: allocated vs total, by role" columns={cpuCols} format={formatCpus} testId="plot-cpus" />
        <Plot title="memory: allocated vs total, by role" columns={memCols} format={formatMem} testId="plot-mem" />
      </div>
      <p class="muted small">One sample every {s.intervalSeconds} s, last 10 minutes; {samples.length} samples.</p>
    </section>
  );
}

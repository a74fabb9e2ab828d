/**
 * `npm run bench:cron` — does the cron framework start runs on time at scale? 1,000 jobs each
 * firing every 5 s (instants spread over the period: ~200 runs/s) for a minute on an in-process
 * local cluster; every run is `true`. Prints start jitter (scheduled instant → TASK_RUNNING seen
 * by the framework) p50/p99/max, runs/s, and counts missed and duplicate runs. Never passes or
 * fails on the figures. Anchor: Chronos "slips deadlines by a second or two" (chronos#508).
 *
 * Sizes: BENCH_CRON_JOBS (1000), BENCH_CRON_SECONDS (60), BENCH_CRON_PERIOD (5 s),
 * BENCH_CRON_AGENTS (4). The journal is fsynced as in production unless BENCH_CRON_NOSYNC=1.
 */
import { cpus, totalmem } from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '@agora/sdk';
import { startCron, percentile } from '@agora/cron';

const JOBS = Number(process.env.BENCH_CRON_JOBS ?? 1000);
const SECONDS = Number(process.env.BENCH_CRON_SECONDS ?? 60);
const PERIOD = Number(process.env.BENCH_CRON_PERIOD ?? 5);
const AGENTS = Number(process.env.BENCH_CRON_AGENTS ?? 4);
const NOSYNC = process.env.BENCH_CRON_NOSYNC === '1';

const fmt = (n: number | undefined, d = 0): string => (n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));

const cluster = await startCluster({ agents: AGENTS, agentResources: Array.from({ length: AGENTS }, (_, i) => `cpus:16;mem:16384;disk:10000;ports:[${31000 + i * 100}-${31099 + i * 100}]`) });
const dir = await mkdtemp(join(tmpdir(), 'agora-bench-cron-'));
const cron = await startCron({ master: cluster.masterAddress, workDir: dir, port: 0, noSync: NOSYNC, historyLimit: Math.ceil((SECONDS + 10) / PERIOD) + 5 });
const s = cron.scheduler;
try {
  // Spread the first instants over one period, starting a few seconds from now.
  const base = Math.ceil((Date.now() + 3000) / 1000) * 1000;
  const startAt = base;
  const endAt = base + SECONDS * 1000;
  const t0 = performance.now();
  await s.putJobs(Array.from({ length: JOBS }, (_, i) => ({
    name: `bench-${i}`, command: 'true', schedule: `R/${new Date(base + Math.floor((i * PERIOD * 1000) / JOBS)).toISOString()}/PT${PERIOD}S`, cpus: 0.01, mem: 1,
  })));
  const addMs = performance.now() - t0;
  process.stdout.write(`${JOBS} jobs added in ${fmt(addMs)} ms; running ${SECONDS} s (every job every ${PERIOD} s)…\n`);
  await new Promise((r) => setTimeout(r, Math.max(0, endAt - Date.now())));
  // Disable the jobs so nothing new fires, and let the last runs finish.
  await s.putJobs(s.jobs().map(({ createdAt: _c, updatedAt: _u, ...j }) => ({ ...j, disabled: true })));
  const settle = Date.now() + 10_000;
  while (s.activeRuns().length > 0 && Date.now() < settle) await new Promise((r) => setTimeout(r, 200));

  let expected = 0;
  let succeeded = 0;
  let missed = 0;
  let duplicates = 0;
  let notDone = 0;
  const jitter: number[] = [];
  const toLaunch: number[] = [];
  for (let i = 0; i < JOBS; i++) {
    const name = `bench-${i}`;
    const first = base + Math.floor((i * PERIOD * 1000) / JOBS);
    const want = new Set<number>();
    for (let t = first; t < endAt; t += PERIOD * 1000) want.add(t);
    expected += want.size;
    const runs = s.history(name, 10_000).filter((r) => r.scheduledAt >= startAt && r.scheduledAt < endAt);
    const seen = new Map<number, number>();
    for (const r of runs) seen.set(r.scheduledAt, (seen.get(r.scheduledAt) ?? 0) + 1);
    for (const t of want) if (!seen.has(t)) missed++;
    for (const [, n] of seen) if (n > 1) duplicates += n - 1;
    for (const r of runs) {
      if (r.state === 'succeeded') succeeded++;
      else if (r.state === 'skipped') missed++;
      else notDone++;
      if (r.attempt > 1) duplicates++;
      if (r.jitterMs !== undefined) jitter.push(r.jitterMs);
      if (r.launchedAt !== undefined && r.trigger === 'schedule') toLaunch.push(r.launchedAt - r.scheduledAt);
    }
  }
  const m = s.metrics;
  const cpu = cpus();
  process.stdout.write([
    '',
    `machine: ${cpu.length} × ${cpu[0]?.model ?? '?'}, ${fmt(totalmem() / 2 ** 30, 1)} GiB, Node ${process.version}; ${AGENTS} in-process agents; journal fsync ${NOSYNC ? 'off' : 'on'}`,
    `runs: ${fmt(expected)} instants expected, ${fmt(succeeded)} succeeded, ${fmt(missed)} missed/skipped, ${fmt(duplicates)} duplicate, ${fmt(notDone)} not finished`,
    `throughput: ${fmt(succeeded / SECONDS, 1)} runs/s; tasks launched ${fmt(m.tasksLaunched)}`,
    `start jitter (instant → TASK_RUNNING), ms: p50 ${fmt(percentile(jitter, 50))}  p90 ${fmt(percentile(jitter, 90))}  p99 ${fmt(percentile(jitter, 99))}  max ${fmt(jitter.length ? Math.max(...jitter) : undefined)}  (n=${fmt(jitter.length)})`,
    `  of which instant → launch handed to the master, ms: p50 ${fmt(percentile(toLaunch, 50))}  p99 ${fmt(percentile(toLaunch, 99))}  max ${fmt(toLaunch.length ? Math.max(...toLaunch) : undefined)}`,
    'anchor: Chronos slips deadlines by a second or two (chronos#508); target p99 ≤ 100 ms, no missed or duplicate run',
    '',
  ].join('\n'));
} finally {
  await cron.stop({ failover: false });
  await cluster.stop();
  await rm(dir, { recursive: true, force: true });
}

/**
 * `npm run bench:cron` — does the cron framework start runs on time at scale? 1,000 jobs each
 * firing every 5 s (instants spread over the period: ~200 runs/s) for a minute on an in-process
 * local cluster; every run is `true`. Prints start jitter (scheduled instant → the command's real
 * start, as the executor stamps TASK_RUNNING) p50/p99/max, runs/s, and counts missed and
 * duplicate runs. Never passes or fails on the figures. Anchor: Chronos "slips deadlines by a
 * second or two" (chronos#508).
 *
 * Modes, run one after the other in the same process for a side-by-side: `ahead` (runs launched
 * BENCH_CRON_LEAD_MS, default 2000, before their instant onto the cron executor) and `instant`
 * (launchAheadMs 0: a command task launched at the instant, the design before launch-ahead).
 *
 * Sizes: BENCH_CRON_JOBS (1000), BENCH_CRON_SECONDS (60), BENCH_CRON_PERIOD (5 s),
 * BENCH_CRON_AGENTS (4), BENCH_CRON_MODES (ahead,instant), BENCH_CRON_EXECUTOR_CPUS (the
 * framework's default). The journal is fsynced as in
 * production unless BENCH_CRON_NOSYNC=1.
 */
import { cpus, loadavg, totalmem } from 'node:os';
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
const EXECUTOR_CPUS = Number(process.env.BENCH_CRON_EXECUTOR_CPUS ?? 0);
const LEAD_MS = Number(process.env.BENCH_CRON_LEAD_MS ?? 2000);
const MODES = (process.env.BENCH_CRON_MODES ?? 'ahead,instant').split(',').map((m) => m.trim()).filter((m) => m === 'ahead' || m === 'instant');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const fmt = (n: number | undefined, d = 0): string => (n === undefined || Number.isNaN(n) ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }));

interface Figures { mode: string; expected: number; succeeded: number; missed: number; duplicates: number; relaunched: number; notDone: number; jitter: number[]; toLaunch: number[]; launched: number; readyMs: number }

async function runMode(mode: 'ahead' | 'instant'): Promise<Figures> {
  const cluster = await startCluster({ agents: AGENTS, agentResources: Array.from({ length: AGENTS }, (_, i) => `cpus:16;mem:16384;disk:10000;ports:[${31000 + i * 100}-${31099 + i * 100}]`) });
  const dir = await mkdtemp(join(tmpdir(), 'agora-bench-cron-'));
  const cron = await startCron({ master: cluster.masterAddress, workDir: dir, port: 0, noSync: NOSYNC, launchAheadMs: mode === 'ahead' ? LEAD_MS : 0, ...(EXECUTOR_CPUS ? { executorResources: { cpus: EXECUTOR_CPUS } } : {}), historyLimit: Math.ceil((SECONDS + 10) / PERIOD) + 5 });
  const s = cron.scheduler;
  try {
    // The framework starts its executor on every agent as soon as it is offered resources; runs
    // are launched ahead only onto ready ones. Measure the steady state, and say how long that took.
    const t0 = Date.now();
    if (mode === 'ahead') while (s.readyExecutors < AGENTS && Date.now() - t0 < 60_000) await sleep(100);
    const readyMs = Date.now() - t0;
    // Spread the first instants over one period, starting a few seconds from now (after the
    // jobs are in: adding 1,000 takes seconds on a loaded machine).
    const base = Math.ceil((Date.now() + 3000 + LEAD_MS + JOBS * 6) / 1000) * 1000;
    const endAt = base + SECONDS * 1000;
    const tAdd = performance.now();
    await s.putJobs(Array.from({ length: JOBS }, (_, i) => ({
      name: `bench-${i}`, command: 'true', schedule: `R/${new Date(base + Math.floor((i * PERIOD * 1000) / JOBS)).toISOString()}/PT${PERIOD}S`, cpus: 0.01, mem: 1,
    })));
    process.stdout.write(`[${mode}] executors ready on ${s.readyExecutors}/${AGENTS} agents after ${fmt(readyMs)} ms; ${JOBS} jobs added in ${fmt(performance.now() - tAdd)} ms; running ${SECONDS} s (every job every ${PERIOD} s)…\n`);
    await sleep(Math.max(0, endAt - Date.now()));
    // Disable the jobs so nothing new fires, and let the last runs finish.
    await s.putJobs(s.jobs().map(({ createdAt: _c, updatedAt: _u, ...j }) => ({ ...j, disabled: true })));
    const settle = Date.now() + 10_000;
    while (s.activeRuns().some((r) => r.scheduledAt < endAt) && Date.now() < settle) await sleep(200);

    const f: Figures = { mode, expected: 0, succeeded: 0, missed: 0, duplicates: 0, relaunched: 0, notDone: 0, jitter: [], toLaunch: [], launched: s.metrics.tasksLaunched, readyMs };
    for (let i = 0; i < JOBS; i++) {
      const first = base + Math.floor((i * PERIOD * 1000) / JOBS);
      const want = new Set<number>();
      for (let t = first; t < endAt; t += PERIOD * 1000) want.add(t);
      f.expected += want.size;
      const runs = s.history(`bench-${i}`, 10_000).filter((r) => r.scheduledAt >= base && r.scheduledAt < endAt);
      const seen = new Map<number, number>();
      for (const r of runs) seen.set(r.scheduledAt, (seen.get(r.scheduledAt) ?? 0) + 1);
      for (const t of want) if (!seen.has(t)) f.missed++;
      for (const [, n] of seen) if (n > 1) f.duplicates += n - 1;
      for (const r of runs) {
        if (r.state === 'succeeded') f.succeeded++;
        else if (r.state === 'skipped') f.missed++;
        else f.notDone++;
        if (r.attempt > 1) f.duplicates++;
        f.relaunched += r.relaunches ?? 0;
        if (r.jitterMs !== undefined) f.jitter.push(r.jitterMs);
        if (r.launchedAt !== undefined && r.trigger === 'schedule') f.toLaunch.push(r.launchedAt - r.scheduledAt);
      }
    }
    return f;
  } finally {
    await cron.stop({ failover: false });
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

const results: Figures[] = [];
for (const mode of MODES as ('ahead' | 'instant')[]) results.push(await runMode(mode));
const cpu = cpus();
const out = [
  '',
  `machine: ${cpu.length} × ${cpu[0]?.model ?? '?'}, ${fmt(totalmem() / 2 ** 30, 1)} GiB, Node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${AGENTS} in-process agents; journal fsync ${NOSYNC ? 'off' : 'on'}`,
  `${JOBS} jobs every ${PERIOD} s for ${SECONDS} s (${fmt(JOBS / PERIOD, 1)} runs/s offered)`,
  '',
  `${'mode'.padEnd(22)} ${'instants'.padStart(8)} ${'ok'.padStart(7)} ${'missed'.padStart(7)} ${'dup'.padStart(5)} ${'runs/s'.padStart(7)}   jitter ms p50 / p99 / max (n)           instant→launch ms p50 / p99`,
];
for (const f of results) {
  const name = f.mode === 'ahead' ? `launch ahead ${LEAD_MS} ms` : 'launch at the instant';
  const j = `${fmt(percentile(f.jitter, 50))} / ${fmt(percentile(f.jitter, 99))} / ${fmt(f.jitter.length ? Math.max(...f.jitter) : undefined)} (${fmt(f.jitter.length)})`;
  const l = `${fmt(percentile(f.toLaunch, 50))} / ${fmt(percentile(f.toLaunch, 99))}`;
  out.push(`${name.padEnd(22)} ${fmt(f.expected).padStart(8)} ${fmt(f.succeeded).padStart(7)} ${fmt(f.missed).padStart(7)} ${fmt(f.duplicates).padStart(5)} ${fmt(f.succeeded / SECONDS, 1).padStart(7)}   ${j.padEnd(38)}  ${l}`);
  if (f.notDone || f.relaunched) out.push(`${''.padEnd(22)} (${fmt(f.notDone)} not finished, ${fmt(f.relaunched)} relaunched tasks that never ran)`);
}
out.push('Chronos (anchor)       slips deadlines by a second or two (chronos#508)', 'target: p99 ≤ 100 ms, no missed or duplicate run', '');
process.stdout.write(out.join('\n'));

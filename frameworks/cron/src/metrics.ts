/**
 * The framework's Prometheus metrics (prom-client, one registry per scheduler so several can
 * live in one process): run outcomes, launches, retries, missed instants, and the start-jitter
 * histogram (scheduled instant → the command's real start, for on-time scheduled runs).
 *
 * Names are the ones /metrics has always shown; `agora_cron_start_jitter_seconds` is now a
 * histogram (buckets from 1 ms to 30 s) instead of a summary, so it aggregates across instances.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { percentile } from './stats.js';

/** Jitter samples kept for the quantiles the API and the benchmark print (the latest ones). */
const JITTER_KEPT = 10_000;
const JITTER_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const GAUGE_HELP: Record<string, string> = { agora_cron_jobs: 'Jobs defined.', agora_cron_active_runs: 'Runs not finished (pending, launched, running, waiting to retry).', agora_cron_ready_executors: 'Agents whose cron executor is known to be up (runs are launched ahead onto those).' };

type Outcome = 'succeeded' | 'failed' | 'killed' | 'skipped';

export class CronMetrics {
  /** The registry GET /metrics renders. */
  readonly registry = new Registry();
  private readonly launchedC = new Counter({ name: 'agora_cron_tasks_launched_total', help: 'Tasks launched (first attempts, retries and relaunches).', registers: [this.registry] });
  private readonly startedC = new Counter({ name: 'agora_cron_runs_started_total', help: 'Runs whose command started (first TASK_RUNNING of a run).', registers: [this.registry] });
  private readonly runsC = new Counter({ name: 'agora_cron_runs_total', help: 'Runs finished, by result.', labelNames: ['result'] as const, registers: [this.registry] });
  private readonly failuresC = new Counter({ name: 'agora_cron_run_failures_total', help: 'Runs that failed after their retries.', registers: [this.registry] });
  private readonly retriesC = new Counter({ name: 'agora_cron_retries_total', help: 'Attempts retried after a failure.', registers: [this.registry] });
  private readonly missedC = new Counter({ name: 'agora_cron_missed_instants_total', help: 'Instants handled late (framework or cluster down), whatever the policy did with them.', registers: [this.registry] });
  private readonly jitterH = new Histogram({ name: 'agora_cron_start_jitter_seconds', help: 'Scheduled instant to the real start of the command, on-time scheduled runs.', buckets: JITTER_BUCKETS, registers: [this.registry] });
  private readonly jitterMaxG = new Gauge({ name: 'agora_cron_start_jitter_max_seconds', help: 'Largest start jitter seen.', registers: [this.registry] });
  private readonly gauges = new Map<string, Gauge>();

  tasksLaunched = 0;
  runsSucceeded = 0;
  runsFailed = 0;
  runsKilled = 0;
  runsSkipped = 0;
  runsStarted = 0;
  retries = 0;
  missedInstants = 0;
  jitterCount = 0;
  jitterMaxMs = 0;
  private jitter: number[] = [];

  constructor() {
    for (const result of ['succeeded', 'failed', 'killed', 'skipped']) this.runsC.inc({ result }, 0);
  }

  launched(n = 1): void { this.tasksLaunched += n; this.launchedC.inc(n); }
  started(): void { this.runsStarted++; this.startedC.inc(); }
  retried(): void { this.retries++; this.retriesC.inc(); }
  missed(n: number): void { this.missedInstants += n; this.missedC.inc(n); }

  /** A run ended with `result`; `n` > 1 counts instants skipped without a record. */
  finished(result: Outcome, n = 1): void {
    if (result === 'succeeded') this.runsSucceeded += n;
    else if (result === 'failed') { this.runsFailed += n; this.failuresC.inc(n); }
    else if (result === 'killed') this.runsKilled += n;
    else this.runsSkipped += n;
    this.runsC.inc({ result }, n);
  }

  observeJitter(ms: number): void {
    this.jitterCount++;
    this.jitterMaxMs = Math.max(this.jitterMaxMs, ms);
    this.jitterH.observe(Math.max(0, ms) / 1000);
    this.jitterMaxG.set(this.jitterMaxMs / 1000);
    this.jitter.push(ms);
    if (this.jitter.length > JITTER_KEPT * 1.5) this.jitter = this.jitter.slice(-JITTER_KEPT);
  }

  /** Start jitter over the latest samples, ms. */
  jitterSummary(): { count: number; p50: number | null; p90: number | null; p99: number | null; max: number | null } {
    const xs = this.jitter.slice(-JITTER_KEPT);
    return { count: this.jitterCount, p50: percentile(xs, 50) ?? null, p90: percentile(xs, 90) ?? null, p99: percentile(xs, 99) ?? null, max: this.jitterCount ? this.jitterMaxMs : null };
  }

  /** Prometheus text exposition; `gauges` sets point-in-time values first (e.g. agora_cron_jobs). */
  async render(gauges: Record<string, number> = {}): Promise<string> {
    for (const [name, v] of Object.entries(gauges)) {
      let g = this.gauges.get(name);
      if (!g) this.gauges.set(name, (g = new Gauge({ name, help: GAUGE_HELP[name] ?? name, registers: [this.registry] })));
      g.set(v);
    }
    return this.registry.metrics();
  }

  /** The content type of `render`'s text. */
  get contentType(): string { return this.registry.contentType; }
}

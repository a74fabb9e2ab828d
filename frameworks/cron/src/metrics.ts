/** Counters and the start-jitter summary, rendered as Prometheus text for GET /metrics. */
import { percentile } from './stats.js';

/** Jitter samples kept for the quantiles (the latest ones). */
const JITTER_KEPT = 10_000;

export class CronMetrics {
  tasksLaunched = 0;
  runsSucceeded = 0;
  runsFailed = 0;
  runsKilled = 0;
  runsSkipped = 0;
  retries = 0;
  missedInstants = 0;
  jitterCount = 0;
  jitterSumMs = 0;
  jitterMaxMs = 0;
  private jitter: number[] = [];

  observeJitter(ms: number): void {
    this.jitterCount++;
    this.jitterSumMs += ms;
    this.jitterMaxMs = Math.max(this.jitterMaxMs, ms);
    this.jitter.push(ms);
    if (this.jitter.length > JITTER_KEPT * 1.5) this.jitter = this.jitter.slice(-JITTER_KEPT);
  }

  /** Start jitter (scheduled instant → TASK_RUNNING) over the latest samples, ms. */
  jitterSummary(): { count: number; p50: number | null; p90: number | null; p99: number | null; max: number | null } {
    const xs = this.jitter.slice(-JITTER_KEPT);
    return { count: this.jitterCount, p50: percentile(xs, 50) ?? null, p90: percentile(xs, 90) ?? null, p99: percentile(xs, 99) ?? null, max: this.jitterCount ? this.jitterMaxMs : null };
  }

  /** Prometheus text exposition (version 0.0.4). `gauges` adds point-in-time values. */
  render(gauges: Record<string, number>): string {
    const out: string[] = [];
    const counter = (name: string, help: string, v: number, labels = ''): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name}${labels} ${v}`);
    };
    counter('agora_cron_tasks_launched_total', 'Tasks launched (first attempts and retries).', this.tasksLaunched);
    out.push('# HELP agora_cron_runs_total Runs finished, by result.', '# TYPE agora_cron_runs_total counter');
    for (const [result, v] of [['succeeded', this.runsSucceeded], ['failed', this.runsFailed], ['killed', this.runsKilled], ['skipped', this.runsSkipped]] as const) {
      out.push(`agora_cron_runs_total{result="${result}"} ${v}`);
    }
    counter('agora_cron_run_failures_total', 'Runs that failed after their retries.', this.runsFailed);
    counter('agora_cron_retries_total', 'Attempts retried after a failure.', this.retries);
    counter('agora_cron_missed_instants_total', 'Instants handled late (framework or cluster down), whatever the policy did with them.', this.missedInstants);
    const j = this.jitterSummary();
    out.push('# HELP agora_cron_start_jitter_seconds Scheduled instant to TASK_RUNNING of on-time runs.', '# TYPE agora_cron_start_jitter_seconds summary');
    for (const [q, v] of [['0.5', j.p50], ['0.9', j.p90], ['0.99', j.p99]] as const) if (v !== null) out.push(`agora_cron_start_jitter_seconds{quantile="${q}"} ${v / 1000}`);
    out.push(`agora_cron_start_jitter_seconds_sum ${this.jitterSumMs / 1000}`, `agora_cron_start_jitter_seconds_count ${this.jitterCount}`);
    out.push('# HELP agora_cron_start_jitter_max_seconds Largest start jitter seen.', '# TYPE agora_cron_start_jitter_max_seconds gauge', `agora_cron_start_jitter_max_seconds ${this.jitterMaxMs / 1000}`);
    for (const [name, v] of Object.entries(gauges)) out.push(`# TYPE ${name} gauge`, `${name} ${v}`);
    return `${out.join('\n')}\n`;
  }
}

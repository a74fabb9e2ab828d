/** /metrics as Prometheus scrapes it: the names users already know, and the jitter histogram. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CronMetrics } from '../src/metrics.js';

test('counters, outcomes, the start-jitter histogram and the gauges render under their names', async () => {
  const m = new CronMetrics();
  m.launched(3);
  m.started();
  m.started();
  m.finished('succeeded');
  m.finished('failed');
  m.finished('skipped', 4);
  m.retried();
  m.missed(2);
  m.observeJitter(3);
  m.observeJitter(40);
  m.observeJitter(1200);
  const text = await m.render({ agora_cron_jobs: 7, agora_cron_active_runs: 1, agora_cron_ready_executors: 2 });
  const value = (line: string): number => {
    const row = text.split('\n').find((l) => l.startsWith(`${line} `));
    assert.ok(row, `${line} in\n${text}`);
    return Number(row.slice(line.length + 1));
  };
  assert.equal(value('agora_cron_tasks_launched_total'), 3);
  assert.equal(value('agora_cron_runs_started_total'), 2);
  assert.equal(value('agora_cron_runs_total{result="succeeded"}'), 1);
  assert.equal(value('agora_cron_runs_total{result="failed"}'), 1);
  assert.equal(value('agora_cron_runs_total{result="killed"}'), 0);
  assert.equal(value('agora_cron_runs_total{result="skipped"}'), 4);
  assert.equal(value('agora_cron_run_failures_total'), 1);
  assert.equal(value('agora_cron_retries_total'), 1);
  assert.equal(value('agora_cron_missed_instants_total'), 2);
  assert.match(text, /# TYPE agora_cron_start_jitter_seconds histogram/);
  assert.equal(value('agora_cron_start_jitter_seconds_bucket{le="0.005"}'), 1);
  assert.equal(value('agora_cron_start_jitter_seconds_bucket{le="0.05"}'), 2);
  assert.equal(value('agora_cron_start_jitter_seconds_bucket{le="+Inf"}'), 3);
  assert.equal(value('agora_cron_start_jitter_seconds_count'), 3);
  assert.equal(value('agora_cron_start_jitter_max_seconds'), 1.2);
  assert.equal(value('agora_cron_jobs'), 7);
  assert.equal(value('agora_cron_ready_executors'), 2);
  assert.deepEqual(m.jitterSummary(), { count: 3, p50: 40, p90: 1200, p99: 1200, max: 1200 });
  // Two schedulers in one process do not collide (each has its own registry).
  assert.match(await new CronMetrics().render(), /agora_cron_runs_started_total 0/);
});

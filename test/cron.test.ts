/**
 * The cron framework against a real in-process cluster, through
 * its REST API as a user drives it. Real time, bounded: the scenarios run side by side.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type TestCluster } from '@agora/sdk';
import { startCron, type RunningCron } from '@agora/cron';

interface RunView { id: string; state: string; scheduledAt: string; startedAt: string | null; endedAt: string | null; attempt: number; message: string | null; trigger: string; jitterMs: number | null }

let cluster: TestCluster;
let cron: RunningCron;
let dir: string;
let api: string;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${api}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let json: unknown;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
}

async function history(name: string): Promise<RunView[]> {
  return (await call('GET', `/v1/jobs/${name}/history?limit=100`)).json as RunView[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; runs: ${JSON.stringify(Object.values(cron.scheduler.store.state.runs).map((r) => [r.id, r.state, r.message]))}`);
    await sleep(100);
  }
}

describe('cron framework on a local cluster', { concurrency: true }, () => {
  before(async () => {
    cluster = await startCluster({ agents: 2 });
    dir = await mkdtemp(join(tmpdir(), 'agora-cron-test-'));
    cron = await startCron({ master: cluster.masterAddress, workDir: dir, port: 0 });
    api = `http://${cron.address}`;
    // The framework starts its executor on each agent (runs are launched ahead onto ready ones);
    // the scenarios below are about a running framework, not its first seconds.
    await until('cron executors ready on both agents', async () => cron.scheduler.readyExecutors >= 2, 60_000);
  });
  after(async () => {
    await cron?.stop({ failover: false });
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('(1) a job every 2 s runs at each instant for 10 s: 5 runs, none skipped, none doubled', async () => {
    const created = await call('POST', '/v1/jobs', { name: 'every2', command: 'true', schedule: '*/2 * * * * *', cpus: 0.05, mem: 16 });
    assert.equal(created.status, 201, created.text);
    const first = Date.parse(created.json.nextRunAt);
    const window = Array.from({ length: 5 }, (_, i) => new Date(first + i * 2000).toISOString());
    const runs = await until('5 finished runs', async () => {
      const h = (await history('every2')).filter((r) => window.includes(r.scheduledAt));
      return h.length === 5 && h.every((r) => r.state === 'succeeded') && h;
    }, 20_000);
    await call('DELETE', '/v1/jobs/every2');
    assert.deepEqual(runs.map((r) => r.scheduledAt).sort(), window);
    assert.equal(new Set(runs.map((r) => r.id)).size, 5);
    for (const r of runs) {
      assert.equal(r.attempt, 1);
      assert.equal(r.trigger, 'schedule');
      assert.ok(r.jitterMs !== null && r.jitterMs >= 0 && r.jitterMs < 1500, `jitter ${r.jitterMs} ms`);
    }
    const metrics = (await call('GET', '/metrics')).text;
    assert.match(metrics, /agora_cron_start_jitter_seconds_count \d+/);
  });

  test('(3) A → B → C: C after A and B; a failing B (after retries) stops C; with softError it does not', async () => {
    // A fires only when run by hand (its schedule is once a year).
    assert.equal((await call('POST', '/v1/jobs', { name: 'A', command: 'true', schedule: '0 0 1 1 *', mem: 16 })).status, 201);
    assert.equal((await call('POST', '/v1/jobs', { name: 'B', command: 'sleep 0.2', parents: ['A'], mem: 16 })).status, 201);
    assert.equal((await call('POST', '/v1/jobs', { name: 'C', command: 'true', parents: ['B'], mem: 16 })).status, 201);
    assert.equal((await call('POST', '/v1/jobs/A/run', {})).status, 202);
    const [c] = await until('C ran', async () => { const h = (await history('C')).filter((r) => r.state === 'succeeded'); return h.length === 1 && h; });
    const [b] = (await history('B')).filter((r) => r.state === 'succeeded');
    const [a] = (await history('A')).filter((r) => r.state === 'succeeded');
    assert.ok(a && b && c);
    assert.ok(Date.parse(b.startedAt!) >= Date.parse(a.endedAt!), 'B starts after A ended');
    assert.ok(Date.parse(c.startedAt!) >= Date.parse(b.endedAt!), 'C starts after B ended');
    assert.equal(c.trigger, 'parents');

    // B now fails, with one retry: C must not run.
    assert.equal((await call('PUT', '/v1/jobs/B', { command: 'exit 3', parents: ['A'], retries: 1, retryDelaySeconds: 0.1, mem: 16 })).status, 200);
    await call('POST', '/v1/jobs/A/run', {});
    const failed = await until('B failed', async () => (await history('B')).find((r) => r.state === 'failed'));
    assert.equal(failed.attempt, 2, 'one retry, then failed');
    await sleep(800);
    assert.equal((await history('C')).length, 1, 'C did not run after B failed');

    // softError on B: its failure lets C run.
    assert.equal((await call('PUT', '/v1/jobs/B', { command: 'exit 3', parents: ['A'], softError: true, mem: 16 })).status, 200);
    await call('POST', '/v1/jobs/A/run', {});
    await until('C ran again', async () => (await history('C')).filter((r) => r.state === 'succeeded').length === 2);
    assert.equal((await history('B')).filter((r) => r.state === 'failed').length, 2);
    const stats = (await call('GET', '/v1/jobs/B/stats')).json;
    assert.equal(stats.successCount, 1);
    assert.equal(stats.errorCount, 2);
    const dot = (await call('GET', '/v1/graph')).text;
    assert.match(dot, /"A" -> "B";/);
    assert.match(dot, /"B" -> "C";/);
  });

  test('(5) concurrencyPolicy forbid: an instant while a run is still going is skipped', async () => {
    const created = await call('POST', '/v1/jobs', { name: 'slow', command: 'sleep 3', schedule: '*/2 * * * * *', concurrencyPolicy: 'forbid', mem: 16 });
    assert.equal(created.status, 201, created.text);
    const first = Date.parse(created.json.nextRunAt);
    // Instant +2 always finds run 0 going (it sleeps 3 s): skipped. Later instants run or are
    // skipped depending on when run 0 ended, but two runs never overlap.
    const h = await until('four instants handled', async () => {
      const runs = await history('slow');
      const at = (k: number): RunView | undefined => runs.find((r) => r.scheduledAt === new Date(first + k * 2000).toISOString());
      const four = [at(0), at(1), at(2), at(3)];
      return at(0)?.state === 'succeeded' && four.every(Boolean) && runs;
    }, 20_000);
    await call('DELETE', '/v1/jobs/slow');
    const second = h.find((r) => r.scheduledAt === new Date(first + 2000).toISOString())!;
    assert.equal(second.state, 'skipped');
    assert.match(second.message ?? '', /forbid/);
    const ran = h.filter((r) => r.startedAt).sort((a, b) => Date.parse(a.startedAt!) - Date.parse(b.startedAt!));
    assert.ok(ran.length >= 2, 'a later instant ran once the first run ended');
    for (let i = 1; i < ran.length; i++) {
      assert.ok(ran[i - 1]!.endedAt && Date.parse(ran[i]!.startedAt!) >= Date.parse(ran[i - 1]!.endedAt!), `runs overlap: ${ran[i - 1]!.id} and ${ran[i]!.id}`);
    }
  });

  test('(6) bad jobs → 422 naming each field; nothing stored', async () => {
    await call('POST', '/v1/jobs', { name: 'p1', command: 'true', schedule: '0 0 1 1 *' });
    await call('POST', '/v1/jobs', { name: 'p2', command: 'true', parents: ['p1'] });
    const before = (await call('GET', '/v1/jobs')).json.length;
    const cases: [unknown, string][] = [
      [{ name: 'x1', command: 'true', schedule: 'every tuesday' }, 'schedule'],
      [{ name: 'x2', command: 'true', schedule: 'R/2025-01-01T00:00:00Z/PT0S' }, 'schedule'],
      [{ name: 'x3', command: 'true', parents: ['nope'] }, 'parents'],
      [{ name: 'x4', command: 'true', schedule: '* * * * *', retries: -1 }, 'retries'],
      [{ name: 'x5', command: 'true', schedule: '* * * * *', timezone: 'Mars/Base' }, 'timezone'],
    ];
    for (const [body, field] of cases) {
      const r = await call('POST', '/v1/jobs', body);
      assert.equal(r.status, 422, r.text);
      assert.ok(r.json.fields.some((f: { field: string }) => f.field === field), `${field} in ${r.text}`);
    }
    // A cycle: p1 ← p2, then p1 given p2 as parent.
    const cyc = await call('PUT', '/v1/jobs/p1', { command: 'true', parents: ['p2'] });
    assert.equal(cyc.status, 422, cyc.text);
    assert.match(cyc.json.fields[0].message, /cycle/);
    const many = await call('POST', '/v1/jobs', { name: 'x6', command: '', schedule: 'x', retries: -2, cpus: 'a lot' });
    assert.deepEqual(many.json.fields.map((f: { field: string }) => f.field).sort(), ['command', 'cpus', 'retries', 'schedule']);
    assert.equal((await call('GET', '/v1/jobs')).json.length, before);
    assert.equal((await call('GET', '/v1/jobs/p1')).json.schedule, '0 0 1 1 *', 'p1 unchanged');
    const doc = (await call('GET', '/openapi.json')).json;
    assert.ok(doc.paths['/v1/jobs'] && doc.openapi, 'OpenAPI served');
    assert.equal((await call('GET', '/ping')).text, 'pong');
  });
});

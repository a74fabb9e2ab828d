/**
 * End to end, as a user: `agora app …` against the long-running framework and `agora job …`
 * against the cron framework, both started by `agora local` on free ports.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agora, agoraBackground } from './helpers.js';

let dir = '';
let cluster: ReturnType<typeof agoraBackground> | undefined;
let apps = '';
let cron = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agora-apps-jobs-'));
  cluster = agoraBackground(['local', '--work-dir', join(dir, 'cluster'), '--port', '0', '--agent-port', '0', '--agent-http-port', '0', '--apps-port', '0', '--cron-port', '0', '--resources', 'cpus:4;mem:4096;disk:1000;ports:[31000-31099]']);
  apps = `http://${(await cluster.waitFor(/^long-running api listening on (\S+)$/m, 40_000))[1]}`;
  cron = `http://${(await cluster.waitFor(/^cron api listening on (\S+)$/m, 40_000))[1]}`;
});

after(async () => {
  if (cluster) {
    cluster.child.kill('SIGINT');
    const code = await Promise.race([cluster.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000).unref())]);
    if (code === 'hung') cluster.child.kill('SIGKILL');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('app deploy, list, show and remove', { timeout: 240_000 }, async () => {
  const file = join(dir, 'web.json');
  writeFileSync(file, JSON.stringify({ id: '/shop/web', cmd: 'sleep 300', cpus: 0.1, mem: 16, instances: 2 }));
  const deployed = await agora(['app', 'deploy', '-f', file, '--api', apps], {}, 120_000);
  assert.equal(deployed.code, 0, deployed.stderr);
  assert.match(deployed.stdout, /^deploying \/shop\/web \(deployment \S+, version \S+\)$/m);
  assert.match(deployed.stdout, /^deploy \/shop\/web: done in [\d.]+ s/m);
  assert.equal(deployed.stderr, '', 'no spinner when not on a terminal');

  // One after the other: on a loaded machine, side by side they only slow each other down.
  const list = await agora(['app', 'list', '--api', apps], {}, 120_000);
  const listJson = await agora(['app', 'list', '--json', '--api', apps], {}, 120_000);
  const show = await agora(['app', 'show', '/shop/web', '--json', '--api', apps], {}, 120_000);
  const missing = await agora(['app', 'show', '/nope', '--api', apps], {}, 120_000);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /\/shop\/web\s*│\s*2\s*│\s*2\s*│/);
  assert.deepEqual((JSON.parse(listJson.stdout) as { id: string; tasksRunning: number }[]).map((a) => [a.id, a.tasksRunning]), [['/shop/web', 2]]);
  assert.equal(show.code, 0, show.stderr);
  const app = JSON.parse(show.stdout) as { id: string; tasks: { state: string }[] };
  assert.equal(app.id, '/shop/web');
  assert.deepEqual(app.tasks.map((t) => t.state), ['TASK_RUNNING', 'TASK_RUNNING']);

  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^agora: .*\/nope/);
  assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);

  const removed = await agora(['app', 'remove', '/shop/web', '--json', '--api', apps], {}, 120_000);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal((JSON.parse(removed.stdout) as { done: boolean }).done, true);
  const left = await (await fetch(`${apps}/v2/apps`)).json() as { apps: unknown[] };
  assert.deepEqual(left.apps, []);
});

test('job add, list, run and history', { timeout: 240_000 }, async () => {
  const file = join(dir, 'job.json');
  writeFileSync(file, JSON.stringify({ name: 'nightly', command: 'echo backed up', schedule: 'R/2099-01-01T00:00:00Z/P1D', cpus: 0.1, mem: 16 }));
  const added = await agora(['job', 'add', '-f', file, '--api', cron], {}, 120_000);
  assert.equal(added.code, 0, added.stderr);
  assert.match(added.stdout, /^job nightly saved; next run 2099-01-01T00:00:00/m);

  const list = await agora(['job', 'list', '--json', '--api', cron], {}, 120_000);
  const run = await agora(['job', 'run', 'nightly', '--json', '--api', cron], {}, 120_000);
  const unknown = await agora(['job', 'run', 'no-such-job', '--api', cron], {}, 120_000);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual((JSON.parse(list.stdout) as { name: string }[]).map((j) => j.name), ['nightly']);
  assert.equal(run.code, 0, run.stderr);
  const runId = (JSON.parse(run.stdout) as { id: string }).id;
  assert.ok(runId);

  // The run goes through the cluster and ends (waited for on the API itself); history shows it.
  const deadline = Date.now() + 40_000;
  const ended = async (): Promise<boolean> => {
    const runs = await (await fetch(`${cron}/v1/jobs/nightly/history?limit=5`)).json() as { id: string; state: string }[];
    return runs.some((r) => r.id === runId && ['succeeded', 'failed', 'killed', 'skipped'].includes(r.state));
  };
  while (Date.now() < deadline && !(await ended())) await new Promise((r) => setTimeout(r, 200));
  const h = await agora(['job', 'history', 'nightly', '--json', '--api', cron], {}, 120_000);
  const table = await agora(['job', 'history', 'nightly', '--api', cron], {}, 120_000);
  assert.equal(h.code, 0, h.stderr);
  const runs = JSON.parse(h.stdout) as { id: string; state: string; trigger: string; exitCode: number | null }[];
  const mine = runs.find((r) => r.id === runId);
  assert.ok(mine, JSON.stringify(runs));
  assert.equal(mine.state, 'succeeded', JSON.stringify(mine));
  assert.equal(mine.exitCode, 0);
  assert.match(table.stdout, /SCHEDULED.*STATE/);
  assert.match(table.stdout, /succeeded/);

  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr.trim().split('\n').length, 1, unknown.stderr);
});

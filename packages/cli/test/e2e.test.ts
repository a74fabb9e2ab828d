/**
 * End to end, as a user: `agora local` on free ports, then `agora task run` against it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agora, agoraBackground } from './helpers.js';

let dir = '';
let cluster: ReturnType<typeof agoraBackground> | undefined;
let master = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agora-e2e-'));
  cluster = agoraBackground(['local', '--work-dir', dir, '--port', '0', '--agent-port', '0', '--apps-port', '0', '--cron-port', '0', '--resources', 'cpus:4;mem:4096;disk:1000;ports:[31000-31099]']);
  master = (await cluster.waitFor(/^master listening on (\S+)$/m))[1] as string;
  await cluster.waitFor(/^agent listening on (\S+)/m);
});

after(async () => {
  if (cluster) {
    cluster.child.kill('SIGINT');
    const code = await Promise.race([cluster.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000).unref())]);
    if (code === 'hung') cluster.child.kill('SIGKILL');
    assert.equal(code, 0, `agora local should stop cleanly on SIGINT; stderr:\n${cluster.output().stderr}`);
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('task run streams the output, prints the states and exits with the task\'s code', { timeout: 60_000 }, async () => {
  const r = await agora(['task', 'run', '--name', 'splitter', '--cpus', '1', '--mem', '64', '--master', master, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
  assert.equal(r.code, 3, `exit code of the task; stderr:\n${r.stderr}`);
  assert.equal(r.stdout, 'out\n');
  assert.match(r.stderr, /^err$/m);
  assert.match(r.stderr, /task splitter: TASK_RUNNING on agent-\S+/);
  assert.match(r.stderr, /task splitter: TASK_FAILED on agent-\S+/);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
});

test('task run --file ships a script that the command runs', { timeout: 60_000 }, async () => {
  const local = mkdtempSync(join(tmpdir(), 'agora-file-'));
  try {
    const script = join(local, 'hello.sh');
    writeFileSync(script, '#!/bin/sh\necho "hello from $1 in $AGORA_TASK_ID"\n', { mode: 0o755 });
    const r = await agora(['task', 'run', '--name', 'shipped', '--cpus', '0.5', '--mem', '32', '--master', master, '--file', script, '--', './hello.sh', 'the sandbox']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^hello from the sandbox in shipped\.\S+$/m);
    assert.match(r.stderr, /TASK_FINISHED/);
  } finally {
    rmSync(local, { recursive: true, force: true });
  }
});

test('task run --json prints JSON lines', { timeout: 60_000 }, async () => {
  const r = await agora(['task', 'run', '--json', '--name', 'js', '--cpus', '0.1', '--mem', '16', '--master', master, '--', 'echo', 'hi']);
  assert.equal(r.code, 0, r.stderr);
  const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; data?: string; code?: number; state?: string; taskId?: string });
  assert.equal(events.filter((e) => e.event === 'stdout').map((e) => e.data).join(''), 'hi\n');
  assert.deepEqual(events.at(-1), { event: 'exit', taskId: events.at(-1)?.taskId, state: 'TASK_FINISHED', code: 0 });
});

test('state, agents, frameworks and tasks read the cluster', { timeout: 60_000 }, async () => {
  const agents = await agora(['agents', '--json', '--master', master]);
  assert.equal(agents.code, 0, agents.stderr);
  const list = JSON.parse(agents.stdout) as { agentInfo: { address: string }; active: boolean }[];
  assert.equal(list.length, 1);
  assert.equal(list[0]?.active, true);

  const table = await agora(['agents', '--master', master]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /cpus:4/);

  const state = await agora(['state', '--master', master]);
  assert.equal(state.code, 0, state.stderr);
  assert.match(state.stdout, /1 active/);
  const stateJson = JSON.parse((await agora(['state', '--json', '--master', master])).stdout) as { masterInfo: { address: string } };
  assert.equal(stateJson.masterInfo.address, master);

  // The earlier runs' tasks completed; they show with --all.
  const tasks = await agora(['tasks', '--all', '--json', '--master', master]);
  assert.equal(tasks.code, 0, tasks.stderr);
  const t = JSON.parse(tasks.stdout) as { tasks: { name: string; state: string }[] };
  assert.ok(Array.isArray(t.tasks));
  const fws = await agora(['frameworks', '--master', master]);
  assert.equal(fws.code, 0, fws.stderr);
});

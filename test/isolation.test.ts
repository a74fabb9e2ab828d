// Isolation: tasks are held to their resources by cgroups —
// a task over its memory is OOM-killed and reported TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY,
// a cpus 0.5 task spinning on two cores gets about half a core, pids are capped, a sandbox over
// its disk quota is killed with REASON_CONTAINER_LIMITATION_DISK — and each task runs as an
// unprivileged user of its own, so it cannot read another task's sandbox.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FilesClient, TaskStatusReason } from '@agora/core';
import { startCluster, taskStateName, type TestCluster, type TaskStatus } from '@agora/sdk';
import { TestScheduler } from './helpers/scheduler.js';

const CGROUPS = existsSync('/sys/fs/cgroup/memory') && process.getuid?.() === 0;
const skip = !CGROUPS && 'needs root and cgroup v1 memory/cpu/pids controllers';

let cluster: TestCluster;
let sched: TestScheduler;
let frameworkId = '';

before(async () => {
  if (!CGROUPS) return;
  cluster = await startCluster({
    agents: 1,
    agentResources: 'cpus:4;mem:4096;disk:1000;ports:[31000-31100]',
    agent: { taskPidsMax: 40, diskWatchIntervalSeconds: 0.3 },
  });
  sched = new TestScheduler(cluster.masterAddress, 'isolation');
  frameworkId = await sched.driver.start();
});
after(async () => {
  await sched?.driver.stop();
  await cluster?.stop();
});

function last(taskId: string): TaskStatus {
  const l = sched.updates.get(taskId) ?? [];
  return l[l.length - 1]!;
}

/** The sandbox directory of a command task (its executor ID is its task ID). */
function sandboxOf(taskId: string): string {
  const base = join(cluster.workDir, 'agent-0', 'agents');
  for (const a of readdirSync(base)) {
    const runs = join(base, a, 'frameworks', frameworkId, 'executors', taskId, 'runs');
    if (existsSync(runs)) return join(runs, readdirSync(runs)[0]!);
  }
  throw new Error(`no sandbox for ${taskId}`);
}

async function readFile(taskId: string, path: string): Promise<string> {
  const files = new FilesClient(cluster.agents[0]!.address);
  try {
    const res = await files.read({ frameworkId: { value: frameworkId }, executorId: { value: taskId }, path });
    return Buffer.from(res.data).toString();
  } finally {
    files.close();
  }
}

async function waitForFile(taskId: string, path: string, re: RegExp): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const text = await readFile(taskId, path).catch(() => '');
    if (re.test(text)) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${taskId}/${path} never matched ${re}`);
}

test('a task over its memory limit is OOM-killed: TASK_FAILED with REASON_CONTAINER_LIMITATION_MEMORY', { skip }, async () => {
  sched.submit(
    { name: 'mem-hog', command: `python3 -c 'b = bytearray(300 * 1024 * 1024); print(len(b))'`, mem: 64 },
    { name: 'mem-fits', command: `python3 -c 'b = bytearray(10 * 1024 * 1024); print(len(b))'`, mem: 64 },
  );
  await sched.waitTerminal(['mem-hog', 'mem-fits'], 30_000);
  const hog = last('mem-hog');
  assert.equal(taskStateName(hog.state), 'TASK_FAILED');
  assert.equal(hog.reason, TaskStatusReason.REASON_CONTAINER_LIMITATION_MEMORY);
  assert.match(hog.message ?? '', /memory limit 64 MiB exceeded/);
  assert.equal(taskStateName(last('mem-fits').state), 'TASK_FINISHED', 'a task within its limit is untouched');
});

/** CPU seconds (user + system) a process used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

test('a cpus 0.5 task spinning on two cores is held near half a core', { skip }, async (t) => {
  const spin = `sh -c 'echo $$ >> spin.pids; while :; do :; done'`;
  sched.submit({ name: 'spinner', command: `${spin} & ${spin} & wait`, cpus: 0.5, killGracePeriodSeconds: 0 });
  await sched.waitUntil(() => sched.state('spinner') === 'TASK_RUNNING', 20_000, 'spinner running');
  const pids = (await waitForFile('spinner', 'spin.pids', /^\d+\n\d+\n/)).trim().split('\n').map(Number);
  // Both loops sit in a cpu cgroup whose CFS quota is half its period.
  for (const pid of pids) {
    const rel = /^\d+:cpu:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1] ?? '/';
    const dir = join('/sys/fs/cgroup/cpu', rel);
    assert.notEqual(rel, '/', `spinner ${pid} is in a cgroup of its own`);
    const ratio = Number(readFileSync(join(dir, 'cpu.cfs_quota_us'), 'utf8')) / Number(readFileSync(join(dir, 'cpu.cfs_period_us'), 'utf8'));
    assert.equal(ratio, 0.5, `cpu quota of ${dir}`);
  }
  // The peer: one unconfined busy loop over the same window tells how much CPU the (shared)
  // host had to give at all.
  const peer = spawn('/bin/sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
  try {
    await new Promise((r) => setTimeout(r, 500));
    const t0 = process.hrtime.bigint();
    const c0 = pids.reduce((s, p) => s + cpuSeconds(p), 0);
    const p0 = cpuSeconds(peer.pid!);
    await new Promise((r) => setTimeout(r, 3_000));
    const c1 = pids.reduce((s, p) => s + cpuSeconds(p), 0);
    const p1 = cpuSeconds(peer.pid!);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cores = (c1 - c0) / wall;
    const peerCores = (p1 - p0) / wall;
    // Two busy loops would take two cores unconfined; the quota holds them to 0.5 together.
    assert.ok(cores <= 0.65, `held to about half a core: used ${cores.toFixed(2)} cores (unconfined peer: ${peerCores.toFixed(2)})`);
    // When the host had a core to spare (the peer got one), the task got its half.
    if (peerCores >= 0.9) assert.ok(cores >= 0.35, `given about half a core: used ${cores.toFixed(2)} cores (unconfined peer: ${peerCores.toFixed(2)})`);
    else t.diagnostic(`host saturated (unconfined peer got ${peerCores.toFixed(2)} cores): task used ${cores.toFixed(2)}, only the ceiling is checked`);
  } finally {
    peer.kill('SIGKILL');
    sched.driver.kill('spinner');
    await sched.waitTerminal(['spinner'], 20_000);
  }
});

test('a task cannot have more processes than the agent allows (pids.max)', { skip }, async () => {
  sched.submit({ name: 'forker', command: 'i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); done; echo all 100 started' });
  await sched.waitTerminal(['forker'], 30_000);
  assert.equal(taskStateName(last('forker').state), 'TASK_FAILED');
  assert.doesNotMatch(await readFile('forker', 'stdout'), /all 100 started/);
  assert.match(await readFile('forker', 'stderr'), /fork/i, 'the shell could not fork past the limit');
});

test('a sandbox over its disk quota is killed: TASK_FAILED with REASON_CONTAINER_LIMITATION_DISK', { skip }, async () => {
  sched.submit(
    { name: 'disk-hog', command: 'head -c 20000000 /dev/zero > big; sleep 30', disk: 4 },
    { name: 'disk-fits', command: 'head -c 1000000 /dev/zero > small; sleep 1.5', disk: 8 },
  );
  await sched.waitTerminal(['disk-hog', 'disk-fits'], 30_000);
  const hog = last('disk-hog');
  assert.equal(taskStateName(hog.state), 'TASK_FAILED');
  assert.equal(hog.reason, TaskStatusReason.REASON_CONTAINER_LIMITATION_DISK);
  assert.match(hog.message ?? '', /disk quota 4 MiB exceeded/);
  assert.equal(taskStateName(last('disk-fits').state), 'TASK_FINISHED', 'a sandbox within its quota is untouched');
});

test('each task runs as its own unprivileged user and cannot read another task\'s sandbox', { skip }, async () => {
  sched.submit({ name: 'holder', command: 'id -u; echo holder-private-data; sleep 30', killGracePeriodSeconds: 0 });
  await sched.waitUntil(() => sched.state('holder') === 'TASK_RUNNING', 20_000, 'holder running');
  await waitForFile('holder', 'stdout', /holder-private-data/);
  const target = join(sandboxOf('holder'), 'stdout');
  const st = statSync(sandboxOf('holder'));
  assert.equal(st.mode & 0o777, 0o700, 'the sandbox is closed to everyone but its user');
  sched.submit({ name: 'snoop', command: `id -u; cat '${target}'; echo "cat exited $?"` });
  await sched.waitTerminal(['snoop'], 20_000);
  const holderUid = Number((await readFile('holder', 'stdout')).split('\n')[0]);
  const [snoopUid, ...rest] = (await readFile('snoop', 'stdout')).split('\n');
  assert.ok(holderUid >= 61000 && holderUid <= 61999, `holder runs as a dynamic user (uid ${holderUid})`);
  assert.ok(Number(snoopUid) >= 61000 && Number(snoopUid) !== holderUid, `snoop runs as another one (uid ${snoopUid})`);
  assert.equal(st.uid, holderUid, 'the sandbox belongs to its task\'s user');
  assert.doesNotMatch(rest.join('\n'), /holder-private-data/);
  assert.match(rest.join('\n'), /cat exited 1/);
  assert.match(await readFile('snoop', 'stderr'), /Permission denied/);
  sched.driver.kill('holder');
  await sched.waitTerminal(['holder'], 20_000);
});

test('a task may name an existing user; root is refused', { skip }, async () => {
  sched.submit({ name: 'as-nobody', command: 'id -un', user: 'nobody' }, { name: 'as-root', command: 'id -un', user: 'root' });
  await sched.waitTerminal(['as-nobody', 'as-root'], 20_000);
  assert.equal(taskStateName(last('as-nobody').state), 'TASK_FINISHED');
  assert.equal((await readFile('as-nobody', 'stdout')).trim(), 'nobody');
  const root = last('as-root');
  assert.equal(taskStateName(root.state), 'TASK_FAILED');
  assert.equal(root.reason, TaskStatusReason.REASON_CONTAINER_LAUNCH_FAILED);
  assert.match(root.message ?? '', /user 'root' is not allowed/);
});

/**
 * Launch-ahead keeps exactly-once. The cron framework (its own process) hands a run to the cron
 * executor seconds before its instant; the command must start at the instant, not before, and
 * exactly once whatever dies in between:
 *   - the framework is killed (-9) after the launch and before the instant: the executor still
 *     starts the run at the instant, and the restarted framework records it (no second run);
 *   - the executor is killed before the instant: the run never started, so it is launched
 *     again and runs once.
 * Each run appends "<instant> <start ms>" to a file, so a double run or an early one shows.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OperatorClient, resources as R } from '@agora/core';
import { startCluster } from '@agora/sdk';

const ROOT = new URL('..', import.meta.url).pathname;
// The built framework (as `agora local` runs it): its executor starts as plain node, quickly.
const MAIN = join(ROOT, 'frameworks/cron/dist/main.js');
const LEAD_MS = 3000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface RunView { id: string; state: string; scheduledAt: string; startedAt: string | null; attempt: number; jitterMs: number | null; message: string | null }

function startFramework(master: string, workDir: string): { child: ChildProcess; ready: Promise<string> } {
  const child = spawn(process.execPath, [MAIN, '--master', master, '--work-dir', workDir, '--port', '0', '--launch-ahead-ms', String(LEAD_MS)], {
    cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`framework did not start: ${out}`)), 30_000);
    const on = (d: Buffer): void => {
      out += d.toString();
      const m = /cron api listening on (\S+)\nframework /.exec(out);
      if (m) { clearTimeout(t); resolve(`http://${m[1]}`); }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.on('exit', (code) => reject(new Error(`framework exited (${code}): ${out}`)));
  });
  return { child, ready };
}

const killGroup = (c: ChildProcess): void => { try { process.kill(-c.pid!, 'SIGKILL'); } catch { /* gone */ } };

async function lines(file: string): Promise<string[]> {
  try { return (await readFile(file, 'utf8')).split('\n').filter(Boolean); } catch { return []; }
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function run(api: string, job: string, at: number): Promise<RunView | undefined> {
  const h = await (await fetch(`${api}/v1/jobs/${job}/history?limit=100`)).json() as RunView[];
  return h.find((r) => r.scheduledAt === new Date(at).toISOString());
}

/** Waits until the framework knows a cron executor is up (runs are launched ahead only onto those). */
async function executorReady(api: string): Promise<void> {
  await until('a ready cron executor', async () => /^agora_cron_ready_executors [1-9]/m.test(await (await fetch(`${api}/metrics`)).text()), 40_000);
}

async function addOnce(api: string, name: string, at: number, file: string): Promise<void> {
  const r = await fetch(`${api}/v1/jobs`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, command: `echo "$AGORA_CRON_SCHEDULED_AT $(date +%s%3N)" >> ${file}`, schedule: `R1/${new Date(at).toISOString()}/PT1H`, mem: 16 }),
  });
  assert.equal(r.status, 201, await r.text());
}

/**
 * Waits until the master has handed the run's task to the agent. 'launching' in the history
 * only says the run is on disk: the LAUNCH goes out after that, so killing the framework at
 * that moment may legitimately mean nothing was launched.
 */
async function launchedToAgent(master: string, runIdPrefix: string, deadlineMs: number): Promise<void> {
  const op = new OperatorClient(master);
  try {
    await until('the master handing the run to the agent', async () => (await op.getTasks({})).tasks.some((t) => t.taskId?.value?.startsWith(`${runIdPrefix}.`)), deadlineMs);
  } finally {
    op.close();
  }
}

/** PIDs of the cron executors of the agents under `workDir` (found by their environment). */
async function executorPids(workDir: string): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = (await readFile(`/proc/${name}/environ`, 'utf8')).split('\0');
      if (env.includes('AGORA_EXECUTOR_ID=agora-cron') && env.some((e) => e.startsWith(`AGORA_SANDBOX=${workDir}`))) out.push(Number(name));
    } catch { /* gone, or not ours */ }
  }
  return out;
}

test('launched ahead: neither a framework kill nor an executor kill before the instant loses or doubles the run', async () => {
  const cluster = await startCluster({ agents: 1 });
  const dir = await mkdtemp(join(tmpdir(), 'agora-cron-ahead-'));
  // Runs (unprivileged task users of their own) append to files here: writable by all, like /tmp.
  await chmod(dir, 0o1777);
  const procs: ChildProcess[] = [];
  try {
    const a = startFramework(cluster.masterAddress, join(dir, 'state'));
    procs.push(a.child);
    const api = await a.ready;
    await executorReady(api);
    // The executor holds resources of its own (it forks every run): the default 0.25 cpus, 128 MB.
    const op = new OperatorClient(cluster.masterAddress);
    const allocated = (await op.getAgents()).agents[0]?.allocatedResources ?? [];
    op.close();
    assert.ok(R.scalarOf(allocated, 'cpus') >= 0.25 && R.scalarOf(allocated, 'mem') >= 128, `allocated to the cron framework: ${R.formatResources(allocated)}`);

    // --- the framework dies between launch-ahead and the instant
    const t1 = Math.ceil((Date.now() + LEAD_MS + 4000) / 1000) * 1000;
    const f1 = join(dir, 'one');
    await addOnce(api, 'one', t1, f1);
    const launched = await until('the run launched ahead', async () => (await run(api, 'one', t1))?.state === 'launching', t1 - Date.now());
    assert.ok(launched, 'launched ahead of its instant');
    await launchedToAgent(cluster.masterAddress, `one@${new Date(t1).toISOString()}`, t1 - Date.now());
    await sleep(300); // let the LAUNCH reach the executor
    assert.ok(Date.now() < t1 - 200, 'still before the instant');
    killGroup(a.child);
    assert.deepEqual(await lines(f1), [], 'nothing ran before the instant');
    await sleep(t1 + 1500 - Date.now());
    const ran = await lines(f1);
    assert.equal(ran.length, 1, `the instant ran once while the framework was down: ${ran.join(' | ')}`);
    const startedMs = Number(ran[0]!.split(' ')[1]);
    assert.ok(startedMs >= t1, `started ${t1 - startedMs} ms before its instant`);

    const b = startFramework(cluster.masterAddress, join(dir, 'state'));
    procs.push(b.child);
    const api2 = await b.ready;
    // Reconciliation may report the outcome first; the executor's updates then say when it started.
    const rec = await until('the restarted framework records the run and its start', async () => { const r = await run(api2, 'one', t1); return r?.state === 'succeeded' && r.jitterMs !== null && r; });
    assert.equal(rec.attempt, 1);
    assert.ok(Date.parse(rec.startedAt!) >= t1 && rec.jitterMs !== null && rec.jitterMs >= 0, `run: ${JSON.stringify(rec)}`);

    // --- the executor dies between launch-ahead and the instant
    await executorReady(api2);
    const t2 = Math.ceil((Date.now() + LEAD_MS + 1500) / 1000) * 1000;
    const f2 = join(dir, 'two');
    await addOnce(api2, 'two', t2, f2);
    await until('run two launched ahead', async () => (await run(api2, 'two', t2))?.state === 'launching', t2 - Date.now());
    await launchedToAgent(cluster.masterAddress, `two@${new Date(t2).toISOString()}`, t2 - Date.now());
    await sleep(300); // let the LAUNCH reach the executor
    const pids = await executorPids(cluster.workDir);
    assert.ok(pids.length >= 1, 'a cron executor runs on the agent');
    assert.ok(Date.now() < t2 - 300, 'still before the instant');
    for (const p of pids) process.kill(p, 'SIGKILL');
    const two = await until('run two done', async () => { const r = await run(api2, 'two', t2); return r && ['succeeded', 'failed'].includes(r.state) && r; }, 30_000);
    assert.equal(two.state, 'succeeded', `run two: ${two.message}`);
    assert.equal(two.attempt, 1, 'relaunched as the same attempt (the first never started)');
    await sleep(1000);
    const ran2 = await lines(f2);
    assert.equal(ran2.length, 1, `the instant ran once after the executor died: ${ran2.join(' | ')}`);
    assert.ok(Number(ran2[0]!.split(' ')[1]) >= t2, 'not before its instant');
  } finally {
    for (const c of procs) killGroup(c);
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

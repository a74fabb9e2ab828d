/**
 * The cron executor's core with real processes: a run handed over ahead of its instant starts
 * at the instant and not before, reports its real start and exit code, and can be killed while
 * it waits or while it runs (its whole process group).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskState, type ExecutorStatusUpdate } from '@agora/sdk';
import { TimedRuns } from '../src/timed-runs.js';
import { NodeStarter, PosixSpawnStarter, type ProcessStarter } from '../src/launcher.js';
import { encodeRunSpec } from '../src/run-spec.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Seen extends ExecutorStatusUpdate { at: number }

type Kind = 'node' | 'posix_spawn';

async function withRuns(kind: Kind, fn: (runs: TimedRuns, seen: Seen[], dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'agora-timed-runs-'));
  const seen: Seen[] = [];
  let runs: TimedRuns | undefined;
  let starter: ProcessStarter | undefined = new NodeStarter();
  if (kind === 'posix_spawn') {
    starter = await PosixSpawnStarter.open((ids) => runs?.starterDied(ids));
    assert.ok(starter, 'the posix_spawn helper starts (python3 ≥ 3.8 is installed here)');
  }
  runs = new TimedRuns({ dir, report: (u) => seen.push({ ...u, at: Date.now() }), killGraceMs: 300, starter });
  try {
    await fn(runs, seen, dir);
  } finally {
    runs.killAllNow();
    starter?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function until<T>(what: string, fn: () => T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const spec = (startAt: number, command: string, env: Record<string, string> = {}): Uint8Array =>
  encodeRunSpec({ v: 1, run: 'job@x', startAt, command: { value: command, shell: true }, env });

for (const kind of ['node', 'posix_spawn'] as const) {
  test(`a run handed over ahead starts at its instant, not before, and reports the real start and exit code [${kind}]`, async () => {
    await withRuns(kind, async (runs, seen, dir) => {
      const out = join(dir, 'started');
      const at = Date.now() + 700;
      runs.launch('r1', spec(at, `date +%s%3N > ${out}; exit 4`));
      await sleep(300);
      assert.equal(seen.length, 0, 'nothing reported while it waits');
      assert.equal(runs.waitingCount, 1);
      const done = await until('r1 ended', () => seen.find((s) => s.state === TaskState.TASK_FAILED));
      const running = seen.find((s) => s.state === TaskState.TASK_RUNNING)!;
      assert.ok(running, 'TASK_RUNNING reported');
      assert.ok(running.at >= at, `TASK_RUNNING ${running.at - at} ms after the instant`);
      const started = Number((await readFile(out, 'utf8')).trim());
      assert.ok(started >= at, `the command ran ${at - started} ms before its instant`);
      assert.equal(done.exitCode, 4);
      assert.match(done.message ?? '', /code 4/);
    });
  });

  test(`runs due at one instant all start; a past instant starts at once; env reaches the command [${kind}]`, async () => {
    await withRuns(kind, async (runs, seen, dir) => {
      const at = Date.now() + 300;
      for (let i = 0; i < 5; i++) runs.launch(`g${i}`, spec(at, `echo "$CRON_X" > ${join(dir, `g${i}.out`)}`, { CRON_X: `v${i}` }));
      runs.launch('late', spec(Date.now() - 5000, 'true'));
      await until('6 finished', () => seen.filter((s) => s.state === TaskState.TASK_FINISHED).length === 6);
      for (let i = 0; i < 5; i++) {
        assert.equal((await readFile(join(dir, `g${i}.out`), 'utf8')).trim(), `v${i}`);
        assert.ok(seen.find((s) => s.taskId === `g${i}` && s.state === TaskState.TASK_RUNNING)!.at >= at);
      }
    });
  });

  test(`a kill before the instant means it never starts; a kill while running ends the whole group [${kind}]`, async () => {
    await withRuns(kind, async (runs, seen, dir) => {
      const marker = join(dir, 'ran');
      runs.launch('w', spec(Date.now() + 600, `touch ${marker}`));
      runs.kill('w');
      assert.equal(seen.at(-1)?.state, TaskState.TASK_KILLED);
      await sleep(900);
      await assert.rejects(readFile(marker), 'the killed run did not start');

      // A shell with a background child: the kill reaches both (one process group).
      const pidFile = join(dir, 'child.pid');
      runs.launch('k', spec(0, `sleep 30 & echo $! > ${pidFile}; wait`));
      await until('k running', () => seen.find((s) => s.taskId === 'k' && s.state === TaskState.TASK_RUNNING));
      const childPid = Number((await until('child pid', () => { try { return textOf(pidFile); } catch { return undefined; } })).trim());
      runs.kill('k');
      const end = await until('k killed', () => seen.find((s) => s.taskId === 'k' && s.state === TaskState.TASK_KILLED));
      assert.ok((end.exitCode ?? 0) >= 128, `exit code of a signalled shell: ${end.exitCode}`);
      await until('the grandchild is gone', () => !alive(childPid), 3000);
    });
  });

  test(`bad task data fails that task with a message naming the field [${kind}]`, async () => {
    await withRuns(kind, async (runs, seen) => {
      runs.launch('bad', Buffer.from(JSON.stringify({ v: 1, run: 'x', startAt: -1, command: { value: 'true', shell: true }, env: {} })));
      runs.launch('junk', Buffer.from('not json'));
      assert.equal(seen.length, 2);
      assert.ok(seen.every((s) => s.state === TaskState.TASK_FAILED));
      assert.match(seen[0]!.message ?? '', /startAt/);
      assert.match(seen[1]!.message ?? '', /not JSON/);
    });
  });

  /** The file's text once it has some. */
  function textOf(file: string): string | undefined {
    const s = readFileSync(file, 'utf8');
    return s.trim() ? s : undefined;
  }
  /** A zombie counts as dead (nothing here reaps the orphaned grandchild). */
  function alive(pid: number): boolean {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return !/\) Z /.test(stat);
    } catch {
      return false;
    }
  }

  test(`a program that does not exist fails its run with exit code 127 and a message [${kind}]`, async () => {
    await withRuns(kind, async (runs, seen) => {
      runs.launch('nope', encodeRunSpec({ v: 1, run: 'job@x', startAt: 0, command: { value: '/no/such/program', shell: false, arguments: ['prog', 'a'] }, env: {} }));
      const failed = await until('the run failed', () => seen.find((x) => x.state === TaskState.TASK_FAILED));
      assert.equal(failed.exitCode, 127);
      assert.match(failed.message ?? '', /\/no\/such\/program/);
      assert.equal(seen.some((x) => x.state === TaskState.TASK_RUNNING), false, 'never reported running');
    });
  });

  test(`a run that cannot be started (a NUL byte in its env) fails alone; a bare program name is found in the run's PATH [${kind}]`, async () => {
    await withRuns(kind, async (runs, seen, dir) => {
      const kindBefore = runs.starterKind;
      runs.launch('bad', encodeRunSpec({ v: 1, run: 'job@x', startAt: 0, command: { value: 'true', shell: true }, env: { X: 'a\u0000b' } }));
      await until('the bad run failed', () => seen.find((x) => x.taskId === 'bad' && x.state === TaskState.TASK_FAILED));
      assert.equal(runs.starterKind, kindBefore, 'the starter survived it');
      const bin = join(dir, 'bin');
      mkdirSync(bin);
      writeFileSync(join(bin, 'agora-test-tool'), '#!/bin/sh\necho tool-ran > "$1"\n', { mode: 0o755 });
      const out = join(dir, 'tool.out');
      runs.launch('tool', encodeRunSpec({ v: 1, run: 'job@x', startAt: 0, command: { value: 'agora-test-tool', shell: false, arguments: ['agora-test-tool', out] }, env: { PATH: `${bin}:/usr/bin:/bin` } }));
      const done = await until('the tool run ended', () => seen.find((x) => x.taskId === 'tool' && x.state !== TaskState.TASK_RUNNING));
      assert.equal(done.state, TaskState.TASK_FINISHED, done.message ?? '');
      assert.equal(readFileSync(out, 'utf8').trim(), 'tool-ran');
    });
  });
}

test('the posix_spawn helper dying: its running runs are killed and failed, later runs start with Node', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agora-timed-runs-'));
  const seen: Seen[] = [];
  let runs: TimedRuns | undefined;
  const helper = await PosixSpawnStarter.open((ids) => runs?.starterDied(ids));
  assert.ok(helper);
  runs = new TimedRuns({ dir, report: (u) => seen.push({ ...u, at: Date.now() }), killGraceMs: 300, starter: helper });
  try {
    runs.launch('long', spec(0, `echo $$ > ${join(dir, 'long.pid')}; exec sleep 60`));
    await until('long running', () => seen.find((x) => x.taskId === 'long' && x.state === TaskState.TASK_RUNNING));
    const pid = Number(await until('its pid file', () => { try { return readFileSync(join(dir, 'long.pid'), 'utf8').trim(); } catch { return undefined; } }));
    assert.equal(runs.starterKind, 'posix_spawn');
    (helper as unknown as { child: { kill(sig: string): void } }).child.kill('SIGKILL');
    const failed = await until('long failed', () => seen.find((x) => x.taskId === 'long' && x.state === TaskState.TASK_FAILED));
    assert.match(failed.message ?? '', /process starter died/);
    await until('its process killed', () => { try { process.kill(pid, 0); return false; } catch { return true; } });
    assert.equal(runs.starterKind, 'node');
    runs.launch('after', spec(0, 'exit 0'));
    await until('a later run finished', () => seen.find((x) => x.taskId === 'after' && x.state === TaskState.TASK_FINISHED));
  } finally {
    runs.killAllNow();
    await rm(dir, { recursive: true, force: true });
  }
});

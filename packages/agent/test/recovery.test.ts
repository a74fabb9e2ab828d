import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FakeClock, TaskState, agora, newUuidBytes, silentLogger, uuidHex, type TaskStatus } from '@agora/core';
import { startAgent } from '@agora/agent';
import { CheckpointLog, loadJournal } from '../src/checkpoint-log.js';
import { replay, type CheckpointRecord } from '../src/checkpoint.js';
import { parseProcStat, processFate, readProcStat } from '../src/proc-stat.js';
import { ProcessWatcher, readExitFile } from '../src/recovery.js';
import { FakeMaster, commandTask } from './fake-master.js';
import { alive, sleep, tempDir } from './helpers.js';

const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');

test('proc stat: fields counted from the last ")" (names may hold spaces and parens); zombies are dead; pid reuse is told apart', () => {
  const line = '4242 (a) (weird name) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10 18446744073709551615 0\n';
  assert.deepEqual(parseProcStat(line), { state: 'S', startTime: 987654, pgrp: 4242 });
  assert.equal(parseProcStat('garbage'), undefined);
  const stat = (s: string, start: number) => () => ({ state: s, startTime: start, pgrp: 1 });
  assert.equal(processFate(7, 100, stat('S', 100)), 'alive');
  assert.equal(processFate(7, 100, stat('Z', 100)), 'exited', 'a zombie nobody reaps has exited');
  assert.equal(processFate(7, 100, stat('R', 555)), 'reused', 'same pid, other start time: someone else');
  assert.equal(processFate(7, 100, () => undefined), 'exited');
  const me = readProcStat(process.pid);
  assert.ok(me && me.startTime > 0);
  assert.equal(processFate(process.pid, me.startTime), 'alive');
  assert.equal(processFate(process.pid, me.startTime + 1), 'reused');
});

test('journal: a torn last line and a damaged line are skipped; the rest loads', () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'j.jsonl');
    writeFileSync(file, '{"t":"a"}\nnot json\n{"t":"b"}\n{"t":"c","x":');
    const { records, skipped } = loadJournal<{ t: string }>(file);
    assert.deepEqual(records.map((r) => r.t), ['a', 'b']);
    assert.equal(skipped, 2);
    assert.deepEqual(loadJournal(path.join(dir, 'missing')), { records: [], skipped: 0 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('journal: one turn of appends is one batch; compaction rewrites the file atomically from the snapshot', async () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, 'meta', 'j.jsonl');
    let state: Array<{ n: number }> = [{ n: -1 }];
    const log = new CheckpointLog<{ n: number }>(file, { snapshot: () => state, compactAfter: 250 });
    await log.open();
    assert.deepEqual(loadJournal(file).records, [{ n: -1 }], 'open() starts from the snapshot');
    const promises = Array.from({ length: 100 }, (_, n) => log.append({ n }));
    assert.equal(new Set(promises).size, 1, 'every append of the turn shares one durable write');
    await Promise.all(promises);
    assert.equal(loadJournal(file).records.length, 101);
    // Past compactAfter the next batch is replaced by a snapshot of the state.
    state = [{ n: 1000 }];
    for (let n = 0; n < 200; n++) void log.append({ n });
    await log.flush();
    assert.deepEqual(loadJournal(file).records, [{ n: 1000 }]);
    await log.append({ n: 1001 });
    await log.close();
    assert.deepEqual(loadJournal(file).records, [{ n: 1000 }, { n: 1001 }]);
    void log.append({ n: 5 });
    assert.equal(loadJournal(file).records.length, 2, 'closed: appends are ignored');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replay: tasks, processes, kills and pending updates in order; acks and removals apply', () => {
  const st = (taskId: string, state: TaskState): TaskStatus => ({ taskId: { value: taskId }, state, uuid: newUuidBytes() });
  const s1 = st('t1', TaskState.TASK_STARTING);
  const s2 = st('t1', TaskState.TASK_RUNNING);
  const s3 = st('t2', TaskState.TASK_STARTING);
  const enc = (s: TaskStatus) => b64(agora.v1.TaskStatus.encode(s).finish());
  const info = (id: string) => b64(agora.v1.TaskInfo.encode({ taskId: { value: id }, name: id, command: { value: 'sleep 1' } }).finish());
  const records: CheckpointRecord[] = [
    { t: 'fw', id: 'fw', info: b64(agora.v1.FrameworkInfo.encode({ id: { value: 'fw' }, name: 'f' }).finish()) },
    { t: 'task', fw: 'fw', id: 't1', ex: 't1', run: 'r1', kind: 'command', sandbox: '/s1', info: info('t1'), at: 1 },
    { t: 'upd', fw: 'fw', s: enc(s1) },
    { t: 'proc', fw: 'fw', task: 't1', pid: 11, start: 22, exit: '/e1' },
    { t: 'upd', fw: 'fw', s: enc(s2) },
    { t: 'task', fw: 'fw', id: 't2', ex: 't2', run: 'r2', kind: 'command', sandbox: '/s2', info: info('t2'), at: 2 },
    { t: 'upd', fw: 'fw', s: enc(s3) },
    { t: 'ack', fw: 'fw', task: 't1', uuid: uuidHex(s1.uuid) },
    { t: 'kill', fw: 'fw', task: 't1', graceMs: 500 },
    { t: 'rmt', fw: 'fw', task: 't2' },
    { t: 'nonsense' } as unknown as CheckpointRecord,
    { t: 'upd', fw: 'fw', s: '%%%' },
  ];
  const rs = replay(records);
  assert.equal(rs.frameworks.get('fw')?.name, 'f');
  const t1 = rs.tasks.get('fw\u0000t1')!;
  assert.equal(t1.state, TaskState.TASK_RUNNING);
  assert.deepEqual(t1.procId, { pid: 11, startTime: 22, exitFile: '/e1' });
  assert.equal(t1.killGraceMs, 500);
  assert.equal(t1.info.command?.value, 'sleep 1');
  assert.equal(rs.tasks.has('fw\u0000t2'), false, 'removed');
  assert.deepEqual(rs.updates.map((u) => uuidHex(u.status.uuid)), [uuidHex(s2.uuid), uuidHex(s3.uuid)], 'acked one gone, order kept');
});

test('exit files and the process watcher: a re-attached process reports the code its wrapper wrote', async () => {
  const dir = tempDir();
  try {
    const f = path.join(dir, 'exit');
    assert.equal(readExitFile(f), undefined);
    writeFileSync(f, '7\n');
    assert.equal(readExitFile(f), 7);
    writeFileSync(f, '');
    assert.equal(readExitFile(f), undefined, 'a half-written file is no exit code');
    writeFileSync(f, '143\n');
    const clock = new FakeClock(0);
    let state = 'S';
    const w = new ProcessWatcher(clock, 100, () => ({ state, startTime: 5, pgrp: 1 }));
    const proc = w.watch({ pid: 999_999, startTime: 5, exitFile: f });
    clock.advance(100);
    assert.equal(w.size, 1);
    state = 'Z';
    clock.advance(100);
    assert.deepEqual(await proc.exited, { code: 143, signal: null });
    assert.equal(w.size, 0);
    w.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 of an agent process: the restarted agent re-attaches, reports real exits and re-sends pending updates in order', async () => {
  const master = await new FakeMaster().start();
  const workDir = tempDir();
  const fixture = new URL('./fixtures/agent-process.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, master.address, workDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let again: Awaited<ReturnType<typeof startAgent>> | undefined;
  try {
    await master.waitFor('child agent registered', () => master.registrations.length >= 1, 20_000);
    master.run(commandTask('long', 'sleep 60'));
    master.run(commandTask('seven', 'sleep 0.7; exit 7'));
    master.run(commandTask('zero', 'sleep 0.7'));
    await master.waitFor('all running', () => ['long', 'seven', 'zero'].every((t) => master.states(t).includes('RUNNING')), 10_000);
    master.autoAck = false;
    master.run(commandTask('unacked', 'exit 4'));
    await master.waitState('unacked', TaskState.TASK_FAILED, 10_000);
    const unackedUuids = [...new Set(master.uuidsOf('unacked'))];
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await sleep(1200);
    const pidOf = (): number => {
      const lines = readFileSync(path.join(workDir, 'meta', 'checkpoint.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as CheckpointRecord);
      return (lines.find((r) => r.t === 'proc' && r.task === 'long') as { pid: number }).pid;
    };
    const longPid = pidOf();
    assert.ok(alive(longPid), 'the task outlived its agent');

    master.autoAck = true;
    const regs = master.registrations.length;
    const from = master.updates.length;
    again = await startAgent({ master: master.address, workDir, port: 0, resources: 'cpus:4;mem:1024;disk:100', logger: silentLogger() });
    const reg = master.registrations[regs]!;
    const reported = new Map(reg.tasks!.map((t) => [t.taskId!.value, t.state]));
    assert.equal(reported.get('long'), TaskState.TASK_RUNNING, 'the running task is reported');
    assert.equal(reported.get('unacked'), TaskState.TASK_FAILED, 'a terminal task with unacknowledged updates is reported');
    const seven = await master.waitState('seven', TaskState.TASK_FAILED, 5_000);
    assert.equal(seven.exitCode, 7);
    assert.equal((await master.waitState('zero', TaskState.TASK_FINISHED, 5_000)).exitCode, 0);
    await master.waitFor('unacked re-sent', () => master.updates.slice(from).filter((u) => u.status.taskId?.value === 'unacked').length >= unackedUuids.length, 5_000);
    assert.deepEqual(master.updates.slice(from).filter((u) => u.status.taskId?.value === 'unacked').slice(0, unackedUuids.length).map((u) => uuidHex(u.status.uuid)), unackedUuids, 'the same updates, oldest first');

    master.kill('long', 1);
    const killed = await master.waitState('long', TaskState.TASK_KILLED, 5_000);
    assert.match(killed.message ?? '', /killed/);
    await master.waitFor('long gone', () => !alive(longPid) || readProcStat(longPid)?.state === 'Z', 5_000);
  } finally {
    child.kill('SIGKILL');
    await again?.stop();
    await master.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
});

test('pid reuse: a checkpointed pid that now names another process is never signalled', async () => {
  const master = await new FakeMaster().start();
  const workDir = tempDir();
  try {
    // A journal whose task 'ghost' ran as pid = this test process, but with another start time:
    // the pid was reused. Recovery must report the task ended and leave this process alone.
    const me = readProcStat(process.pid)!;
    const info = b64(agora.v1.TaskInfo.encode({ taskId: { value: 'ghost' }, name: 'ghost', command: { value: 'sleep 1' } }).finish());
    const running: TaskStatus = { taskId: { value: 'ghost' }, state: TaskState.TASK_RUNNING, uuid: newUuidBytes() };
    const records: CheckpointRecord[] = [
      { t: 'fw', id: 'fw-1', info: b64(agora.v1.FrameworkInfo.encode({ id: { value: 'fw-1' }, name: 'f' }).finish()) },
      { t: 'task', fw: 'fw-1', id: 'ghost', ex: 'ghost', run: 'r', kind: 'command', sandbox: workDir, info, at: 1 },
      { t: 'proc', fw: 'fw-1', task: 'ghost', pid: process.pid, start: me.startTime - 1, exit: path.join(workDir, 'no-exit-file') },
      { t: 'upd', fw: 'fw-1', s: b64(agora.v1.TaskStatus.encode(running).finish()) },
    ];
    mkdirSync(path.join(workDir, 'meta'), { recursive: true });
    appendFileSync(path.join(workDir, 'meta', 'checkpoint.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const agent = await startAgent({ master: master.address, workDir, port: 0, resources: 'cpus:1;mem:64;disk:10', logger: silentLogger() });
    try {
      const failed = await master.waitState('ghost', TaskState.TASK_FAILED, 5_000);
      assert.match(failed.message ?? '', /could not be recovered/);
      assert.deepEqual(master.states('ghost'), ['RUNNING', 'FAILED'], 'the pending RUNNING first, then the verdict');
    } finally {
      await agent.stop();
    }
  } finally {
    await master.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, TaskState, newUuidBytes, silentLogger, uuidHex, type TaskStatus } from '@agora/core';
import { StatusUpdateManager } from '../src/status-updates.js';

function setup() {
  const clock = new FakeClock();
  const sent: string[] = [];
  const drained: string[] = [];
  const m = new StatusUpdateManager({
    clock, logger: silentLogger(), retryMs: 1000, retryMaxMs: 4000,
    send: (_f, s) => sent.push(`${s.taskId?.value}:${TaskState[s.state ?? 0]}`),
    drained: (_f, t) => drained.push(t),
  });
  const st = (taskId: string, state: TaskState): TaskStatus => ({ taskId: { value: taskId }, state, uuid: newUuidBytes() });
  return { clock, sent, drained, m, st };
}

test('updates are pipelined in order and retried with doubling backoff until acknowledged', () => {
  const { clock, sent, drained, m, st } = setup();
  m.setConnected(true);
  const a = st('t1', TaskState.TASK_STARTING);
  const b = st('t1', TaskState.TASK_RUNNING);
  m.update('f', a);
  m.update('f', b);
  assert.deepEqual(sent, ['t1:TASK_STARTING', 't1:TASK_RUNNING']);
  clock.advance(1000);
  assert.deepEqual(sent.slice(2), ['t1:TASK_STARTING', 't1:TASK_RUNNING'], 'resent oldest first');
  clock.advance(1999);
  assert.equal(sent.length, 4, 'backoff doubled to 2 s');
  clock.advance(1);
  assert.equal(sent.length, 6);
  clock.advance(4000);
  clock.advance(4000);
  assert.equal(sent.length, 10, 'capped at retryMaxMs');
  assert.equal(m.acknowledge('f', 't1', a.uuid), true);
  assert.equal(m.acknowledge('f', 't1', a.uuid), false, 'a second ack is a no-op');
  assert.deepEqual(m.pending('f', 't1').map((s) => uuidHex(s.uuid)), [uuidHex(b.uuid)]);
  m.acknowledge('f', 't1', b.uuid);
  assert.deepEqual(drained, ['t1']);
  const before = sent.length;
  clock.advance(60_000);
  assert.equal(sent.length, before, 'nothing is retried after the ack');
  assert.equal(m.size, 0);
});

test('nothing is sent while disconnected; reconnecting re-sends everything pending in order', () => {
  const { clock, sent, m, st } = setup();
  m.update('f', st('t1', TaskState.TASK_STARTING));
  m.update('f', st('t2', TaskState.TASK_STARTING));
  m.update('f', st('t1', TaskState.TASK_RUNNING));
  clock.advance(10_000);
  assert.deepEqual(sent, []);
  m.setConnected(true);
  assert.deepEqual(sent, ['t1:TASK_STARTING', 't1:TASK_RUNNING', 't2:TASK_STARTING']);
  m.setConnected(false);
  clock.advance(10_000);
  assert.equal(sent.length, 3);
  assert.equal(m.snapshot().length, 2);
});

test('a duplicate uuid (an executor re-sending) is queued once', () => {
  const { m, st } = setup();
  const a = st('t1', TaskState.TASK_RUNNING);
  assert.equal(m.update('f', a), true);
  assert.equal(m.update('f', { ...a }), false);
  assert.equal(m.size, 1);
});

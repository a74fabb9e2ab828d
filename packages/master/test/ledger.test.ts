import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { resources, TaskState, type Resource } from '@agora/core';
import { Ledger } from '../src/ledger.js';
import { TaskTable, type TaskRecord } from '../src/tasks.js';

const R = resources.parseResources;

function rec(n: number, res: Resource[], agentId = 'a1'): TaskRecord {
  return {
    key: TaskTable.key('fw', `t${n}`), frameworkId: 'fw', taskId: `t${n}`, agentId, executorId: `t${n}`, executorKey: undefined,
    resources: res, state: TaskState.TASK_RUNNING, latest: undefined, task: { taskId: { value: `t${n}` }, state: TaskState.TASK_RUNNING },
  };
}

test('property: take/give through tasks keeps available + used = total and never goes negative', () => {
  fc.assert(fc.property(fc.array(fc.record({ launch: fc.boolean(), cpus: fc.integer({ min: 1, max: 30 }).map((x) => x / 10), port: fc.integer({ min: 0, max: 9 }) }), { maxLength: 60 }), (steps) => {
    const total = R('cpus:4;mem:1024;ports:[31000-31009]');
    const ledger = new Ledger();
    const tasks = new TaskTable(100);
    ledger.reset('a1', total, []);
    ledger.setActive('a1', true);
    const live: TaskRecord[] = [];
    let n = 0;
    for (const s of steps) {
      if (s.launch) {
        const want = R(`cpus:${s.cpus};mem:10;ports:[${31000 + s.port}-${31000 + s.port}]`);
        const fits = resources.contains(ledger.get('a1')!.available, want);
        assert.equal(ledger.take('a1', want), fits);
        if (fits) {
          const r = rec(++n, want);
          tasks.add(r);
          live.push(r);
        }
      } else if (live.length) {
        const r = live.shift()!;
        ledger.give('a1', tasks.remove(r).resources);
        // Removing twice releases nothing the second time (this is what prevents double release).
        assert.deepEqual(tasks.remove(r), { resources: [] });
      }
      const used = resources.sum(tasks.ofAgent('a1').map((t) => t.resources));
      const avail = ledger.get('a1')!.available;
      assert.ok(resources.contains(total, avail), 'available within total');
      assert.equal(resources.scalarOf(avail, 'cpus') + resources.scalarOf(used, 'cpus') <= 4 + 1e-9, true);
      assert.ok(resources.contains(total, resources.add(avail, used)), 'no port both free and used');
    }
    assert.deepEqual(ledger.totals.get('cpus'), 4);
  }), { numRuns: 200 });
});

test('inactive agents leave the totals and the offerable set', () => {
  const ledger = new Ledger();
  ledger.reset('a1', R('cpus:2;mem:64'), []);
  assert.equal(ledger.offerable.has('a1'), false);
  ledger.setActive('a1', true);
  assert.equal(ledger.offerable.has('a1'), true);
  assert.equal(ledger.totals.get('cpus'), 2);
  assert.ok(ledger.take('a1', R('cpus:2;mem:64')));
  assert.equal(ledger.offerable.has('a1'), false, 'nothing left worth offering');
  ledger.give('a1', R('cpus:1'));
  assert.equal(ledger.offerable.has('a1'), true);
  // A stray double release is clipped at the total rather than minting resources.
  ledger.give('a1', R('cpus:5;mem:640'));
  assert.equal(resources.scalarOf(ledger.get('a1')!.available, 'cpus'), 2);
  ledger.setActive('a1', false);
  assert.equal(ledger.offerable.has('a1'), false);
  assert.equal(ledger.totals.size, 0);
});

test('completed tasks are bounded, oldest first, and executors hold their resources until reported gone', () => {
  const t = new TaskTable(3);
  for (let i = 1; i <= 5; i++) {
    const r = rec(i, R('cpus:1'));
    t.add(r);
    t.remove(r);
  }
  assert.deepEqual([...t.allCompleted()].map((x) => x.taskId?.value).sort(), ['t3', 't4', 't5']);
  assert.equal(t.getCompleted('fw', 't1'), undefined);
  const exKey = TaskTable.executorKey('a1', 'fw', 'ex');
  const a = { ...rec(10, R('cpus:1')), executorKey: exKey };
  const b = { ...rec(11, R('cpus:1')), key: TaskTable.key('fw', 't11'), executorKey: exKey };
  assert.equal(resources.scalarOf(t.add(a, R('cpus:0.5')), 'cpus'), 0.5);
  assert.deepEqual(t.add(b, R('cpus:0.5')), [], 'a running executor is not charged twice');
  assert.deepEqual(t.executorIdsOn('a1', 'fw'), ['ex']);
  assert.equal(resources.scalarOf(t.remove(a).resources, 'cpus'), 1);
  assert.equal(resources.scalarOf(t.remove(b).resources, 'cpus'), 1, 'an idle executor still runs: it keeps its own');
  assert.deepEqual(t.executorIdsOn('a1', 'fw'), ['ex']);
  assert.equal(resources.scalarOf(t.usedOn('a1'), 'cpus'), 0.5);
  const c = { ...rec(12, R('cpus:1')), key: TaskTable.key('fw', 't12'), executorKey: exKey };
  assert.deepEqual(t.add(c, R('cpus:0.5')), [], 'a task on the idle executor is not charged for it again');
  assert.equal(t.executorExited('a1', exKey), undefined, 'gone with a task still live here: freed with that task');
  const last = t.remove(c);
  assert.equal(resources.scalarOf(last.resources, 'cpus'), 1.5);
  assert.equal(resources.scalarOf(last.executor?.resources ?? [], 'cpus'), 0.5, 'the executor is named, to uncharge its framework');
  assert.deepEqual(t.executorIdsOn('a1', 'fw'), []);
  // Idle and reported gone: freed at once; a second report frees nothing.
  const d = { ...rec(13, R('cpus:1')), key: TaskTable.key('fw', 't13'), executorKey: exKey };
  t.add(d, R('cpus:0.5'), 'web');
  t.remove(d);
  assert.deepEqual(t.executorExited('a1', exKey), { frameworkId: 'fw', resources: R('cpus:0.5'), role: 'web' });
  assert.equal(t.executorExited('a1', exKey), undefined);
  assert.deepEqual(t.usedOn('a1'), []);
  // A re-registration drops the records and gets them back with their charge (role) kept.
  const e = { ...rec(14, R('cpus:1')), key: TaskTable.key('fw', 't14'), executorKey: exKey };
  t.add(e, R('cpus:0.5'), 'web');
  const dropped = t.dropExecutorsOf('a1');
  assert.deepEqual(dropped.get(exKey), { frameworkId: 'fw', resources: R('cpus:0.5'), role: 'web' });
  assert.deepEqual(t.executorIdsOn('a1', 'fw'), []);
  t.restoreExecutor('a1', exKey, 'fw', dropped.get(exKey)!.resources, dropped.get(exKey)!.role);
  assert.deepEqual(t.executorExited('a1', exKey), { frameworkId: 'fw', resources: R('cpus:0.5'), role: 'web' });
});

test('completed tasks keep small status data but drop bulky payloads already delivered', () => {
  const t = new TaskTable(10);
  const big = rec(1, R('cpus:1'));
  big.task.statuses = [{ taskId: { value: 't1' }, state: TaskState.TASK_FINISHED, data: new Uint8Array(1 << 20) }];
  const small = rec(2, R('cpus:1'));
  small.task.statuses = [{ taskId: { value: 't2' }, state: TaskState.TASK_FINISHED, data: new Uint8Array([1, 2, 3]) }];
  for (const r of [big, small]) { t.add(r); t.remove(r); }
  assert.equal(t.getCompleted('fw', 't1')?.statuses?.[0]?.data, undefined);
  assert.equal(t.getCompleted('fw', 't1')?.statuses?.[0]?.state, TaskState.TASK_FINISHED);
  assert.deepEqual([...(t.getCompleted('fw', 't2')?.statuses?.[0]?.data ?? [])], [1, 2, 3]);
});

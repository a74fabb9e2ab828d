// Preemption: with preemption on, a framework arriving on a full cluster gets
// its share within the grace period plus one allocation cycle; the victim first sees an inverse
// offer, then TASK_KILLED with REASON_CONTAINER_PREEMPTED. With preemption off nothing is ever
// killed for allocation. Real master and agent processes in-process via startCluster.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState, TaskStatusReason, EventType } from '@agora/core';
import { startCluster, type TestCluster } from '@agora/sdk';
import { TestScheduler } from '../packages/master/test/helpers.js';

const GRACE_S = 1;
const CYCLE_MS = 200;
const clusters: TestCluster[] = [];
const scheds: TestScheduler[] = [];
after(async () => {
  for (const s of scheds) s.close();
  await Promise.all(clusters.map((c) => c.stop()));
});

const task = (id: string, agentId: string) => ({
  name: id, taskId: { value: id }, agentId: { value: agentId }, command: { value: 'sleep 120' },
  resources: [{ name: 'cpus', type: 1, scalar: { value: 1 } }, { name: 'mem', type: 1, scalar: { value: 512 } }],
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function fullCluster(preemption: 'on' | 'off'): Promise<{ batch: TestScheduler; cluster: TestCluster }> {
  const cluster = await startCluster({
    agents: 2, agentResources: 'cpus:2;mem:1024;disk:1000;ports:[31000-31010]',
    master: { preemption, preemptionGraceSeconds: GRACE_S, allocationIntervalMs: CYCLE_MS },
  });
  clusters.push(cluster);
  const batch = new TestScheduler(cluster.masterAddress);
  scheds.push(batch);
  await batch.subscribe({ name: 'batch', roles: ['batch'], priority: 0 });
  // Fill both agents: two 1-cpu / 512 MiB tasks each, nothing left over.
  let launched = 0;
  while (launched < 4) {
    for (const o of await batch.offers()) {
      const agentId = o.agentId?.value ?? '';
      batch.launch([o.id?.value ?? ''], [task(`b-${launched}`, agentId), task(`b-${launched + 1}`, agentId)]);
      launched += 2;
    }
  }
  for (let i = 0; i < 4; i++) await batch.update((s) => s.taskId?.value === `b-${i}` && s.state === TaskState.TASK_RUNNING);
  return { batch, cluster };
}

describe('preemption', () => {
  test('on: the newcomer gets its fair share within grace + one cycle; victims see an inverse offer, then TASK_KILLED/PREEMPTED', async () => {
    const { batch, cluster } = await fullCluster('on');
    const prod = new TestScheduler(cluster.masterAddress);
    scheds.push(prod);
    const t0 = Date.now();
    await prod.subscribe({ name: 'prod', roles: ['prod'], priority: 10 });
    // Two inverse offers (half the cluster is prod's fair share), each before its kill.
    const inverse = await batch.take('INVERSE_OFFERS', (e) => e.type === EventType.INVERSE_OFFERS);
    const io = inverse.inverseOffers?.inverseOffers?.[0];
    assert.ok(io && (io.deadline ?? 0) * 1000 > Date.now() - 100, 'the inverse offer names a deadline in the future');
    const killed = await batch.update((s) => s.state === TaskState.TASK_KILLED);
    const firstId = killed.taskId?.value;
    assert.equal(killed.reason, TaskStatusReason.REASON_CONTAINER_PREEMPTED);
    assert.match(killed.message ?? '', /preempted/);
    // The youngest tasks go first: b-2/b-3 (or b-0/b-1) were launched in pairs; either way two die.
    const second = await batch.update((s) => s.state === TaskState.TASK_KILLED && s.taskId?.value !== firstId);
    assert.equal(second.reason, TaskStatusReason.REASON_CONTAINER_PREEMPTED);
    // prod takes what was freed.
    let running = 0;
    while (running < 2) {
      for (const o of await prod.offers()) {
        const cpus = (o.resources ?? []).filter((r) => r.name === 'cpus').reduce((s, r) => s + (r.scalar?.value ?? 0), 0);
        const ids = Array.from({ length: Math.floor(cpus) }, (_, i) => `p-${running + i}`);
        prod.launch([o.id?.value ?? ''], ids.map((id) => task(id, o.agentId?.value ?? '')));
        running += ids.length;
      }
    }
    for (let i = 0; i < 2; i++) await prod.update((s) => s.taskId?.value === `p-${i}` && s.state === TaskState.TASK_RUNNING);
    const took = Date.now() - t0;
    // Grace + one cycle, plus the kill grace of the agent (SIGTERM → exit of `sleep`) and process start.
    assert.ok(took <= GRACE_S * 1000 + CYCLE_MS + 4000, `prod waited ${took} ms`);
    // Exactly its share: the other two batch tasks keep running.
    await sleep(GRACE_S * 1000 + 3 * CYCLE_MS);
    // (The agent re-sends unacknowledged updates of the two victims; count other tasks only.)
    const victims = new Set([killed.taskId?.value, second.taskId?.value]);
    assert.equal(victims.size, 2);
    const others = batch.events.filter((e) => e.type === EventType.UPDATE && e.update?.status?.state === TaskState.TASK_KILLED && !victims.has(e.update?.status?.taskId?.value));
    assert.equal(others.length, 0, 'no further kills once shares are fair');
    assert.ok(batch.events.every((e) => e.type !== EventType.UPDATE || e.update?.status?.state !== TaskState.TASK_KILLED || e.update?.status?.reason === TaskStatusReason.REASON_CONTAINER_PREEMPTED), 'retried updates keep the PREEMPTED reason');
  });

  test('off: nothing is ever killed for allocation', async () => {
    const { batch, cluster } = await fullCluster('off');
    const prod = new TestScheduler(cluster.masterAddress);
    scheds.push(prod);
    await prod.subscribe({ name: 'prod', roles: ['prod'], priority: 10 });
    await sleep(GRACE_S * 1000 + 5 * CYCLE_MS);
    assert.ok(!batch.has((e) => e.type === EventType.INVERSE_OFFERS), 'no inverse offer');
    assert.ok(!batch.has((e) => e.type === EventType.UPDATE && e.update?.status?.state === TaskState.TASK_KILLED), 'no kill');
    assert.ok(!prod.has((e) => e.type === EventType.OFFERS), 'the full cluster has nothing to offer');
  });
});

// Acceptance: two frameworks with equal demand on a contended cluster receive DRF-fair shares.
// Each takes one task per offer and hands the rest back at once, so who gets the next offer is
// decided by the allocator alone: a first-come allocator would give everything to one of them.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, type TestCluster } from '@agora/sdk';
import { TestScheduler } from './helpers/scheduler.js';

let cluster: TestCluster | undefined;
after(() => cluster?.stop());

test('equal demand on a full cluster ends within one task of each other', async () => {
  cluster = await startCluster({ agents: 2, agentResources: 'cpus:4;mem:4096;disk:1000;ports:[31000-31100]' });
  const a = new TestScheduler(cluster.masterAddress, 'drf-a', { perOffer: 1, refuseSeconds: 0 });
  const b = new TestScheduler(cluster.masterAddress, 'drf-b', { perOffer: 1, refuseSeconds: 0 });
  await Promise.all([a.driver.start(), b.driver.start()]);
  const want = (p: string) => Array.from({ length: 8 }, (_, i) => ({ name: `${p}-${i}`, command: 'sleep 120', cpus: 1, mem: 64 }));
  a.submit(...want('a'));
  b.submit(...want('b'));
  const running = (s: TestScheduler) => [...s.updates.values()].filter((l) => l.some((u) => u.state === 3 /* TASK_RUNNING */)).length;
  // 8 cpus in all, 16 wanted: the cluster fills up.
  await Promise.all([
    a.waitUntil(() => running(a) + running(b) >= 8, 30_000, 'cluster to fill'),
  ]);
  // Give the allocator a few more rounds: nothing more may fit.
  await new Promise((r) => setTimeout(r, 300));
  const ra = running(a), rb = running(b);
  assert.equal(ra + rb, 8, `8 cpus hold 8 one-cpu tasks (a=${ra}, b=${rb})`);
  assert.ok(Math.abs(ra - rb) <= 1, `DRF shares within one task: a=${ra} b=${rb}`);
  assert.ok(a.pending() > 0 && b.pending() > 0, 'both still want more: the cluster was contended');
  await Promise.all([a.driver.stop(), b.driver.stop()]);
});

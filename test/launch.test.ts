// Acceptance: the real `agora master` and two `agora agent` processes on loopback run 100
// `sh -c 'echo hi'` tasks from an SDK scheduler; each reaches TASK_FINISHED with `hi` in its
// sandbox stdout (read back through the agent's Files service).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { FilesClient, OperatorClient } from '@agora/core';
import { startProcessCluster, stopAll } from './helpers/processes.js';
import { TestScheduler } from './helpers/scheduler.js';

after(stopAll);

test('100 echo tasks on two agent processes all finish with hi in stdout', async () => {
  const cluster = await startProcessCluster({ agents: 2, agentResources: 'cpus:8;mem:4096;disk:1000;ports:[31000-31100]' });
  const sched = new TestScheduler(cluster.address, 'hundred');
  const frameworkId = await sched.driver.start();
  const ids = Array.from({ length: 100 }, (_, i) => `echo-${i}`);
  sched.submit(...ids.map((name) => ({ name, command: "sh -c 'echo hi'", cpus: 0.1, mem: 16 })));
  await sched.waitTerminal(ids, 90_000);
  for (const id of ids) assert.equal(sched.state(id), 'TASK_FINISHED', `${id}: ${JSON.stringify(sched.updates.get(id)?.map((u) => u.message))}`);

  // Both agents took part, and every sandbox holds the task's output.
  const op = new OperatorClient(cluster.address);
  const { agents } = await op.getAgents();
  op.close();
  assert.equal(agents.length, 2);
  const addressOf = new Map(agents.map((a) => [a.agentInfo?.id?.value ?? '', a.agentInfo?.address ?? '']));
  assert.equal(new Set(sched.launchedOn.values()).size, 2, 'tasks ran on both agents');
  const clients = new Map<string, FilesClient>();
  for (const id of ids) {
    const addr = addressOf.get(sched.launchedOn.get(id) ?? '')!;
    if (!clients.has(addr)) clients.set(addr, new FilesClient(addr));
    const res = await clients.get(addr)!.read({ frameworkId: { value: frameworkId }, executorId: { value: id }, path: 'stdout' });
    assert.equal(Buffer.from(res.data).toString(), 'hi\n', `${id} stdout`);
  }
  for (const c of clients.values()) c.close();
  await sched.driver.stop();
});

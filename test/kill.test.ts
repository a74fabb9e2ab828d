// Acceptance: killing a task ends its whole process group with TASK_KILLED; a task that traps
// SIGTERM is SIGKILLed after its grace period.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FilesClient } from '@agora/core';
import { startCluster, type TestCluster } from '@agora/sdk';
import { processAlive } from './helpers/processes.js';
import { TestScheduler } from './helpers/scheduler.js';

let cluster: TestCluster;
let sched: TestScheduler;
let frameworkId: string;
before(async () => {
  cluster = await startCluster({ agents: 1, agentResources: 'cpus:4;mem:4096;disk:1000;ports:[31000-31100]' });
  sched = new TestScheduler(cluster.masterAddress, 'killer');
  frameworkId = await sched.driver.start();
});
after(async () => {
  await sched?.driver.stop();
  await cluster?.stop();
});


async function readSandbox(taskId: string, path: string): Promise<string> {
  const files = new FilesClient(cluster.agents[0]!.address);
  try {
    const res = await files.read({ frameworkId: { value: frameworkId }, executorId: { value: taskId }, path });
    return Buffer.from(res.data).toString();
  } finally {
    files.close();
  }
}

test('kill ends the task and the children it started', async () => {
  sched.submit({ name: 'family', command: 'sleep 300 & echo $! > child.pid; sleep 300' });
  await sched.waitUntil(() => sched.state('family') === 'TASK_RUNNING', 20_000, 'family running');
  let childPid = 0;
  for (let i = 0; i < 100 && !childPid; i++) {
    childPid = Number((await readSandbox('family', 'child.pid').catch(() => '')).trim()) || 0;
    if (!childPid) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(childPid > 0 && processAlive(childPid), 'the background child runs');
  sched.driver.kill('family');
  await sched.waitTerminal(['family'], 20_000);
  assert.equal(sched.state('family'), 'TASK_KILLED');
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(!processAlive(childPid), `child ${childPid} of the killed task is gone`);
});

test('a task that ignores SIGTERM is SIGKILLed after its grace period', async () => {
  sched.submit({ name: 'stubborn', command: "trap '' TERM; echo ready; sleep 300", killGracePeriodSeconds: 1.5 });
  await sched.waitUntil(() => sched.state('stubborn') === 'TASK_RUNNING', 20_000, 'stubborn running');
  for (let i = 0; i < 100 && !(await readSandbox('stubborn', 'stdout').catch(() => '')).includes('ready'); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const t0 = Date.now();
  sched.driver.kill('stubborn');
  await sched.waitTerminal(['stubborn'], 20_000);
  const took = Date.now() - t0;
  assert.equal(sched.state('stubborn'), 'TASK_KILLED');
  assert.ok(took >= 1400, `SIGKILL waited for the 1.5 s grace period (took ${took} ms)`);
  assert.ok(took < 6000, `and not much longer (took ${took} ms)`);
});

test('a task that honours SIGTERM ends well before its grace period', async () => {
  sched.submit({ name: 'polite', command: 'sleep 300', killGracePeriodSeconds: 10 });
  await sched.waitUntil(() => sched.state('polite') === 'TASK_RUNNING', 20_000, 'polite running');
  const t0 = Date.now();
  sched.driver.kill('polite');
  await sched.waitTerminal(['polite'], 20_000);
  assert.equal(sched.state('polite'), 'TASK_KILLED');
  assert.ok(Date.now() - t0 < 5000, 'SIGTERM was enough');
});

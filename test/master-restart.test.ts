// Acceptance: restarting the master (embedded registry) keeps framework IDs and agent
// identities; agents and frameworks re-register by themselves, and a running task survives.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OperatorClient } from '@agora/core';
import { agora, startProcessCluster, stopAll, until, waitForHealth } from './helpers/processes.js';
import { TestScheduler } from './helpers/scheduler.js';

after(stopAll);

test('a restarted master keeps IDs; agent and framework come back by themselves', async () => {
  const cluster = await startProcessCluster({ agents: 1, agentResources: 'cpus:2;mem:1024;disk:1000;ports:[31000-31010]' });
  const sched = new TestScheduler(cluster.address, 'survivor', { failoverTimeoutSeconds: 60 });
  const frameworkId = await sched.driver.start();
  sched.submit({ name: 'long', command: 'sleep 300' });
  await sched.waitUntil(() => sched.state('long') === 'TASK_RUNNING', 20_000, 'task running');

  let op = new OperatorClient(cluster.address);
  const agentBefore = (await op.getAgents()).agents[0]?.agentInfo?.id?.value;
  op.close();
  assert.ok(agentBefore);

  // Crash the master (no clean shutdown) and start a new one on the same port and work dir.
  cluster.master.kill('SIGKILL');
  await cluster.master.exited;
  const port = cluster.address.split(':')[1]!;
  agora(['master', '--port', port, '--work-dir', join(cluster.workDir, 'master')]);
  await waitForHealth(cluster.address);

  op = new OperatorClient(cluster.address);
  try {
    await until(async () => {
      const [{ agents }, { frameworks }] = await Promise.all([op.getAgents(), op.getFrameworks()]);
      return agents.some((a) => a.active && a.agentInfo?.id?.value === agentBefore)
        && frameworks.some((f) => f.connected && f.frameworkInfo?.id?.value === frameworkId);
    }, 30_000, () => 'agent and framework to re-register with their IDs');
    const { agents } = await op.getAgents();
    assert.equal(agents.length, 1, 'no second identity for the same agent');
    const { tasks } = await op.getTasks({});
    const long = tasks.find((t) => t.taskId?.value === 'long');
    assert.equal(long?.frameworkId?.value, frameworkId, 'the running task is known again, under its framework');
    assert.equal(long?.agentId?.value, agentBefore);
  } finally {
    op.close();
  }
  assert.equal(sched.driver.frameworkId, frameworkId);
  await sched.driver.stop();
});

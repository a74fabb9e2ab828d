// Chaos: a scheduler goes away (its driver stops without TEARDOWN) and a new one re-subscribes
// with the same FrameworkID. Inside failover_timeout nothing is killed and the updates that
// happened meanwhile are delivered; past it the framework is torn down and its tasks killed.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OperatorClient } from '@agora/core';
import { startProcessCluster, stopAll, dropDir, tempDir, until, processAlive } from './helpers/processes.js';
import { TestScheduler } from './helpers/scheduler.js';

const FAILOVER_S = 6;
const schedulers: TestScheduler[] = [];
after(async () => {
  for (const s of schedulers) await s.driver.stop({ failover: true }).catch(() => undefined);
  await stopAll();
});


const pidOf = (dir: string, name: string): number => {
  try { return Number(readFileSync(join(dir, `${name}.pid`), 'utf8').trim()) || 0; } catch { return 0; }
};

test('scheduler failover: inside the timeout nothing is killed and missed updates arrive; past it the tasks are killed', { timeout: 120_000 }, async () => {
  const dir = dropDir('agora-chaos-failover-');
  const { address } = await startProcessCluster({ agents: 1, agentResources: 'cpus:2;mem:1024;disk:1000;ports:[31000-31010]', workDir: dir });
  const op = new OperatorClient(address);
  try {
    const first = new TestScheduler(address, 'phoenix', { failoverTimeoutSeconds: FAILOVER_S });
    schedulers.push(first);
    const frameworkId = await first.driver.start();
    first.submit(
      { name: 'long', command: `echo $$ > ${dir}/long.pid; exec sleep 600` },
      // Ends while no scheduler is connected: its update must still reach the next one.
      { name: 'short', command: 'sleep 3' },
    );
    await first.waitUntil(() => first.state('long') === 'TASK_RUNNING' && first.state('short') === 'TASK_RUNNING', 30_000, 'both running');
    await until(() => pidOf(dir, 'long') > 0, 10_000, () => 'long.pid');
    const longPid = pidOf(dir, 'long');

    await first.driver.stop({ failover: true });
    await until(async () => (await op.getFrameworks()).frameworks[0]?.connected === false, 10_000, () => 'framework disconnected');
    await new Promise((r) => setTimeout(r, 4_000));
    assert.ok(processAlive(longPid), 'nothing is killed while the scheduler is away');

    const second = new TestScheduler(address, 'phoenix', { failoverTimeoutSeconds: FAILOVER_S, frameworkId });
    schedulers.push(second);
    assert.equal(await second.driver.start(), frameworkId, 'same framework');
    // The agent retries the unacknowledged TASK_FINISHED until the new scheduler acknowledges it.
    await second.waitUntil(() => second.state('short') === 'TASK_FINISHED', 30_000, 'TASK_FINISHED of short, missed while away');
    assert.equal(first.state('short'), 'TASK_RUNNING', 'it ended while no scheduler was connected');
    assert.ok(processAlive(longPid), 'long still runs after the failover');
    second.driver.reconcile([]);
    await second.waitUntil(() => second.state('long') === 'TASK_RUNNING', 10_000, 'long reconciled RUNNING');
    const tasks = await op.getTasks({});
    assert.deepEqual(tasks.tasks.map((t) => t.taskId?.value), ['long']);

    // Gone for longer than failover_timeout: torn down, its task killed on the agent.
    await second.driver.stop({ failover: true });
    const leftAt = Date.now();
    await until(async () => (await op.getFrameworks()).frameworks.length === 0, (FAILOVER_S + 10) * 1000, () => 'framework torn down');
    assert.ok(Date.now() - leftAt >= (FAILOVER_S - 1) * 1000, 'not before failover_timeout');
    await until(() => !processAlive(longPid), 15_000, () => `long (pid ${longPid}) still runs after the teardown`);
    const third = new TestScheduler(address, 'phoenix', { failoverTimeoutSeconds: FAILOVER_S, frameworkId });
    await assert.rejects(third.driver.start(), /unknown to this master or was torn down/);
  } finally {
    op.close();
  }
});

/**
 * An executor's own resources are held while its process runs, idle or not, and freed when the
 * agent reports it gone — as in Mesos. Before, the master freed them with the executor's last
 * task, so an idle long-lived executor (the cron framework's) used resources the master kept
 * offering to others.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OperatorClient, resources as R } from '@agora/core';
import { SchedulerDriver, executorTask, idOf, startCluster, taskStateName } from '@agora/sdk';

const ROOT = new URL('..', import.meta.url).pathname;
// Absolute paths: the executor starts in its sandbox, where a bare `tsx` would not resolve.
const EXECUTOR = `${process.execPath} --import ${import.meta.resolve('tsx')} ${join(ROOT, 'test/fixtures/idle-executor.ts')}`;

async function until(what: string, pred: () => Promise<boolean> | boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('an idle executor keeps its own resources until it is gone', { timeout: 90_000 }, async () => {
  const cluster = await startCluster({ agents: 1, agentResources: 'cpus:2;mem:1024;disk:100' });
  const op = new OperatorClient(cluster.masterAddress);
  const states = new Map<string, string>();
  const errors: string[] = [];
  let launched = false;
  const driver = new SchedulerDriver({
    master: cluster.masterAddress,
    framework: { name: 'executor-resources' },
    callbacks: {
      resourceOffers(d, offers) {
        for (const o of offers) {
          if (launched) { d.decline(idOf(o.id), { refuseSeconds: 3600 }); continue; }
          launched = true;
          d.launch(idOf(o.id), [executorTask(o, {
            name: 'quick', taskId: 'quick', cpus: 0.5, mem: 64,
            executor: { executorId: 'idle', command: EXECUTOR, resources: { cpus: 0.25, mem: 96 } },
          })]);
        }
      },
      statusUpdate(_d, s) { states.set(idOf(s.taskId), taskStateName(s.state)); },
      error(_d, message) { errors.push(message); },
    },
  });
  const allocated = async (): Promise<string> => R.formatResources(R.stripAllocation((await op.getAgents()).agents[0]?.allocatedResources ?? []));
  try {
    await driver.start();
    await until(`the task finished (now ${states.get('quick')}; errors: ${errors.join(' / ')})`, () => states.get('quick') === 'TASK_FINISHED');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await allocated(), 'cpus:0.25;mem:96', 'the task\'s resources are back; the idle executor keeps its own');
    driver.shutdown('idle', cluster.agents[0]!.agentId!);
    await until('the executor\'s resources back', async () => (await allocated()) === '');
  } finally {
    await driver.stop().catch(() => undefined);
    op.close();
    await cluster.stop();
  }
});

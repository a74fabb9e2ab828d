/**
 * End to end: the README's example framework on a real in-process cluster (master + 2 agents,
 * real processes). Skipped, saying why, while @agora/master or @agora/agent is not built yet.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { SchedulerDriver, startCluster, commandTask, idOf, isTerminalState, taskStateName } from '../src/index.js';
import { runHello } from '../examples/hello-scheduler.js';

async function notReady(): Promise<string | false> {
  const [m, a] = await Promise.all([import('@agora/master').catch((e: Error) => e), import('@agora/agent').catch((e: Error) => e)]);
  if (m instanceof Error || typeof (m as Record<string, unknown>).startMaster !== 'function') return '@agora/master does not export startMaster yet (build it first)';
  if (a instanceof Error || typeof (a as Record<string, unknown>).startAgent !== 'function') return '@agora/agent does not export startAgent yet (build it first)';
  return false;
}

const skip = await notReady();

function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  return Promise.race([p, new Promise<T>((_, rej) => setTimeout(() => rej(new Error(`${what} took over ${ms} ms`)), ms).unref())]);
}

describe('startCluster (end to end)', { skip }, () => {
  it('runs the README example: a task on the custom executor and a command task both finish', async () => {
    const cluster = await startCluster({ agents: 2 });
    try {
      assert.equal(cluster.agents.length, 2);
      assert.ok(cluster.agents.every((a) => a.agentId), 'agents are registered');
      const final = await within(30_000, 'the hello framework', runHello(cluster.masterAddress));
      assert.deepEqual(final, { 'hello-executor': 'TASK_FINISHED', 'hello-command': 'TASK_FINISHED' });
    } finally {
      await cluster.stop();
    }
    assert.equal(existsSync(cluster.workDir), false, 'stop() removes the temp work dir');
  });

  it('reports a failing command with TASK_FAILED, and addAgent adds capacity', async () => {
    const cluster = await startCluster({ agents: 0 });
    try {
      await cluster.addAgent();
      const states: string[] = [];
      const done = new Promise<void>((resolve) => {
        let launched = false;
        const driver = new SchedulerDriver({
          master: cluster.masterAddress,
          framework: { name: 'fails' },
          callbacks: {
            resourceOffers(d, offers) {
              for (const o of offers) {
                if (launched) { d.decline(idOf(o.id)); continue; }
                launched = true;
                d.launch(idOf(o.id), [commandTask(o, { name: 'exit3', command: 'exit 3' })]);
              }
            },
            statusUpdate(d, s) {
              states.push(taskStateName(s.state));
              if (isTerminalState(s.state)) void d.stop().then(resolve);
            },
          },
        });
        void driver.start();
      });
      await within(20_000, 'the failing task', done);
      assert.equal(states[states.length - 1], 'TASK_FAILED');
    } finally {
      await cluster.stop();
    }
  });
});

// Agent recovery: `kill -9` of an agent process loses nothing. Its tasks keep
// running and are re-attached after a restart on the same work dir; tasks that exited during the
// outage report their real exit; unacknowledged updates survive the restart and arrive in order,
// once per uuid.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OperatorClient, uuidHex } from '@agora/core';
import { SchedulerDriver, commandTask, taskStateName, type TaskStatus } from '@agora/sdk';
import { freePort, startAgentProcess, startProcessCluster, stopAll, until } from './helpers/processes.js';
import { TestScheduler } from './helpers/scheduler.js';

after(stopAll);

const RESOURCES = 'cpus:8;mem:4096;disk:1000;ports:[31000-31100]';

test('kill -9 an agent with 20 running tasks: after a restart all 20 run on, re-attached; exits during the outage are real', async () => {
  const cluster = await startProcessCluster({ agents: 0 });
  const agentDir = join(cluster.workDir, 'agent-r');
  const agentPort = await freePort();
  let agent = await startAgentProcess(cluster.address, agentDir, RESOURCES, agentPort);
  const sched = new TestScheduler(cluster.address, 'recovery', { failoverTimeoutSeconds: 120 });
  await sched.driver.start();
  const longIds = Array.from({ length: 20 }, (_, i) => `long-${i}`);
  sched.submit(
    ...longIds.map((name) => ({ name, command: 'sleep 300', cpus: 0.1, mem: 16, killGracePeriodSeconds: 1 })),
    { name: 'exits-7', command: 'sleep 2; exit 7', cpus: 0.1, mem: 16 },
    { name: 'exits-0', command: 'sleep 2; exit 0', cpus: 0.1, mem: 16 },
  );
  const all = [...longIds, 'exits-7', 'exits-0'];
  await sched.waitUntil(() => all.every((id) => sched.state(id) === 'TASK_RUNNING'), 30_000, '22 tasks running');
  const op = new OperatorClient(cluster.address);
  try {
    const agentId = (await op.getAgents()).agents[0]?.agentInfo?.id?.value;
    assert.ok(agentId);

    agent.kill('SIGKILL');
    await agent.exited;
    // Long enough for the short tasks to end while no agent watches them.
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(sched.state('exits-7'), 'TASK_RUNNING', 'nobody could have reported the exit while the agent was down');

    agent = await startAgentProcess(cluster.address, agentDir, RESOURCES, agentPort);
    await sched.waitUntil(() => sched.state('exits-7') === 'TASK_FAILED' && sched.state('exits-0') === 'TASK_FINISHED', 20_000, 'exits during the outage to be reported');
    const failed = sched.updates.get('exits-7')!.find((u) => taskStateName(u.state) === 'TASK_FAILED')!;
    assert.equal(failed.exitCode, 7, 'the real exit code, recovered from the run');
    assert.equal(sched.updates.get('exits-0')!.find((u) => taskStateName(u.state) === 'TASK_FINISHED')!.exitCode, 0);

    // The master still has all 20 running, on the same agent ID.
    await until(async () => {
      const { tasks } = await op.getTasks({});
      return longIds.every((id) => tasks.some((t) => t.taskId?.value === id && taskStateName(t.state) === 'TASK_RUNNING' && t.agentId?.value === agentId));
    }, 20_000, () => 'the 20 long tasks to be RUNNING on the same agent at the master');
    assert.equal((await op.getAgents()).agents.filter((a) => a.active).length, 1, 'one agent, same identity');
    for (const id of longIds) {
      // An ack in flight at the kill is lost with the agent, so an update may come again: with
      // the same uuid (at-least-once delivery; frameworks dedupe by uuid), never a new one.
      const once = [...new Map(sched.updates.get(id)!.map((u) => [uuidHex(u.uuid), u])).values()];
      assert.deepEqual(once.map((u) => taskStateName(u.state)), ['TASK_STARTING', 'TASK_RUNNING'], `${id}: no update but STARTING and RUNNING`);
    }

    // Re-attached for real: a kill through the scheduler reaches the process.
    sched.driver.kill('long-3');
    await sched.waitUntil(() => sched.state('long-3') === 'TASK_KILLED', 20_000, 'long-3 killed');
    assert.equal(sched.state('long-4'), 'TASK_RUNNING');
  } finally {
    op.close();
    await sched.driver.stop();
  }
});

test('an unacknowledged update is retried, survives kill -9 of the agent, and arrives in order once per uuid', async () => {
  const cluster = await startProcessCluster({ agents: 0 });
  const agentDir = join(cluster.workDir, 'agent-u');
  const agentPort = await freePort();
  let agent = await startAgentProcess(cluster.address, agentDir, RESOURCES, agentPort);
  const seen: TaskStatus[] = [];
  let launched = false;
  const driver = new SchedulerDriver({
    master: cluster.address,
    framework: { name: 'no-ack', failoverTimeoutSeconds: 120 },
    autoAcknowledge: false,
    callbacks: {
      resourceOffers: (d, offers) => {
        for (const offer of offers) {
          if (launched) { d.decline(offer.id?.value ?? '', { refuseSeconds: 60 }); continue; }
          launched = true;
          d.launch(offer.id?.value ?? '', [commandTask(offer, { name: 'held', taskId: 'held', command: 'exit 3', cpus: 0.1, mem: 16 })]);
        }
      },
      statusUpdate: (_d, status) => { if (status.taskId?.value === 'held') seen.push(status); },
    },
  });
  await driver.start();
  const distinct = (): TaskStatus[] => {
    const byUuid = new Map<string, TaskStatus>();
    for (const s of seen) if (!byUuid.has(uuidHex(s.uuid))) byUuid.set(uuidHex(s.uuid), s);
    return [...byUuid.values()];
  };
  try {
    await until(() => distinct().some((s) => taskStateName(s.state) === 'TASK_FAILED'), 20_000, () => 'the task to fail');
    // Not acknowledged: the agent retries (DEFAULTS.statusUpdateRetryMs = 1 s) with the same uuid.
    await until(() => seen.length > distinct().length, 10_000, () => 'a retry of an unacknowledged update');

    agent.kill('SIGKILL');
    await agent.exited;
    const before = seen.length;
    agent = await startAgentProcess(cluster.address, agentDir, RESOURCES, agentPort);
    await until(() => seen.length > before, 15_000, () => 'the pending updates re-sent after the restart');

    const updates = distinct();
    assert.deepEqual(updates.map((s) => taskStateName(s.state)), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FAILED'], 'each update once (by uuid), in order; none invented by the restart');
    assert.equal(updates[2]!.exitCode, 3);
    for (const s of seen) {
      const first = updates.find((u) => uuidHex(u.uuid) === uuidHex(s.uuid))!;
      assert.equal(s.state, first.state, 'a re-sent update is the same update');
    }
    // Re-sent in order after the restart: within what arrived since, states never go backwards.
    const order = seen.slice(before).map((s) => updates.findIndex((u) => uuidHex(u.uuid) === uuidHex(s.uuid)));
    assert.deepEqual(order.slice(0, 3), [0, 1, 2], `re-sent oldest first (got ${order.join(',')})`);

    for (const s of updates) driver.acknowledge(s);
    await new Promise((r) => setTimeout(r, 500));
    const settled = seen.length;
    // With everything acknowledged, nothing is re-sent any more (retry would come after ≥1 s).
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal(seen.length, settled, 'acknowledged updates are not re-sent');
  } finally {
    await driver.stop();
  }
});

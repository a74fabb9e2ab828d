// Chaos: an agent process frozen with SIGSTOP past the master's ping timeout is UNREACHABLE —
// a partition-aware framework hears TASK_UNREACHABLE, another one TASK_LOST — and after
// SIGCONT it is reconciled: the partition-aware task is RUNNING again (the same process), the
// task reported LOST is killed on the agent.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FrameworkCapability, OperatorClient, TaskStatusReason, agora } from '@agora/core';
import { agora as agoraProc, freePort, startAgentProcess, stopAll, dropDir, tempDir, until, waitForHealth, processAlive } from './helpers/processes.js';
import { TestScheduler } from './helpers/scheduler.js';

const schedulers: TestScheduler[] = [];
after(async () => {
  for (const s of schedulers) await s.driver.stop().catch(() => undefined);
  await stopAll();
});


const pidOf = (dir: string, name: string): number => {
  try { return Number(readFileSync(join(dir, `${name}.pid`), 'utf8').trim()) || 0; } catch { return 0; }
};

test('SIGSTOP an agent past the ping timeout: UNREACHABLE / LOST; SIGCONT: reconciled', { timeout: 120_000 }, async () => {
  const dir = dropDir('agora-chaos-partition-');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  agoraProc(['master', '--port', String(port), '--work-dir', join(dir, 'master'), '--agent-ping-timeout', '3']);
  await waitForHealth(address);
  const agent = await startAgentProcess(address, join(dir, 'agent'), 'cpus:2;mem:1024;disk:1000;ports:[31000-31010]');
  const op = new OperatorClient(address);
  try {
    const pa = new TestScheduler(address, 'partition-aware', { failoverTimeoutSeconds: 3600, capabilities: [FrameworkCapability.PARTITION_AWARE] });
    const old = new TestScheduler(address, 'classic', { failoverTimeoutSeconds: 3600 });
    schedulers.push(pa, old);
    await pa.driver.start();
    await old.driver.start();
    // Each task writes its pid where the test can see it, then becomes `sleep`.
    pa.submit({ name: 'pa-1', command: `echo $$ > ${dir}/pa-1.pid; exec sleep 600` });
    old.submit({ name: 'old-1', command: `echo $$ > ${dir}/old-1.pid; exec sleep 600` });
    await pa.waitUntil(() => pa.state('pa-1') === 'TASK_RUNNING', 30_000, 'pa-1 running');
    await old.waitUntil(() => old.state('old-1') === 'TASK_RUNNING', 30_000, 'old-1 running');
    await until(() => pidOf(dir, 'pa-1') > 0 && pidOf(dir, 'old-1') > 0, 10_000, () => 'task pid files');
    const paPid = pidOf(dir, 'pa-1');
    const oldPid = pidOf(dir, 'old-1');

    // Healthy for a while first: no false positive with a 3 s ping timeout.
    await new Promise((r) => setTimeout(r, 4_000));
    assert.equal(pa.state('pa-1'), 'TASK_RUNNING');
    assert.equal(old.state('old-1'), 'TASK_RUNNING');

    const frozenAt = Date.now();
    agent.kill('SIGSTOP');
    try {
      await pa.waitUntil(() => pa.state('pa-1') === 'TASK_UNREACHABLE', 20_000, 'pa-1 unreachable');
      const detectMs = Date.now() - frozenAt;
      await old.waitUntil(() => old.state('old-1') === 'TASK_LOST', 10_000, 'old-1 lost');
      const u = pa.updates.get('pa-1')?.at(-1);
      assert.equal(u?.reason, TaskStatusReason.REASON_AGENT_REMOVED);
      assert.equal(old.updates.get('old-1')?.at(-1)?.reason, TaskStatusReason.REASON_AGENT_REMOVED);
      // The master times silence from the agent's last heartbeat (every timeout/3 = 1 s), which
      // may precede the freeze by up to one interval: the earliest honest verdict is 2 s after it.
      assert.ok(detectMs >= 1_900, `not before the ping timeout less one heartbeat interval (${detectMs} ms)`);
      assert.ok(detectMs < 8_000, `detected within ping timeout + a tick or two (${detectMs} ms)`);
      const a = (await op.getAgents()).agents[0];
      assert.equal(a?.reachability, agora.v1.AgentState.Reachability.UNREACHABLE);
      // Frozen agent or not, the tasks themselves run on.
      assert.ok(processAlive(paPid) && processAlive(oldPid));
    } finally {
      agent.kill('SIGCONT');
    }

    await pa.waitUntil(() => pa.state('pa-1') === 'TASK_RUNNING', 40_000, 'pa-1 running again');
    assert.equal(pa.updates.get('pa-1')?.at(-1)?.reason, TaskStatusReason.REASON_RECONCILIATION);
    await old.waitUntil(() => old.state('old-1') === 'TASK_KILLED', 30_000, 'old-1 killed on the returning agent');
    await until(() => !processAlive(oldPid), 10_000, () => `old-1 (pid ${oldPid}) still runs`);
    assert.ok(processAlive(paPid), 'the partition-aware task is the same process, still running');
    await until(async () => (await op.getAgents()).agents[0]?.reachability === agora.v1.AgentState.Reachability.REACHABLE, 10_000, () => 'agent reachable');
    const live = (await op.getTasks({})).tasks.map((t) => [t.taskId?.value, agora.v1.TaskState[t.state ?? 0]]);
    assert.deepEqual(live, [['pa-1', 'TASK_RUNNING']]);
  } finally {
    op.close();
  }
});

/**
 * The master's failure handling on a fake clock: unreachable agents (partition-aware
 * frameworks hear TASK_UNREACHABLE, others TASK_LOST), returning agents reconciled, GONE
 * agents refused, reconciliation held while recovering agents may hold the task, drains.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  agora, AgentEventType, CallType, EventType, FakeClock, FrameworkCapability, OperatorClient, TaskState, TaskStatusReason, resources, silentLogger,
} from '@agora/core';
import { startMaster, type Master, type MasterOptions } from '@agora/master';
import { TestAgent, TestScheduler, sleep, until } from './helpers.js';

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'agora-failure-'));
  dirs.push(d);
  return d;
}

const Reach = agora.v1.AgentState.Reachability;
const Drain = agora.v1.AgentState.Drain;
const PA = { capabilities: [FrameworkCapability.PARTITION_AWARE] };
const RES = 'cpus:4;mem:1024';

async function boot(clock: FakeClock, extra: MasterOptions = {}): Promise<{ master: Master; op: OperatorClient; workDir: string }> {
  const workDir = extra.workDir ?? await tempDir();
  const master = await startMaster({
    port: 0, workDir, logger: silentLogger(), allocationBatchMs: 1, clock, heartbeatIntervalSeconds: 100, agentPingTimeoutSeconds: 10, ...extra,
  });
  return { master, op: new OperatorClient(master.address), workDir };
}

const task = (id: string, res = 'cpus:1;mem:128'): agora.v1.TaskInfo.$Properties =>
  ({ name: id, taskId: { value: id }, resources: resources.parseResources(res), command: { value: 'sleep 100' } });

/** A task as an agent reports it when it (re-)registers. */
const reported = (fwId: string, taskId: string, agentId: string, state = TaskState.TASK_RUNNING): agora.v1.Task.$Properties =>
  ({ taskId: { value: taskId }, frameworkId: { value: fwId }, agentId: { value: agentId }, executorId: { value: taskId }, state, resources: resources.parseResources('cpus:1;mem:128') });

/** Moves the fake clock forward in 1 s steps, letting I/O run between them; `beat` heartbeats on the way. */
async function pass(clock: FakeClock, ms: number, beat?: TestAgent): Promise<void> {
  for (let t = 0; t < ms; t += 1000) {
    beat?.send({ type: 2 });
    await sleep(4);
    clock.advance(Math.min(1000, ms - t));
  }
  await sleep(10);
}

const updatesOf = (s: TestScheduler, taskId: string): agora.v1.TaskStatus[] =>
  s.events.filter((e) => e.type === EventType.UPDATE && e.update?.status?.taskId?.value === taskId).map((e) => e.update?.status as agora.v1.TaskStatus);

/**
 * One agent running `pa.1` of a partition-aware framework and `old.1` of one that is not
 * (each acknowledged RUNNING).
 */
async function twoFrameworks(master: Master, clock: FakeClock): Promise<{ agent: TestAgent; agentId: string; pa: TestScheduler; old: TestScheduler; paId: string; oldId: string }> {
  const agent = new TestAgent(master.address);
  const agentId = await agent.register(RES, {}, undefined, clock);
  const pa = new TestScheduler(master.address);
  const paId = await pa.subscribe({ name: 'pa', failoverTimeoutSeconds: 3600, ...PA }, clock);
  const [o1] = await pa.offers(clock);
  // Leftovers are refused for an hour so that the other framework gets them.
  pa.launch([o1?.id?.value ?? ''], [task('pa.1')], 3600);
  await agent.take('RUN_TASK pa.1', (e) => e.type === AgentEventType.RUN_TASK, clock);
  const old = new TestScheduler(master.address);
  const oldId = await old.subscribe({ name: 'old', failoverTimeoutSeconds: 3600 }, clock);
  const [o2] = await old.offers(clock);
  old.launch([o2?.id?.value ?? ''], [task('old.1')], 3600);
  await agent.take('RUN_TASK old.1', (e) => e.type === AgentEventType.RUN_TASK, clock);
  agent.status(paId, 'pa.1', TaskState.TASK_RUNNING);
  agent.status(oldId, 'old.1', TaskState.TASK_RUNNING);
  await pa.update((s) => s.taskId?.value === 'pa.1' && s.state === TaskState.TASK_RUNNING, clock);
  await old.update((s) => s.taskId?.value === 'old.1' && s.state === TaskState.TASK_RUNNING, clock);
  return { agent, agentId, pa, old, paId, oldId };
}

describe('agent failure detection (fake clock)', () => {
  test('a silent agent is unreachable: UNREACHABLE to partition-aware, LOST to others; back: LOST tasks killed, the rest RUNNING again', async () => {
    const clock = new FakeClock(Date.now());
    const { master, op } = await boot(clock);
    const { agent, agentId, pa, old, paId, oldId } = await twoFrameworks(master, clock);
    let back: TestAgent | undefined;
    try {
      const reg = (await op.getAgents()).agents[0];
      assert.equal(reg?.reachability, Reach.REACHABLE);
      // Agents beat at a third of the ping timeout at most, so one late beat is no failure.
      assert.equal((await op.getMetrics()).metrics.find((x) => x.name === 'master/agents_unreachable')?.value, 0);

      await pass(clock, 9_000);
      assert.equal(updatesOf(pa, 'pa.1').length, 0, 'nothing before the ping timeout');
      await pass(clock, 3_000);
      const u = await pa.update((s) => s.taskId?.value === 'pa.1', clock);
      assert.equal(u.state, TaskState.TASK_UNREACHABLE);
      assert.equal(u.reason, TaskStatusReason.REASON_AGENT_REMOVED);
      assert.equal(u.uuid.length, 0, 'master-generated: no uuid');
      assert.match(u.message, /unreachable/);
      const l = await old.update((s) => s.taskId?.value === 'old.1', clock);
      assert.equal(l.state, TaskState.TASK_LOST);
      assert.equal(l.reason, TaskStatusReason.REASON_AGENT_REMOVED);
      await until('agent stream closed by the master', () => agent.ended || agent.error, clock);

      const a = (await op.getAgents()).agents[0];
      assert.equal(a?.reachability, Reach.UNREACHABLE);
      assert.ok((a?.unreachableTime ?? 0) > 0);
      const live = await op.getTasks({});
      assert.deepEqual(live.tasks.map((t) => [t.taskId?.value, t.state]), [['pa.1', TaskState.TASK_UNREACHABLE]], 'the partition-aware task stays in the books');
      // Implicit reconciliation includes unreachable tasks; explicit answers the unreachable state.
      pa.do({ type: CallType.RECONCILE, reconcile: { tasks: [] } });
      assert.equal((await pa.update((s) => s.taskId?.value === 'pa.1', clock)).state, TaskState.TASK_UNREACHABLE);
      old.do({ type: CallType.RECONCILE, reconcile: { tasks: [{ taskId: { value: 'old.1' }, agentId: { value: agentId } }] } });
      assert.equal((await old.update((s) => s.taskId?.value === 'old.1', clock)).state, TaskState.TASK_LOST);

      // The agent comes back with both tasks still running.
      back = new TestAgent(master.address);
      await back.register(RES, { tasks: [reported(paId, 'pa.1', agentId), reported(oldId, 'old.1', agentId)] }, agentId, clock);
      const kill = await back.take('KILL_TASK', (e) => e.type === AgentEventType.KILL_TASK, clock);
      assert.equal(kill.killTask?.taskId?.value, 'old.1', 'the task reported LOST is killed');
      const r = await pa.update((s) => s.taskId?.value === 'pa.1', clock);
      assert.equal(r.state, TaskState.TASK_RUNNING);
      assert.equal(r.reason, TaskStatusReason.REASON_RECONCILIATION);
      await sleep(30);
      assert.ok(!back.has((e) => e.type === AgentEventType.KILL_TASK), 'pa.1 is not killed');
      assert.equal((await op.getAgents()).agents[0]?.reachability, Reach.REACHABLE);
      back.status(oldId, 'old.1', TaskState.TASK_KILLED);
      assert.equal((await old.update((s) => s.taskId?.value === 'old.1', clock)).state, TaskState.TASK_KILLED);
      const tasks = await op.getTasks({});
      assert.deepEqual(tasks.tasks.map((t) => [t.taskId?.value, t.state]), [['pa.1', TaskState.TASK_RUNNING]]);
    } finally {
      for (const c of [agent, back, pa, old]) c?.close();
      op.close();
      await master.stop();
    }
  });

  test('a closed stream is not unreachable until the ping timeout; unreachable too long is GONE, and a gone agent is refused (also after a restart)', async () => {
    const clock = new FakeClock(Date.now());
    const workDir = await tempDir();
    let { master, op } = await boot(clock, { workDir, agentGoneSeconds: 60 });
    const { agent, agentId, pa, old, paId, oldId } = await twoFrameworks(master, clock);
    const extra: (TestAgent | TestScheduler)[] = [];
    try {
      agent.close();
      await until('disconnected', async () => (await op.getAgents()).agents[0]?.reachability === Reach.DISCONNECTED);
      await pass(clock, 6_000);
      assert.equal(updatesOf(pa, 'pa.1').length + updatesOf(old, 'old.1').length, 0, 'a closed stream alone reports nothing');
      // Back within the ping timeout: nothing lost, nothing killed.
      const a2 = new TestAgent(master.address);
      extra.push(a2);
      await a2.register(RES, { tasks: [reported(paId, 'pa.1', agentId), reported(oldId, 'old.1', agentId)] }, agentId, clock);
      await pass(clock, 2_000, a2);
      assert.ok(!a2.has((e) => e.type === AgentEventType.KILL_TASK));
      assert.equal(updatesOf(old, 'old.1').length, 0);
      // Gone for good: unreachable after the ping timeout, GONE after 60 s more.
      a2.close();
      await pass(clock, 12_000);
      assert.equal((await pa.update((s) => s.taskId?.value === 'pa.1', clock)).state, TaskState.TASK_UNREACHABLE);
      assert.equal((await old.update((s) => s.taskId?.value === 'old.1', clock)).state, TaskState.TASK_LOST);
      await pass(clock, 50_000);
      assert.equal((await op.getAgents()).agents.length, 1, 'not gone before agentGoneSeconds');
      await pass(clock, 11_000);
      const g = await pa.update((s) => s.taskId?.value === 'pa.1', clock);
      assert.equal(g.state, TaskState.TASK_GONE);
      assert.equal(g.reason, TaskStatusReason.REASON_AGENT_REMOVED);
      assert.equal((await op.getAgents()).agents.length, 0, 'a gone agent leaves the books');
      assert.equal((await op.getTasks({})).tasks.length, 0);
      // It comes back: told to shut down and refused.
      const a3 = new TestAgent(master.address);
      extra.push(a3);
      await assert.rejects(a3.register(RES, { tasks: [reported(paId, 'pa.1', agentId)] }, agentId, clock), /marked gone/);
      assert.ok(a3.has((e) => e.type === AgentEventType.SHUTDOWN));
      // pa reconciles a task on the gone agent: TASK_GONE.
      pa.do({ type: CallType.RECONCILE, reconcile: { tasks: [{ taskId: { value: 'pa.1' }, agentId: { value: agentId } }] } });
      assert.equal((await pa.update((s) => s.taskId?.value === 'pa.1', clock)).state, TaskState.TASK_GONE);
      // The tombstone survives a master restart.
      for (const c of [pa, old]) c.close();
      op.close();
      await master.stop();
      ({ master, op } = await boot(clock, { workDir }));
      assert.equal((await op.getAgents()).agents.length, 0);
      const a4 = new TestAgent(master.address);
      extra.push(a4);
      await assert.rejects(a4.register(RES, {}, agentId, clock), /marked gone/);
      // A fresh identity is welcome.
      const a5 = new TestAgent(master.address);
      extra.push(a5);
      assert.notEqual(await a5.register(RES, {}, undefined, clock), agentId);
    } finally {
      for (const c of [agent, pa, old, ...extra]) c.close();
      op.close();
      await master.stop();
    }
  });

  test('after a restart, reconciliation about tasks on agents not yet back is held, then answered', async () => {
    const clock = new FakeClock(Date.now());
    const workDir = await tempDir();
    let { master, op } = await boot(clock, { workDir, agentReregisterTimeoutSeconds: 30 });
    const first = await twoFrameworks(master, clock);
    const { agentId, paId, oldId } = first;
    for (const c of [first.agent, first.pa, first.old]) c.close();
    op.close();
    await master.stop();

    ({ master, op } = await boot(clock, { workDir, agentReregisterTimeoutSeconds: 30 }));
    const opened: (TestAgent | TestScheduler)[] = [];
    const resubscribe = async (): Promise<{ pa: TestScheduler; old: TestScheduler }> => {
      const pa = new TestScheduler(master.address);
      const old = new TestScheduler(master.address);
      opened.push(pa, old);
      await pa.subscribe({ name: 'pa', id: { value: paId }, failoverTimeoutSeconds: 3600, ...PA }, clock);
      await old.subscribe({ name: 'old', id: { value: oldId }, failoverTimeoutSeconds: 3600 }, clock);
      return { pa, old };
    };
    try {
      assert.equal((await op.getAgents()).agents[0]?.reachability, Reach.RECOVERING);
      let { pa, old } = await resubscribe();
      pa.do({ type: CallType.RECONCILE, reconcile: { tasks: [{ taskId: { value: 'pa.1' }, agentId: { value: agentId } }, { taskId: { value: 'elsewhere' }, agentId: { value: 'agent-never-seen' } }] } });
      old.do({ type: CallType.RECONCILE, reconcile: { tasks: [{ taskId: { value: 'old.1' } }] } });
      // A task on an agent the master never knew is answered at once …
      assert.equal((await pa.update((s) => s.taskId?.value === 'elsewhere', clock)).state, TaskState.TASK_UNKNOWN);
      // … but not those that may be on the recovering agent: no TASK_LOST for running work.
      await pass(clock, 10_000);
      assert.equal(updatesOf(pa, 'pa.1').length, 0);
      assert.equal(updatesOf(old, 'old.1').length, 0);
      const agent = new TestAgent(master.address);
      opened.push(agent);
      await agent.register(RES, { tasks: [reported(paId, 'pa.1', agentId), reported(oldId, 'old.1', agentId)] }, agentId, clock);
      const p = await pa.update((s) => s.taskId?.value === 'pa.1', clock);
      assert.equal(p.state, TaskState.TASK_RUNNING);
      assert.equal(p.reason, TaskStatusReason.REASON_RECONCILIATION);
      assert.equal((await old.update((s) => s.taskId?.value === 'old.1', clock)).state, TaskState.TASK_RUNNING);
      // After a failover the master cannot know what it told anyone: nothing is killed.
      await sleep(30);
      assert.ok(!agent.has((e) => e.type === AgentEventType.KILL_TASK));

      // Once more, and this time the agent never comes back: held until the re-register timeout.
      for (const c of opened.splice(0)) c.close();
      op.close();
      await master.stop();
      ({ master, op } = await boot(clock, { workDir, agentReregisterTimeoutSeconds: 30 }));
      ({ pa, old } = await resubscribe());
      pa.do({ type: CallType.RECONCILE, reconcile: { tasks: [{ taskId: { value: 'pa.1' }, agentId: { value: agentId } }] } });
      old.do({ type: CallType.RECONCILE, reconcile: { tasks: [{ taskId: { value: 'old.1' } }] } });
      await pass(clock, 25_000);
      assert.equal(updatesOf(pa, 'pa.1').length + updatesOf(old, 'old.1').length, 0);
      await pass(clock, 7_000);
      assert.equal((await pa.update((s) => s.taskId?.value === 'pa.1', clock)).state, TaskState.TASK_UNREACHABLE);
      assert.equal((await old.update((s) => s.taskId?.value === 'old.1', clock)).state, TaskState.TASK_LOST);
      assert.equal((await op.getAgents()).agents[0]?.reachability, Reach.UNREACHABLE);
    } finally {
      for (const c of opened) c.close();
      op.close();
      await master.stop();
    }
  });
});

describe('drain (fake clock)', () => {
  test('a drained agent is not offered, its tasks may finish, the rest are killed with REASON_AGENT_DRAINING; it survives a restart; reactivate offers it again', async () => {
    const clock = new FakeClock(Date.now());
    const workDir = await tempDir();
    let { master, op } = await boot(clock, { workDir, offerTimeoutSeconds: 3600 });
    const agent = new TestAgent(master.address);
    const sched = new TestScheduler(master.address);
    const extra: (TestAgent | TestScheduler)[] = [];
    try {
      const agentId = await agent.register(RES, {}, undefined, clock);
      const fwId = await sched.subscribe({ name: 'svc', failoverTimeoutSeconds: 3600 }, clock);
      const [o] = await sched.offers(clock);
      sched.launch([o?.id?.value ?? ''], [task('keeps.1'), task('ends.1')]);
      await agent.take('RUN_TASK', (e) => e.type === AgentEventType.RUN_TASK && e.runTask?.task?.taskId?.value === 'keeps.1', clock);
      await agent.take('RUN_TASK', (e) => e.type === AgentEventType.RUN_TASK && e.runTask?.task?.taskId?.value === 'ends.1', clock);
      agent.status(fwId, 'keeps.1', TaskState.TASK_RUNNING);
      agent.status(fwId, 'ends.1', TaskState.TASK_RUNNING);
      const [left] = await sched.offers(clock);
      assert.ok(left, 'the leftovers are offered');

      await assert.rejects(op.drainAgent('agent-nope', 5), /not known/);
      await assert.rejects(op.drainAgent(agentId, -1), /grace_seconds/);
      const res = await op.drainAgent(agentId, 30);
      assert.equal(res.agent?.drain, Drain.DRAINING);
      const r = await sched.take('RESCIND', (e) => e.type === EventType.RESCIND, clock);
      assert.equal(r.rescind?.offerId?.value, left?.id?.value);
      // One task finishes by itself; nothing is offered meanwhile.
      agent.status(fwId, 'ends.1', TaskState.TASK_FINISHED);
      await sched.update((s) => s.taskId?.value === 'ends.1' && s.state === TaskState.TASK_FINISHED, clock);
      await pass(clock, 25_000, agent);
      assert.ok(!sched.has((e) => e.type === EventType.OFFERS), 'a draining agent is not offered');
      assert.ok(!agent.has((e) => e.type === AgentEventType.KILL_TASK), 'not killed before the grace period');
      await pass(clock, 6_000, agent);
      const k = await agent.take('KILL_TASK', (e) => e.type === AgentEventType.KILL_TASK, clock);
      assert.equal(k.killTask?.taskId?.value, 'keeps.1');
      agent.status(fwId, 'keeps.1', TaskState.TASK_KILLED);
      const killed = await sched.update((s) => s.taskId?.value === 'keeps.1' && s.state === TaskState.TASK_KILLED, clock);
      assert.equal(killed.reason, TaskStatusReason.REASON_AGENT_DRAINING);
      assert.ok(killed.uuid.length > 0, "the agent's update, acknowledged as usual");
      await until('drained', async () => (await op.getAgents()).agents[0]?.drain === Drain.DRAINED);

      // Persisted: after a restart the agent is still drained and still not offered.
      for (const c of [agent, sched]) c.close();
      op.close();
      await master.stop();
      ({ master, op } = await boot(clock, { workDir, offerTimeoutSeconds: 3600 }));
      const a2 = new TestAgent(master.address);
      const s2 = new TestScheduler(master.address);
      extra.push(a2, s2);
      await a2.register(RES, {}, agentId, clock);
      await s2.subscribe({ name: 'svc', id: { value: fwId }, failoverTimeoutSeconds: 3600 }, clock);
      await pass(clock, 3_000, a2);
      assert.equal((await op.getAgents()).agents[0]?.drain, Drain.DRAINED);
      assert.ok(!s2.has((e) => e.type === EventType.OFFERS));
      const re = await op.reactivateAgent(agentId);
      assert.equal(re.agent?.drain, Drain.NOT_DRAINING);
      const [again] = await s2.offers(clock);
      assert.equal(resources.scalarOf(again?.resources ?? [], 'cpus'), 4);
    } finally {
      for (const c of [agent, sched, ...extra]) c.close();
      op.close();
      await master.stop();
    }
  });
});

describe('silence timed per agent (fake clock)', () => {
  test('an agent is unreachable at its own deadline, ping timeout after it was last heard, without waiting for a sweep', async () => {
    const clock = new FakeClock(Date.now());
    // No housekeeping tick for a minute: only the per-agent deadline can notice the silence.
    const { master, op } = await boot(clock, { allocationIntervalMs: 60_000 });
    const quiet = new TestAgent(master.address);
    const chatty = new TestAgent(master.address);
    try {
      const quietId = await quiet.register(RES, {}, undefined, clock);
      await chatty.register(RES, {}, undefined, clock);
      const active = async (id: string): Promise<boolean> => (await op.getAgents()).agents.find((a) => a.agentInfo?.id?.value === id)?.active ?? false;
      // 9.9 s of silence for one, heartbeats from the other.
      for (let t = 0; t < 9900; t += 900) {
        chatty.send({ type: 2 });
        await sleep(5);
        clock.advance(Math.min(900, 9900 - t));
      }
      await sleep(10);
      assert.equal(await active(quietId), true, 'not before the ping timeout');
      clock.advance(150);
      let gone = false;
      for (let i = 0; i < 100 && !gone; i++) {
        await sleep(20);
        gone = !(await active(quietId));
      }
      assert.ok(gone, 'unreachable just past its deadline');
      const chattyAgent = (await op.getAgents()).agents.find((a) => a.agentInfo?.id?.value !== quietId);
      assert.equal(chattyAgent?.active, true, 'the agent that heartbeats stays active');
    } finally {
      quiet.close();
      chatty.close();
      op.close();
      await master.stop();
    }
  });
});

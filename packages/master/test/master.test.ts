import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  agora, AgentEventType, CallType, EventType, FakeClock, OperatorClient, TaskState, TaskStatusReason, resources, silentLogger,
} from '@agora/core';
import { startMaster, type Master, type MasterOptions } from '@agora/master';
import { TestAgent, TestScheduler, rawStream, sleep, until } from './helpers.js';

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'agora-master-'));
  dirs.push(d);
  return d;
}

async function boot(extra: MasterOptions = {}): Promise<{ master: Master; op: OperatorClient; workDir: string }> {
  const workDir = extra.workDir ?? await tempDir();
  const master = await startMaster({ port: 0, workDir, logger: silentLogger(), allocationBatchMs: 1, ...extra });
  return { master, op: new OperatorClient(master.address), workDir };
}

/** No agent is ever promised more than it has: offered + allocated fit in the total. */
async function checkLedger(op: OperatorClient): Promise<void> {
  for (const a of (await op.getState()).agents) {
    const used = resources.add(a.allocatedResources ?? [], a.offeredResources ?? []);
    assert.ok(resources.contains(a.totalResources ?? [], used), `agent ${a.agentInfo?.id?.value} over-committed: ${resources.formatResources(used)} of ${resources.formatResources(a.totalResources ?? [])}`);
  }
}

const task = (id: string, res = 'cpus:1;mem:128', extra: agora.v1.TaskInfo.$Properties = {}): agora.v1.TaskInfo.$Properties =>
  ({ name: id, taskId: { value: id }, resources: resources.parseResources(res), command: { value: 'sleep 100' }, ...extra });

describe('master over gRPC', () => {
  test('register, subscribe, offer, launch, status update and acknowledgement', async () => {
    const { master, op } = await boot();
    const agent = new TestAgent(master.address);
    const sched = new TestScheduler(master.address);
    try {
      const agentId = await agent.register();
      assert.match(agentId, /^agent-/);
      const fwId = await sched.subscribe({ name: 'web', roles: ['*'] });
      assert.match(fwId, /^fw-/);
      const [offer] = await sched.offers();
      assert.ok(offer);
      assert.equal(offer.agentId?.value, agentId);
      assert.equal(offer.allocationInfo?.role, '*');
      assert.equal(resources.scalarOf(offer.resources, 'cpus'), 4);
      assert.ok(offer.resources.every((r) => r.allocationInfo?.role === '*'));

      sched.launch([offer.id?.value ?? ''], [task('web.1', 'cpus:1;mem:128;ports:[31000-31000]')]);
      const run = await agent.take('RUN_TASK', (e) => e.type === AgentEventType.RUN_TASK);
      assert.equal(run.runTask?.task?.taskId?.value, 'web.1');
      assert.equal(run.runTask?.task?.agentId?.value, agentId);
      assert.equal(run.runTask?.framework?.id?.value, fwId);

      // Leftovers come back at once (refuse_seconds 0) as a fresh offer.
      const [again] = await sched.offers();
      assert.equal(resources.scalarOf(again?.resources ?? [], 'cpus'), 3);
      assert.equal(resources.formatResources(resources.stripAllocation(again?.resources ?? []).filter((r) => r.name === 'ports')), 'ports:[31001-31009]');

      const uuid = agent.status(fwId, 'web.1', TaskState.TASK_RUNNING);
      const st = await sched.update((s) => s.taskId?.value === 'web.1');
      assert.equal(st.state, TaskState.TASK_RUNNING);
      assert.deepEqual(Buffer.from(st.uuid), Buffer.from(uuid));
      sched.do({ type: CallType.ACKNOWLEDGE, acknowledge: { agentId: { value: agentId }, taskId: { value: 'web.1' }, uuid } });
      const ack = await agent.take('ACKNOWLEDGE', (e) => e.type === AgentEventType.ACKNOWLEDGE);
      assert.equal(ack.acknowledge?.taskId?.value, 'web.1');
      assert.deepEqual(Buffer.from(ack.acknowledge?.uuid ?? []), Buffer.from(uuid));

      const state = await op.getState();
      assert.equal(state.tasks.length, 1);
      assert.equal(state.tasks[0]?.state, TaskState.TASK_RUNNING);
      const a = state.agents[0];
      assert.equal(resources.scalarOf(a?.allocatedResources ?? [], 'cpus'), 1);
      assert.equal(resources.scalarOf(a?.offeredResources ?? [], 'cpus'), 3);
      assert.equal(resources.scalarOf(a?.totalResources ?? [], 'cpus'), 4);
      assert.equal(state.frameworks[0]?.taskCount, 1);
      assert.ok((state.frameworks[0]?.dominantShare ?? 0) > 0.99);

      // Kill → KILL_TASK; the agent's TASK_KILLED frees the resources.
      sched.do({ type: CallType.KILL, kill: { taskId: { value: 'web.1' } } });
      await agent.take('KILL_TASK', (e) => e.type === AgentEventType.KILL_TASK && e.killTask?.taskId?.value === 'web.1');
      agent.status(fwId, 'web.1', TaskState.TASK_KILLED);
      await sched.update((s) => s.state === TaskState.TASK_KILLED);
      const tasks = await op.getTasks({ includeCompleted: true });
      assert.equal(tasks.total, 1);
      assert.equal(tasks.tasks[0]?.state, TaskState.TASK_KILLED);

      // Reconciliation: implicit (nothing live), explicit (known terminal and unknown).
      sched.do({ type: CallType.RECONCILE, reconcile: { tasks: [{ taskId: { value: 'web.1' } }, { taskId: { value: 'nope' } }] } });
      const r1 = await sched.update((s) => s.taskId?.value === 'web.1' && s.reason === TaskStatusReason.REASON_RECONCILIATION);
      assert.equal(r1.state, TaskState.TASK_KILLED);
      const r2 = await sched.update((s) => s.taskId?.value === 'nope');
      assert.equal(r2.state, TaskState.TASK_LOST);
      assert.equal(r2.uuid.length, 0);

      const metrics = Object.fromEntries((await op.getMetrics()).metrics.map((x) => [x.name, x.value]));
      assert.equal(metrics['master/tasks_launched'], 1);
      assert.equal(metrics['master/agents_active'], 1);
      assert.equal(metrics['master/frameworks_active'], 1);
      assert.ok((metrics['master/offers_sent'] ?? 0) >= 2);
      assert.ok((metrics['master/allocation_runs'] ?? 0) >= 1);
      assert.equal(metrics['master/status_updates_forwarded'], 2);
      await checkLedger(op);
    } finally {
      sched.close(); agent.close(); op.close();
      await master.stop();
    }
  });

  test('bad input of every kind is answered and the master keeps serving', async () => {
    const { master, op } = await boot();
    const a1 = new TestAgent(master.address);
    const a2 = new TestAgent(master.address);
    const s1 = new TestScheduler(master.address);
    const s2 = new TestScheduler(master.address);
    try {
      await a1.register('cpus:4;mem:1024;ports:[31000-31009]');
      await a2.register('cpus:4;mem:1024;ports:[31000-31009]');
      // The first framework gets both agents; once the second arrives, declines hand it one.
      await s1.subscribe({ name: 'one' });
      const offers1 = await s1.offers();
      assert.equal(offers1.length, 2, 'one OFFERS event holds the round');
      await s2.subscribe({ name: 'two' });
      const [keep, give] = offers1 as [agora.v1.Offer, agora.v1.Offer];
      s1.do({ type: CallType.DECLINE, decline: { offerIds: [give.id as agora.v1.OfferID], filters: { refuseSeconds: 60 } } });
      const [o2] = await s2.offers();
      assert.equal(o2?.agentId?.value, give.agentId?.value);
      const k = keep.id?.value ?? '';

      // Unknown offer and another framework's offer → TASK_DROPPED naming the offer.
      s1.launch(['o-nope'], [task('t-a')]);
      const dropped = await s1.update((s) => s.taskId?.value === 't-a');
      assert.equal(dropped.state, TaskState.TASK_DROPPED);
      assert.equal(dropped.reason, TaskStatusReason.REASON_INVALID_OFFERS);
      assert.match(dropped.message, /offer 'o-nope' is not outstanding/);
      s1.launch([o2?.id?.value ?? ''], [task('t-b')]);
      assert.match((await s1.update((s) => s.taskId?.value === 't-b')).message, /was made to another framework/);
      // s2's offer was not touched by s1's attempt: s2 can still use it.
      s2.launch([o2?.id?.value ?? ''], [task('t-two')]);
      await a2.take('RUN_TASK two', (e) => e.type === AgentEventType.RUN_TASK && e.runTask?.task?.taskId?.value === 't-two');

      // One accept, many bad tasks (each refused by name), one good one.
      s1.launch([k], [
        task('too-big', 'cpus:100;mem:128'),
        task('negative', 'cpus:1', { resources: [{ name: 'cpus', type: 1, scalar: { value: -1 } }] }),
        task('nan', 'cpus:1', { resources: [{ name: 'mem', type: 1, scalar: { value: NaN } }] }),
        task('huge', 'cpus:1', { resources: [{ name: 'mem', type: 1, scalar: { value: 1e300 } }] }),
        task('bad-port', 'cpus:1;ports:[80-80]'),
        task('both', 'cpus:1', { executor: { executorId: { value: 'e' }, command: { value: 'x' } } }),
        task('ok', 'cpus:1;mem:128'),
        task('ok', 'cpus:1;mem:128'),
      ]);
      const expect: [string, RegExp][] = [
        ['too-big', /task 'too-big' asks for cpus:100 but offer o-\S+ holds cpus:4/],
        ['negative', /resource 'cpus' is negative/],
        ['nan', /non-finite value \(NaN\)/],
        ['huge', /impossibly large/],
        ['bad-port', /ports \[80\] outside the offered ranges \[31000-31009\]/],
        ['both', /exactly one of command and executor/],
      ];
      for (const [id, re] of expect) {
        const s = await s1.update((x) => x.taskId?.value === id);
        assert.equal(s.state, TaskState.TASK_ERROR, id);
        assert.equal(s.reason, TaskStatusReason.REASON_TASK_INVALID);
        assert.match(s.message, re);
      }
      const dup = await s1.update((x) => x.taskId?.value === 'ok' && x.state === TaskState.TASK_ERROR);
      assert.match(dup.message, /task_id is already used/);
      await a1.take('RUN_TASK ok', (e) => e.type === AgentEventType.RUN_TASK && e.runTask?.task?.taskId?.value === 'ok');

      // Calls without the framework ID, before SUBSCRIBE, unsupported operations.
      s1.send({ type: CallType.REVIVE });
      assert.match(await s1.errorEvent(/framework_id must be/), /REVIVE: call.framework_id must be 'fw-/);
      const stray = new TestScheduler(master.address);
      stray.send({ type: CallType.ACCEPT, accept: {} });
      assert.match(await stray.errorEvent(/first call/), /must be SUBSCRIBE, got ACCEPT/);
      await until('stray closed', () => stray.ended || stray.error);
      stray.close();
      const ghost = new TestScheduler(master.address);
      await assert.rejects(ghost.subscribe({ name: 'g', id: { value: 'fw-never' } }), /framework 'fw-never' is unknown/);
      ghost.close();
      const nameless = new TestScheduler(master.address);
      await assert.rejects(nameless.subscribe({ name: '' }), /framework_info.name is empty/);
      nameless.close();
      s1.do({ type: CallType.ACKNOWLEDGE, acknowledge: { taskId: { value: 'ok' } } });
      assert.match(await s1.errorEvent(/uuid is empty/), /acknowledge.uuid is empty/);
      s1.do({ type: CallType.KILL, kill: { taskId: { value: 'ghost-task' } } });
      const lost = await s1.update((s) => s.taskId?.value === 'ghost-task');
      assert.equal(lost.state, TaskState.TASK_LOST);

      // Garbage and truncated bytes on both streams: that call fails, nobody else notices.
      const good = Buffer.from(agora.v1.CallBatch.encode({ calls: [{ type: CallType.SUBSCRIBE, subscribe: { frameworkInfo: { name: 'x'.repeat(50) } } }] }).finish());
      for (const method of ['/agora.v1.Scheduler/Connect', '/agora.v1.AgentLink/Connect']) {
        for (const bytes of [Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x07]), good.subarray(0, good.length - 7)]) {
          const raw = rawStream(master.address, method);
          raw.call.write(bytes);
          const st = await raw.status;
          assert.notEqual(st.code, 0, `${method} must fail on garbage`);
          raw.client.close();
        }
      }
      // An agent REGISTER with nonsense resources is refused by field.
      const badAgent = new TestAgent(master.address);
      badAgent.send({ type: 1, register: { agentInfo: { resources: [{ name: 'cpus', type: 1, scalar: { value: -4 } }] } } });
      const err = await badAgent.take('agent ERROR', (e) => e.type === AgentEventType.ERROR);
      assert.match(err.error?.message ?? '', /agent_info resources\[0\]: resource 'cpus' is negative/);
      badAgent.close();

      // Still serving: health, reconciliation, offers.
      assert.equal((await op.getHealth()).healthy, true);
      s1.do({ type: CallType.RECONCILE, reconcile: {} });
      const rec = await s1.update((s) => s.taskId?.value === 'ok' && s.reason === TaskStatusReason.REASON_RECONCILIATION);
      assert.equal(rec.state, TaskState.TASK_STAGING);
      const metrics = Object.fromEntries((await op.getMetrics()).metrics.map((x) => [x.name, x.value]));
      assert.equal(metrics['master/tasks_launched'], 2);
      assert.ok((metrics['master/tasks_error'] ?? 0) >= 7);
      await checkLedger(op);
    } finally {
      for (const c of [s1, s2, a1, a2]) c.close();
      op.close();
      await master.stop();
    }
  });

  test('task groups, custom executors, messages and shutdown reach the agent', async () => {
    const { master, op } = await boot();
    const agent = new TestAgent(master.address);
    const sched = new TestScheduler(master.address);
    try {
      const agentId = await agent.register('cpus:4;mem:1024');
      const fwId = await sched.subscribe({ name: 'groups' });
      const [o] = await sched.offers();
      const executor = { executorId: { value: 'grp-ex' }, resources: resources.parseResources('cpus:0.5;mem:32') };
      sched.do({ type: CallType.ACCEPT, accept: { offerIds: [o!.id!], operations: [
        { type: 2, launchGroup: { executor, taskGroup: { tasks: [task('g1', 'cpus:1;mem:64'), task('g2', 'cpus:1;mem:64')] } } },
        { type: 2, launchGroup: { executor: { executorId: { value: 'grp-2' } }, taskGroup: { tasks: [task('h1', 'cpus:1;mem:64'), task('h2', 'cpus:9;mem:64')] } } },
        { type: 1, launch: { taskInfos: [task('c1', 'cpus:0.5;mem:64', { command: undefined, executor: { executorId: { value: 'my-ex' }, command: { value: './my-executor' }, resources: resources.parseResources('cpus:0.1;mem:32') } })] } },
        { type: 3, reserve: { resources: resources.parseResources('cpus:1') } },
      ], filters: { refuseSeconds: 0 } } });
      const g = await agent.take('RUN_TASK_GROUP', (e) => e.type === AgentEventType.RUN_TASK_GROUP);
      assert.deepEqual(g.runTaskGroup?.taskGroup?.tasks?.map((t) => t.taskId?.value), ['g1', 'g2']);
      assert.equal(g.runTaskGroup?.executor?.frameworkId?.value, fwId);
      assert.equal(g.runTaskGroup?.executor?.type, agora.v1.ExecutorInfo.Type.DEFAULT);
      // One bad task refuses its whole group.
      for (const id of ['h1', 'h2']) {
        const s = await sched.update((x) => x.taskId?.value === id);
        assert.equal(s.state, TaskState.TASK_ERROR);
        assert.match(s.message, /whole group is refused/);
      }
      const c = await agent.take('RUN_TASK custom', (e) => e.type === AgentEventType.RUN_TASK);
      assert.equal(c.runTask?.task?.executor?.executorId?.value, 'my-ex');
      assert.equal(c.runTask?.task?.executor?.frameworkId?.value, fwId);
      // RESERVE is validated: this framework has no principal, so it is refused with a reason.
      assert.match(await sched.errorEvent(/principal/), /operations\[\d\]\.reserve: the framework has no principal/);
      // Executor resources are held: 1 + 1 + 0.5 (group executor) + 0.5 + 0.1.
      const st = await op.getState();
      assert.equal(resources.scalarOf(st.agents[0]?.offeredResources ?? [], 'cpus'), 0.9);
      const [again] = await sched.offers();
      assert.deepEqual(again?.executorIds.map((e) => e.value).sort(), ['grp-ex', 'my-ex']);

      sched.do({ type: CallType.MESSAGE, message: { agentId: { value: agentId }, executorId: { value: 'my-ex' }, data: Buffer.from('hi') } });
      const fm = await agent.take('FRAMEWORK_MESSAGE', (e) => e.type === AgentEventType.FRAMEWORK_MESSAGE);
      assert.equal(Buffer.from(fm.frameworkMessage?.data ?? []).toString(), 'hi');
      agent.send({ type: 4, executorMessage: { frameworkId: { value: fwId }, executorId: { value: 'my-ex' }, data: Buffer.from('yo') } });
      const em = await sched.take('MESSAGE', (e) => e.type === EventType.MESSAGE);
      assert.equal(Buffer.from(em.message?.data ?? []).toString(), 'yo');
      assert.equal(em.message?.agentId?.value, agentId);
      sched.do({ type: CallType.SHUTDOWN, shutdown: { agentId: { value: agentId }, executorId: { value: 'my-ex' } } });
      const sd = await agent.take('SHUTDOWN_EXECUTOR', (e) => e.type === AgentEventType.SHUTDOWN_EXECUTOR);
      assert.equal(sd.shutdownExecutor?.executorId?.value, 'my-ex');
      sched.do({ type: CallType.MESSAGE, message: { agentId: { value: 'agent-nope' }, executorId: { value: 'x' } } });
      assert.match(await sched.errorEvent(/agent-nope/), /message.agent_id 'agent-nope' is not a known agent/);

      // The group's tasks finish: the tasks' resources come back; the executor's own only once
      // the agent reports it gone (an idle executor still runs, as in Mesos).
      agent.status(fwId, 'g1', TaskState.TASK_FINISHED);
      agent.status(fwId, 'g2', TaskState.TASK_FINISHED);
      await sched.update((x) => x.taskId?.value === 'g2');
      await sleep(20);
      const cpusAllocated = async (): Promise<number> => resources.scalarOf((await op.getState()).agents[0]?.allocatedResources ?? [], 'cpus');
      assert.equal(await cpusAllocated(), 1.1, 'task c1 + its executor + the idle group executor');
      agent.send({ type: 5, executorExited: { frameworkId: { value: fwId }, executorId: { value: 'grp-ex' } } });
      for (let i = 0; i < 100 && (await cpusAllocated()) !== 0.6; i++) await sleep(20);
      assert.equal(await cpusAllocated(), 0.6, 'task c1 + its executor; the group executor is freed');
      await checkLedger(op);
      // Operator paging and filters, and Teardown of an unknown framework.
      const page = await op.getTasks({ includeCompleted: true, limit: 2, offset: 1 });
      assert.equal(page.total, 3, "c1 live, g1 and g2 completed (refused tasks never enter the table)");
      assert.equal(page.tasks.length, 2);
      const finished = await op.getTasks({ states: [TaskState.TASK_FINISHED] });
      assert.deepEqual(finished.tasks.map((t) => t.taskId?.value).sort(), ['g1', 'g2']);
      await assert.rejects(op.teardown('fw-nope'), /framework 'fw-nope' is not known/);
      // Status updates for an unknown framework are acknowledged by the master itself.
      const uuid = agent.status('fw-gone', 'zz', TaskState.TASK_FINISHED);
      const ack = await agent.take('self-ack', (e) => e.type === AgentEventType.ACKNOWLEDGE && e.acknowledge?.taskId?.value === 'zz');
      assert.deepEqual(Buffer.from(ack.acknowledge?.uuid ?? []), Buffer.from(uuid));
    } finally {
      sched.close(); agent.close(); op.close();
      await master.stop();
    }
  });

  test('a restarted master keeps framework and agent IDs and rebuilds tasks from the agent', async () => {
    const workDir = await tempDir();
    let { master, op } = await boot({ workDir });
    const agent = new TestAgent(master.address);
    const sched = new TestScheduler(master.address);
    const agentId = await agent.register();
    const fwId = await sched.subscribe({ name: 'keeper', failoverTimeoutSeconds: 3600 });
    const [offer] = await sched.offers();
    sched.launch([offer?.id?.value ?? ''], [task('keep.1', 'cpus:2;mem:256')]);
    await agent.take('RUN_TASK', (e) => e.type === AgentEventType.RUN_TASK);
    sched.close(); agent.close(); op.close();
    await master.stop();

    ({ master, op } = await boot({ workDir }));
    try {
      const frameworks = await op.getFrameworks();
      assert.deepEqual(frameworks.frameworks.map((f) => [f.frameworkInfo?.id?.value, f.connected]), [[fwId, false]]);
      const a2 = new TestAgent(master.address);
      const again = await a2.register('cpus:4;mem:1024;ports:[31000-31009]', {
        tasks: [{ taskId: { value: 'keep.1' }, frameworkId: { value: fwId }, agentId: { value: agentId }, executorId: { value: 'keep.1' }, state: TaskState.TASK_RUNNING, resources: resources.parseResources('cpus:2;mem:256') }],
      }, agentId);
      assert.equal(again, agentId);
      const s2 = new TestScheduler(master.address);
      assert.equal(await s2.subscribe({ name: 'keeper', id: { value: fwId }, failoverTimeoutSeconds: 3600 }), fwId);
      const [o] = await s2.offers();
      assert.equal(resources.scalarOf(o?.resources ?? [], 'cpus'), 2, 'the recovered task keeps its share of the agent');
      const tasks = await op.getTasks({ frameworkId: { value: fwId } });
      assert.equal(tasks.tasks[0]?.state, TaskState.TASK_RUNNING);
      // A second scheduler with the same ID fails the first over.
      const s3 = new TestScheduler(master.address);
      await s3.subscribe({ name: 'keeper', id: { value: fwId } });
      assert.match(await s2.errorEvent(/failed over/), /framework failed over/);
      await until('old stream closed', () => s2.ended || s2.error);
      // Teardown: the agent is told to shut the framework down; the ID is then unknown.
      s3.do({ type: CallType.TEARDOWN });
      await a2.take('SHUTDOWN_FRAMEWORK', (e) => e.type === AgentEventType.SHUTDOWN_FRAMEWORK && e.shutdownFramework?.frameworkId?.value === fwId);
      await until('torn down', () => s3.ended || s3.error);
      const s4 = new TestScheduler(master.address);
      await assert.rejects(s4.subscribe({ name: 'keeper', id: { value: fwId } }), /unknown to this master or was torn down/);
      for (const c of [a2, s2, s3, s4]) c.close();
    } finally {
      op.close();
      await master.stop();
    }
  });
});

describe('timeouts (fake clock)', () => {
  test('offer timeout rescinds; decline filters until refuse_seconds; revive clears', async () => {
    const clock = new FakeClock(Date.now());
    const { master, op } = await boot({ clock, offerTimeoutSeconds: 30, agentPingTimeoutSeconds: 1000, heartbeatIntervalSeconds: 100 });
    const agent = new TestAgent(master.address);
    const sched = new TestScheduler(master.address);
    try {
      await agent.register('cpus:4;mem:1024', {}, undefined, clock);
      await sched.subscribe({ name: 'slow' }, clock);
      const [o] = await sched.offers(clock);
      clock.advance(29_000);
      assert.ok(!sched.has((e) => e.type === EventType.RESCIND));
      clock.advance(1_001);
      const r = await sched.take('RESCIND', (e) => e.type === EventType.RESCIND, clock);
      assert.equal(r.rescind?.offerId?.value, o?.id?.value);
      // Rescinded resources come back as a new offer.
      const [o2] = await sched.offers(clock);
      sched.do({ type: CallType.DECLINE, decline: { offerIds: [{ value: o2?.id?.value ?? '' }], filters: { refuseSeconds: 10 } } });
      await sleep(20);
      clock.advance(9_000);
      await sleep(20);
      assert.ok(!sched.has((e) => e.type === EventType.OFFERS), 'filtered for 10 s');
      clock.advance(1_100);
      await sched.offers(clock);
      // Decline again for a long time, then REVIVE brings it back at once.
      const st = await op.getState();
      const outstanding = st.offers[0]?.id?.value ?? '';
      sched.do({ type: CallType.DECLINE, decline: { offerIds: [{ value: outstanding }], filters: { refuseSeconds: 3600 } } });
      await sleep(20);
      clock.advance(2_000);
      await sleep(20);
      assert.ok(!sched.has((e) => e.type === EventType.OFFERS));
      sched.do({ type: CallType.REVIVE });
      await sched.offers(clock);
      // SUPPRESS: nothing more is offered even when filters lapse.
      sched.do({ type: CallType.SUPPRESS });
      const st2 = await op.getState();
      sched.do({ type: CallType.DECLINE, decline: { offerIds: [{ value: st2.offers[0]?.id?.value ?? '' }], filters: { refuseSeconds: 0 } } });
      await sleep(20);
      clock.advance(3_000);
      await sleep(20);
      assert.ok(!sched.has((e) => e.type === EventType.OFFERS));
      assert.equal((await op.getFrameworks()).frameworks[0]?.suppressed, true);
      // Heartbeats flow on the interval.
      clock.advance(100_000);
      await sched.take('HEARTBEAT', (e) => e.type === EventType.HEARTBEAT, clock);
    } finally {
      sched.close(); agent.close(); op.close();
      await master.stop();
    }
  });

  test('a silent agent goes inactive and its offers are rescinded; a gone framework is torn down after failover', async () => {
    const clock = new FakeClock(Date.now());
    const { master, op } = await boot({ clock, agentPingTimeoutSeconds: 10, heartbeatIntervalSeconds: 100 });
    const agent = new TestAgent(master.address);
    const quiet = new TestAgent(master.address);
    const sched = new TestScheduler(master.address);
    try {
      await agent.register('cpus:4;mem:1024', {}, undefined, clock);
      const quietId = await quiet.register('cpus:1;mem:64', {}, undefined, clock);
      const fwId = await sched.subscribe({ name: 'f', failoverTimeoutSeconds: 30 }, clock);
      const offers = await sched.offers(clock);
      assert.equal(offers.length, 2);
      // Only `agent` heartbeats.
      for (let i = 0; i < 12; i++) {
        agent.send({ type: 2 });
        await sleep(5);
        clock.advance(1_000);
      }
      const r = await sched.take('RESCIND', (e) => e.type === EventType.RESCIND, clock);
      assert.equal(r.rescind?.offerId?.value, offers.find((o) => o.agentId?.value === quietId)?.id?.value);
      const agents = await op.getAgents();
      assert.deepEqual(agents.agents.map((a) => a.active).sort(), [false, true]);
      // The scheduler goes away: after 30 s the framework is torn down and agents told so.
      sched.close();
      await sleep(50);
      assert.equal((await op.getFrameworks()).frameworks[0]?.connected, false);
      const pass = async (ms: number) => {
        for (let t = 0; t < ms; t += 1000) {
          agent.send({ type: 2 });
          await sleep(3);
          clock.advance(Math.min(1000, ms - t));
        }
      };
      await pass(29_000);
      assert.equal((await op.getFrameworks()).frameworks.length, 1);
      assert.ok(!agent.has((e) => e.type === AgentEventType.SHUTDOWN_FRAMEWORK));
      await pass(1_500);
      await agent.take('SHUTDOWN_FRAMEWORK', (e) => e.type === AgentEventType.SHUTDOWN_FRAMEWORK && e.shutdownFramework?.frameworkId?.value === fwId);
      assert.equal((await op.getFrameworks()).frameworks.length, 0);
    } finally {
      quiet.close(); agent.close(); op.close();
      await master.stop();
    }
  });
});

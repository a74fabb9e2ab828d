import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ExecutorCallType, ExecutorEventType, TaskStatusSource, uuidHex } from '@agora/core';
import { ExecutorDriver, TaskState, type ExecutorDriverEvent, type TaskInfo } from '../src/index.js';
import { FakeAgent, deadAddress, sleep, until } from './fakes.js';

const task = (id: string): TaskInfo => ({ name: id, taskId: { value: id }, agentId: { value: 'agent-1' } });

describe('ExecutorDriver', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  after(async () => { for (const f of cleanup.reverse()) await f(); });

  async function setup() {
    const agent = await new FakeAgent().start();
    cleanup.push(() => agent.stop());
    const env = { AGORA_AGENT_ENDPOINT: agent.address, AGORA_FRAMEWORK_ID: 'fw-1', AGORA_EXECUTOR_ID: 'ex-1', AGORA_AGENT_ID: 'agent-1', AGORA_LOG_LEVEL: 'silent' };
    return { agent, env };
  }

  it('start() names the missing environment variables', async () => {
    const driver = new ExecutorDriver({ env: { AGORA_FRAMEWORK_ID: 'fw' }, exitOnShutdown: false });
    await assert.rejects(driver.start(), /AGORA_AGENT_ENDPOINT, AGORA_EXECUTOR_ID not set; an executor must be started by an Agora agent/);
  });

  it('subscribes, receives tasks, and sends complete status updates that the agent acknowledges', async () => {
    const { agent, env } = await setup();
    const launched: string[] = [];
    let subscribedAgent = '';
    const driver = new ExecutorDriver({
      env,
      exitOnShutdown: false,
      callbacks: {
        subscribed: (_d, info) => { subscribedAgent = info.agentInfo.id?.value ?? ''; },
        launchTask: (d, t) => {
          launched.push(t.taskId?.value ?? '');
          d.sendStatusUpdate({ taskId: t.taskId?.value ?? '', state: TaskState.TASK_RUNNING, message: 'up', healthy: true });
        },
      },
    });
    cleanup.push(() => driver.stop());
    await driver.start();
    const sub = agent.callsOf(ExecutorCallType.SUBSCRIBE)[0];
    assert.equal(sub?.frameworkId?.value, 'fw-1');
    assert.equal(sub?.executorId?.value, 'ex-1');
    agent.send({ type: ExecutorEventType.LAUNCH, launch: { task: task('t-1') } });
    const update = await until('UPDATE', () => agent.callsOf(ExecutorCallType.UPDATE)[0]);
    assert.deepEqual(launched, ['t-1']);
    assert.equal(subscribedAgent, 'agent-1');
    const st = update.update?.status;
    assert.equal(st?.taskId?.value, 't-1');
    assert.equal(st?.state, TaskState.TASK_RUNNING);
    assert.equal(st?.source, TaskStatusSource.SOURCE_EXECUTOR);
    assert.equal(st?.executorId?.value, 'ex-1');
    assert.equal(st?.agentId?.value, 'agent-1');
    assert.equal(st?.message, 'up');
    assert.equal(st?.healthy, true);
    assert.equal(st?.uuid?.length, 16);
    assert.ok(Math.abs((st?.timestamp ?? 0) - Date.now() / 1000) < 5);
    await until('acknowledged', () => driver.pendingUpdates === 0);
  });

  it('re-sends unacknowledged updates and unreported tasks in SUBSCRIBE after a reconnect', async () => {
    const { agent, env } = await setup();
    agent.autoAck = false;
    const driver = new ExecutorDriver({ env, exitOnShutdown: false, reconnectMinMs: 10, reconnectMaxMs: 20 });
    cleanup.push(() => driver.stop());
    const events = driver.events();
    await driver.start();
    agent.send(
      { type: ExecutorEventType.LAUNCH, launch: { task: task('t-1') } },
      { type: ExecutorEventType.LAUNCH, launch: { task: task('t-2') } },
    );
    await events.next(); // subscribed
    await events.next(); // t-1
    await events.next(); // t-2
    driver.sendStatusUpdate({ taskId: 't-1', state: TaskState.TASK_RUNNING });
    const sent = await until('UPDATE', () => agent.callsOf(ExecutorCallType.UPDATE)[0]);
    agent.drop();
    // While disconnected, a new update waits for the next SUBSCRIBE.
    await until('a second stream', () => agent.callsOf(ExecutorCallType.SUBSCRIBE).length === 2);
    const again = agent.callsOf(ExecutorCallType.SUBSCRIBE)[1]?.subscribe;
    assert.deepEqual(again?.unacknowledgedUpdates?.map((u) => uuidHex(u.status?.uuid)), [uuidHex(sent.update?.status?.uuid)]);
    assert.deepEqual(again?.unacknowledgedTasks?.map((t) => t.taskId?.value), ['t-2']);
    assert.equal(driver.pendingUpdates, 1);
    agent.send({ type: ExecutorEventType.ACKNOWLEDGED, acknowledged: { taskId: { value: 't-1' }, uuid: sent.update?.status?.uuid ?? new Uint8Array() } });
    await until('acknowledged', () => driver.pendingUpdates === 0);
  });

  it('delivers kill and messages, sends framework messages, and stops on SHUTDOWN', async () => {
    const { agent, env } = await setup();
    const seen: string[] = [];
    const driver = new ExecutorDriver({
      env,
      exitOnShutdown: false,
      callbacks: {
        killTask: (d, id) => { seen.push(`kill:${id}`); d.sendStatusUpdate({ taskId: id, state: TaskState.TASK_KILLED }); },
        frameworkMessage: (d, data) => { seen.push(`message:${Buffer.from(data).toString()}`); d.sendFrameworkMessage(Buffer.from('pong')); },
        shutdown: () => { seen.push('shutdown'); },
      },
    });
    const events = driver.events();
    await driver.start();
    agent.send(
      { type: ExecutorEventType.KILL, kill: { taskId: { value: 't-9' } } },
      { type: ExecutorEventType.MESSAGE, message: { data: Buffer.from('ping') } },
      { type: ExecutorEventType.SHUTDOWN, shutdown: { gracePeriodSeconds: 1 } },
    );
    const types: ExecutorDriverEvent['type'][] = [];
    for await (const e of events) types.push(e.type);
    assert.deepEqual(types, ['subscribed', 'kill', 'message', 'shutdown']);
    assert.deepEqual(seen, ['kill:t-9', 'message:ping', 'shutdown']);
    const msg = agent.callsOf(ExecutorCallType.MESSAGE)[0];
    assert.equal(Buffer.from(msg?.message?.data ?? []).toString(), 'pong');
    assert.equal(agent.callsOf(ExecutorCallType.UPDATE)[0]?.update?.status?.state, TaskState.TASK_KILLED);
    assert.equal(driver.pendingUpdates, 0, 'the kill update was acknowledged before shutting down');
  });

  it('start() rejects when the agent refuses or cannot be reached', async () => {
    const dead = await deadAddress();
    const driver = new ExecutorDriver({
      env: { AGORA_AGENT_ENDPOINT: dead, AGORA_FRAMEWORK_ID: 'fw', AGORA_EXECUTOR_ID: 'ex' },
      exitOnShutdown: false, connectTimeoutMs: 200, reconnectMinMs: 10, reconnectMaxMs: 20,
    });
    await assert.rejects(driver.start(), /could not subscribe to the agent at .* within 200 ms/);

    const { agent, env } = await setup();
    agent.server.unregister('/agora.v1.Executor/Connect');
    agent.server.addService((await import('@agora/core')).ExecutorService, {
      connect: (stream: { write(b: unknown): void; end(): void; on(e: string, f: () => void): void }) => {
        stream.on('error', () => undefined);
        stream.on('data', () => { stream.write({ events: [{ type: ExecutorEventType.ERROR, error: { message: 'unknown executor' } }] }); stream.end(); });
      },
    });
    const refused = new ExecutorDriver({ env, exitOnShutdown: false });
    await assert.rejects(refused.start(), /refused executor 'ex-1' of framework 'fw-1': unknown executor/);
    await sleep(10);
  });
});

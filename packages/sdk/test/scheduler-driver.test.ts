import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { CallType, EventType, type Call } from '@agora/core';
import { SchedulerDriver, TaskState, type SchedulerEvent, type TaskStatus } from '../src/index.js';
import { FakeMaster, deadAddress, sleep, until } from './fakes.js';

const offer = (id: string) => ({ id: { value: id }, frameworkId: { value: 'fw-1' }, agentId: { value: 'a-1' }, hostname: 'h', resources: [] });
const uuid = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);

describe('SchedulerDriver', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  after(async () => { for (const f of cleanup.reverse()) await f(); });

  async function setup(opts: ConstructorParameters<typeof FakeMaster>[0] = {}) {
    const master = await new FakeMaster(opts).start();
    cleanup.push(() => master.stop());
    return master;
  }

  it('subscribes with defaults filled in and resolves with the framework ID', async () => {
    const master = await setup();
    const driver = new SchedulerDriver({ master: master.address, framework: { name: 'demo' } });
    cleanup.push(() => driver.stop({ failover: true }));
    assert.equal(await driver.start(), 'fw-1');
    assert.equal(driver.frameworkId, 'fw-1');
    assert.equal(driver.connected, true);
    const sub = master.callsOf(CallType.SUBSCRIBE)[0];
    const fi = sub?.subscribe?.frameworkInfo;
    assert.equal(fi?.name, 'demo');
    assert.deepEqual(fi?.roles, ['*']);
    assert.equal(fi?.user ?? '', '', 'no user by default: the agent picks one (a dynamic user on root agents)');
    assert.ok(fi?.hostname, 'hostname defaults to os.hostname()');
    assert.equal(fi?.id?.value ?? '', '', 'no id on a first subscription');
  });

  it('refuses bad options clearly', () => {
    assert.throws(() => new SchedulerDriver({ master: [], framework: { name: 'x' } }), /master/);
    assert.throws(() => new SchedulerDriver({ master: '127.0.0.1:1', framework: {} }), /framework\.name/);
    assert.throws(() => new SchedulerDriver({ master: 'nohost:port', framework: { name: 'x' } }), /HOST:PORT|port/);
  });

  it('delivers offers to the callback and to every events() iterator, in order', async () => {
    const master = await setup();
    const got: string[] = [];
    const driver = new SchedulerDriver({
      master: master.address,
      framework: { name: 'offers' },
      callbacks: { resourceOffers: (_d, offers) => { got.push(...offers.map((o) => o.id?.value ?? '')); } },
    });
    cleanup.push(() => driver.stop({ failover: true }));
    const it1 = driver.events();
    const it2 = driver.events();
    await driver.start();
    master.send({ type: EventType.OFFERS, offers: { offers: [offer('o-1'), offer('o-2')] } }, { type: EventType.RESCIND, rescind: { offerId: { value: 'o-1' } } });
    await until('offers callback', () => got.length === 2);
    assert.deepEqual(got, ['o-1', 'o-2']);
    for (const it of [it1, it2]) {
      const types: SchedulerEvent[] = [];
      for (let i = 0; i < 3; i++) types.push((await it.next()).value as SchedulerEvent);
      assert.deepEqual(types.map((e) => e.type), ['subscribed', 'offers', 'rescind']);
      assert.equal((types[2] as { offerId: string }).offerId, 'o-1');
    }
    await driver.stop({ failover: true });
    assert.equal((await it1.next()).done, true, 'events() ends on stop');
    assert.equal((await it2.next()).done, true);
  });

  it('acknowledges an update only after the statusUpdate callback resolved', async () => {
    const master = await setup();
    const callbackEnd = new Map<string, number>();
    const driver = new SchedulerDriver({
      master: master.address,
      framework: { name: 'acks' },
      callbacks: {
        async statusUpdate(_d, status) {
          await sleep(80);
          callbackEnd.set(status.taskId?.value ?? '', Date.now());
        },
      },
    });
    cleanup.push(() => driver.stop({ failover: true }));
    await driver.start();
    const status: TaskStatus = { taskId: { value: 't-1' }, agentId: { value: 'a-1' }, state: TaskState.TASK_RUNNING, uuid };
    master.send(
      { type: EventType.UPDATE, update: { status: { taskId: { value: 't-0' }, state: TaskState.TASK_LOST } } }, // no uuid: no ack
      { type: EventType.UPDATE, update: { status } },
    );
    const ack = await until('ACKNOWLEDGE', () => master.calls.find((c) => c.call.type === CallType.ACKNOWLEDGE));
    const ended = callbackEnd.get('t-1');
    assert.ok(ended !== undefined && ack.at >= ended, 'the ack left after the callback of t-1 resolved');
    const a = ack.call.acknowledge;
    assert.equal(ack.call.frameworkId?.value, 'fw-1');
    assert.equal(a?.taskId?.value, 't-1');
    assert.equal(a?.agentId?.value, 'a-1');
    assert.deepEqual([...(a?.uuid ?? [])], [...uuid]);
    await sleep(30);
    assert.equal(master.callsOf(CallType.ACKNOWLEDGE).length, 1, 'the uuid-less update is not acknowledged');
  });

  it('does not acknowledge when the callback throws or autoAcknowledge is false', async () => {
    const master = await setup();
    let seen = 0;
    const throwing = new SchedulerDriver({
      master: master.address, framework: { name: 'throws' },
      callbacks: { statusUpdate() { seen++; throw new Error('boom'); } },
    });
    cleanup.push(() => throwing.stop({ failover: true }));
    await throwing.start();
    master.send({ type: EventType.UPDATE, update: { status: { taskId: { value: 't' }, agentId: { value: 'a' }, state: TaskState.TASK_RUNNING, uuid } } });
    await until('callback', () => seen === 1);
    await throwing.stop({ failover: true });

    const manual = new SchedulerDriver({ master: master.address, framework: { name: 'manual' }, autoAcknowledge: false });
    cleanup.push(() => manual.stop({ failover: true }));
    const events = manual.events();
    await manual.start();
    master.send({ type: EventType.UPDATE, update: { status: { taskId: { value: 't' }, agentId: { value: 'a' }, state: TaskState.TASK_RUNNING, uuid } } });
    await events.next(); // subscribed
    const update = (await events.next()).value as SchedulerEvent;
    assert.equal(update.type, 'update');
    await sleep(30);
    assert.equal(master.callsOf(CallType.ACKNOWLEDGE).length, 0);
    if (update.type === 'update') manual.acknowledge(update.status);
    await until('manual ACKNOWLEDGE', () => master.callsOf(CallType.ACKNOWLEDGE).length === 1);
  });

  it('reconnects after the master drops the stream and re-subscribes with the same framework ID', async () => {
    const master = await setup();
    const seen: string[] = [];
    const driver = new SchedulerDriver({
      master: master.address,
      framework: { name: 'reconnect' },
      reconnectMinMs: 10,
      reconnectMaxMs: 50,
      callbacks: {
        subscribed: (_d, id) => { seen.push(`subscribed:${id}`); },
        disconnected: () => { seen.push('disconnected'); },
      },
    });
    cleanup.push(() => driver.stop({ failover: true }));
    await driver.start();
    master.drop();
    await until('second SUBSCRIBE', () => master.callsOf(CallType.SUBSCRIBE).length === 2);
    const again = master.callsOf(CallType.SUBSCRIBE)[1];
    assert.equal(again?.subscribe?.frameworkInfo?.id?.value, 'fw-1');
    await until('subscribed twice', () => seen.length === 3);
    assert.deepEqual(seen, ['subscribed:fw-1', 'disconnected', 'subscribed:fw-1']);
    assert.equal(driver.connected, true);
  });

  it('reconnects when no heartbeat arrives for 3 intervals', async () => {
    const master = await setup({ heartbeatSeconds: 0.05, heartbeats: false });
    const driver = new SchedulerDriver({ master: master.address, framework: { name: 'hb' }, reconnectMinMs: 10, reconnectMaxMs: 20 });
    cleanup.push(() => driver.stop({ failover: true }));
    await driver.start();
    const t0 = Date.now();
    await until('re-subscribe after silence', () => master.callsOf(CallType.SUBSCRIBE).length >= 2, 2000);
    assert.ok(Date.now() - t0 >= 140, 'waited ~3 heartbeat intervals');
  });

  it('keeps the connection while heartbeats arrive', async () => {
    const master = await setup({ heartbeatSeconds: 0.1 });
    const driver = new SchedulerDriver({ master: master.address, framework: { name: 'hb-ok' } });
    cleanup.push(() => driver.stop({ failover: true }));
    await driver.start();
    await sleep(600); // two watchdog periods (3 × 100 ms) with heartbeats flowing
    assert.equal(master.callsOf(CallType.SUBSCRIBE).length, 1);
  });

  it('turns commands into the right calls, each carrying the framework ID', async () => {
    const master = await setup();
    const driver = new SchedulerDriver({ master: master.address, framework: { name: 'cmds' } });
    cleanup.push(() => driver.stop({ failover: true }));
    driver.revive(); // before start: dropped, not thrown
    await driver.start();
    const task = { name: 't', taskId: { value: 't-1' }, agentId: { value: 'a-1' }, command: { value: 'true' } };
    driver.launch('o-1', [task], { refuseSeconds: 1 });
    driver.launch(['o-2'], []);
    driver.decline(['o-3', 'o-4']);
    driver.revive(['web']);
    driver.suppress();
    driver.kill('t-1', 'a-1', { gracePeriodSeconds: 1 });
    driver.shutdown('e-1', 'a-1');
    driver.reconcile([{ taskId: 't-1' }]);
    driver.reconcile();
    driver.message('a-1', 'e-1', new Uint8Array([7]));
    driver.acknowledge({ taskId: { value: 't-1' } }); // no uuid: no call
    await until('10 calls after SUBSCRIBE', () => master.calls.length === 11);
    const calls = master.calls.slice(1).map((c) => c.call);
    assert.deepEqual(calls.map((c) => CallType[c.type ?? 0]), ['ACCEPT', 'DECLINE', 'DECLINE', 'REVIVE', 'SUPPRESS', 'KILL', 'SHUTDOWN', 'RECONCILE', 'RECONCILE', 'MESSAGE']);
    for (const c of calls) assert.equal(c.frameworkId?.value, 'fw-1');
    const [accept, declineEmpty, decline, revive, , kill, shutdown, rec1, rec2, msg] = calls as Call[];
    assert.deepEqual(accept?.accept?.offerIds?.map((o) => o.value), ['o-1']);
    assert.equal(accept?.accept?.operations?.[0]?.type, 1 /* LAUNCH */);
    assert.equal(accept?.accept?.operations?.[0]?.launch?.taskInfos?.[0]?.taskId?.value, 't-1');
    assert.equal(accept?.accept?.filters?.refuseSeconds, 1);
    assert.deepEqual(declineEmpty?.decline?.offerIds?.map((o) => o.value), ['o-2']);
    assert.deepEqual(decline?.decline?.offerIds?.map((o) => o.value), ['o-3', 'o-4']);
    assert.deepEqual(revive?.revive?.roles, ['web']);
    assert.equal(kill?.kill?.taskId?.value, 't-1');
    assert.equal(kill?.kill?.agentId?.value, 'a-1');
    assert.equal(kill?.kill?.killPolicy?.gracePeriodSeconds, 1);
    assert.equal(shutdown?.shutdown?.executorId?.value, 'e-1');
    assert.deepEqual(rec1?.reconcile?.tasks?.map((t) => t.taskId?.value), ['t-1']);
    assert.equal(rec2?.reconcile?.tasks?.length ?? 0, 0);
    assert.deepEqual([...(msg?.message?.data ?? [])], [7]);
  });

  it('stop() sends TEARDOWN; stop({ failover: true }) does not', async () => {
    const master = await setup();
    const a = new SchedulerDriver({ master: master.address, framework: { name: 'a' } });
    await a.start();
    await a.stop({ failover: true });
    assert.equal(master.callsOf(CallType.TEARDOWN).length, 0);
    const b = new SchedulerDriver({ master: master.address, framework: { name: 'b' } });
    await b.start();
    await b.stop();
    assert.equal(master.callsOf(CallType.TEARDOWN).length, 1);
    assert.equal(master.callsOf(CallType.TEARDOWN)[0]?.frameworkId?.value, 'fw-1');
    await assert.rejects(b.start(), /stopped/);
  });

  it('start() rejects with the master\'s reason when the framework is refused', async () => {
    const master = await setup({ refuse: (c) => (c.subscribe?.frameworkInfo?.id?.value ? `framework '${c.subscribe.frameworkInfo.id.value}' is unknown` : undefined) });
    const errors: string[] = [];
    const driver = new SchedulerDriver({
      master: master.address,
      framework: { name: 'ghost', id: { value: 'fw-gone' } },
      callbacks: { error: (_d, m) => { errors.push(m); } },
    });
    const t0 = Date.now();
    await assert.rejects(driver.start(), (e: Error) => {
      assert.match(e.message, /refused framework 'ghost' \(fw-gone\): framework 'fw-gone' is unknown/);
      return true;
    });
    assert.ok(Date.now() - t0 < 2000, 'rejects at once, without retrying');
    await until('error callback', () => errors.length === 1);
    assert.equal(master.callsOf(CallType.SUBSCRIBE).length, 1);
  });

  it('start() rejects after connectTimeoutMs when no master answers', async () => {
    const dead = await deadAddress();
    const driver = new SchedulerDriver({ master: dead, framework: { name: 'lonely' }, connectTimeoutMs: 300, reconnectMinMs: 20, reconnectMaxMs: 50 });
    const t0 = Date.now();
    await assert.rejects(driver.start(), /could not subscribe framework 'lonely' to master .* within 300 ms/);
    assert.ok(Date.now() - t0 < 1500);
  });

  it('tries the masters in turn', async () => {
    const master = await setup();
    const dead = await deadAddress();
    const driver = new SchedulerDriver({ master: [dead, master.address], framework: { name: 'multi' }, reconnectMinMs: 10, reconnectMaxMs: 20 });
    cleanup.push(() => driver.stop({ failover: true }));
    assert.equal(await driver.start(), 'fw-1');
  });

  it('stops for good when the master refuses the framework after subscription (ERROR then close)', async () => {
    const master = await setup();
    const events: string[] = [];
    const driver = new SchedulerDriver({ master: master.address, framework: { name: 'failed-over' }, reconnectMinMs: 10 });
    const it = driver.events();
    await driver.start();
    master.send({ type: EventType.ERROR, error: { message: 'framework failed over' } });
    master.drop();
    for await (const e of it) events.push(e.type);
    assert.deepEqual(events, ['subscribed', 'error']);
    await sleep(50);
    assert.equal(master.callsOf(CallType.SUBSCRIBE).length, 1, 'no re-subscription');
  });
});

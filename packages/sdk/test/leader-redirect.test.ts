// The driver finds the leading master by itself: a standby refuses Scheduler.Connect with gRPC
// UNAVAILABLE "not leader; leader is HOST:PORT" (as @agora/master does with --etcd).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { bindServer, grpc, newServer, SchedulerService, stopServer } from '@agora/core';
import { SchedulerDriver } from '../src/index.js';
import { FakeMaster, deadAddress, sleep, until } from './fakes.js';

/** A master that is not the leader: refuses every stream with UNAVAILABLE and `answer()`. */
class FakeStandby {
  readonly server = newServer();
  address = '';
  connects = 0;

  constructor(public answer: () => string) {
    this.server.addService(SchedulerService, {
      connect: (stream: NodeJS.EventEmitter) => {
        this.connects++;
        const details = this.answer();
        stream.emit('error', Object.assign(new Error(details), { code: grpc.status.UNAVAILABLE, details }));
      },
    });
  }

  async start(): Promise<this> {
    this.address = `127.0.0.1:${await bindServer(this.server, '127.0.0.1', 0)}`;
    return this;
  }

  stop(): Promise<void> {
    return stopServer(this.server, 0);
  }
}

describe('SchedulerDriver leader discovery', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  after(async () => { for (const f of cleanup.reverse()) await f(); });

  async function started<T extends { start(): Promise<T>; stop(): Promise<void> }>(x: T): Promise<T> {
    await x.start();
    cleanup.push(() => x.stop());
    return x;
  }

  it('follows a standby to the leader it names, even one not in its list', async () => {
    const leader = await started(new FakeMaster());
    const standby = await started(new FakeStandby(() => `not leader; leader is ${leader.address}`));
    const driver = new SchedulerDriver({ master: [standby.address], framework: { name: 'redirected' }, connectTimeoutMs: 5000 });
    cleanup.push(() => driver.stop({ failover: true }));
    const t0 = Date.now();
    assert.equal(await driver.start(), 'fw-1');
    assert.ok(Date.now() - t0 < 1000, `subscribed after ${Date.now() - t0} ms`);
    assert.equal(standby.connects, 1);
    assert.equal(leader.callsOf(1).length, 1);
  });

  it('moves on to the next master when no leader is elected yet', async () => {
    const leader = await started(new FakeMaster());
    const standby = await started(new FakeStandby(() => 'not leader; no leader elected yet'));
    const driver = new SchedulerDriver({ master: [standby.address, leader.address], framework: { name: 'next' }, connectTimeoutMs: 5000 });
    cleanup.push(() => driver.stop({ failover: true }));
    assert.equal(await driver.start(), 'fw-1');
    assert.ok(standby.connects >= 1);
  });

  it('keeps retrying quickly while a failover is under way, then reaches the new leader', async () => {
    // The standby still names the dead leader until its lease expires: the driver bounces
    // between them without its backoff growing, and subscribes as soon as the name changes.
    const dead = await deadAddress();
    const standby = await started(new FakeStandby(() => `not leader; leader is ${dead}`));
    const driver = new SchedulerDriver({ master: [standby.address], framework: { name: 'patient' }, connectTimeoutMs: 10_000, reconnectMaxMs: 5000 });
    cleanup.push(() => driver.stop({ failover: true }));
    const subscribed = driver.start();
    await sleep(2500);
    assert.ok(standby.connects >= 6, `the driver asked the standby only ${standby.connects} times in 2.5 s: its backoff grew`);
    const leader = await started(new FakeMaster());
    standby.answer = () => `not leader; leader is ${leader.address}`;
    const t0 = Date.now();
    assert.equal(await subscribed, 'fw-1');
    assert.ok(Date.now() - t0 < 1000, `subscribed ${Date.now() - t0} ms after the leader appeared`);
  });

  it('a subscribed framework whose leader steps down re-subscribes to the next leader with its ID', async () => {
    const first = await started(new FakeMaster());
    const second = await started(new FakeMaster());
    const driver = new SchedulerDriver({ master: [first.address, second.address], framework: { name: 'failover', failoverTimeoutSeconds: 60 } });
    cleanup.push(() => driver.stop({ failover: true }));
    await driver.start();
    await first.stop();
    await until('re-subscribed to the second master', () => second.callsOf(1).length === 1, 5000);
    assert.equal(second.callsOf(1)[0]?.subscribe?.frameworkInfo?.id?.value, 'fw-1');
  });
});

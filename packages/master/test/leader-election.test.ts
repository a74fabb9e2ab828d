// LeaderElection against a real etcd (in-process candidates; the process-level kill and
// SIGSTOP cases are in test/ha-election.test.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { LeaderElection } from '../src/index.js';
import { etcdMissing, startEtcd, type EtcdServer } from '../../../test/helpers/etcd.js';

const skip = etcdMissing();
let etcd: EtcdServer;
let client: Etcd3;
let n = 0;

before(async () => {
  if (skip) return;
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.url });
});
after(async () => {
  client?.close();
  await etcd?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, pred: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function pair(ttlSeconds = 2) {
  const key = `/e${++n}/leader`;
  const events: string[] = [];
  const mk = (name: string) => new LeaderElection({
    client, address: name, key, ttlSeconds,
    onElected: () => events.push(`${name} elected`),
    onLost: (r) => events.push(`${name} lost: ${r}`),
  });
  return { a: mk('a:1'), b: mk('b:1'), events, key };
}

test('two candidates: exactly one leads, the other knows its address', { skip }, async () => {
  const { a, b } = pair();
  await Promise.all([a.start(), b.start()]);
  await until('a leader', () => a.isLeader() || b.isLeader());
  await sleep(300);
  assert.equal([a, b].filter((e) => e.isLeader()).length, 1);
  const [leader, standby] = a.isLeader() ? [a, b] : [b, a];
  await until('the standby learns the address', () => standby.leaderAddress === (leader === a ? 'a:1' : 'b:1'));
  assert.equal(standby.fence(), undefined);
  await a.close();
  await b.close();
});

test('a resigning leader is replaced at once (lease revoked, no TTL wait)', { skip }, async () => {
  const { a, b } = pair(5);
  await a.start();
  await a.whenElected();
  await b.start();
  const t0 = Date.now();
  await a.resign();
  await b.whenElected();
  assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
  assert.equal(b.leaderAddress, 'b:1');
  await b.close();
});

test('a leader whose key disappears loses leadership; the standby takes over', { skip }, async () => {
  const { a, b, events, key } = pair();
  await a.start();
  await a.whenElected();
  await b.start();
  await client.delete().key(key);
  await b.whenElected();
  await until('a notices', () => events.some((e) => e.startsWith('a:1 lost')));
  assert.equal(a.isLeader(), false);
  await a.close();
  await b.close();
});

test('a frozen leader steps down by itself before acting, and the other is elected', { skip }, async () => {
  const { a, b, events } = pair(2);
  await a.start();
  await a.whenElected();
  await b.start();
  // Freeze this process (both candidates) past TTL − margin: no timer, no socket runs meanwhile.
  const end = Date.now() + 2_500;
  while (Date.now() < end) { /* frozen */ }
  // The very first check after resuming, before any I/O is handled, says "not leader".
  assert.equal(a.isLeader(), false);
  assert.equal(a.fence(), undefined);
  assert.ok(events.some((e) => e.startsWith('a:1 lost: no keep-alive answered')), events.join('; '));
  await b.whenElected();
  await a.close();
  await b.close();
});

test('a healthy leader keeps its lease well past the TTL', { skip }, async () => {
  const { a, events } = pair(2);
  await a.start();
  await a.whenElected();
  await sleep(4_500);
  assert.equal(a.isLeader(), true, events.join('; '));
  await a.close();
});

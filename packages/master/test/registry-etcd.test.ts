// EtcdRegistry against a real etcd: round trip, group commit, atomic batches, paging, fencing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3 } from 'etcd3';
import { EtcdRegistry, LeaderElection, RegistryFencedError, type Fence, type RegistryOperation } from '../src/index.js';
import { etcdMissing, startEtcd, type EtcdServer } from '../../../test/helpers/etcd.js';

const skip = etcdMissing();
let etcd: EtcdServer;
let client: Etcd3;
let n = 0;
const prefix = () => `/t${++n}/registry/`;

before(async () => {
  if (skip) return;
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.url });
});
after(async () => {
  client?.close();
  await etcd?.stop();
});

const fw = (id: string, name = id): RegistryOperation => ({ type: 'putFramework', framework: { id, registeredTime: 1700000000.5, info: { id: { value: id }, name, roles: ['web'], failoverTimeoutSeconds: 30 } } });
const agent = (id: string): RegistryOperation => ({
  type: 'putAgent',
  agent: { id, registeredTime: 1700000001, info: { id: { value: id }, hostname: `h-${id}`, address: '127.0.0.1:5060', resources: [{ name: 'cpus', type: 0, scalar: { value: 4 } }] } },
});

test('round trip: what one registry writes, a fresh one loads', { skip }, async () => {
  const p = prefix();
  const a = new EtcdRegistry(client, { prefix: p });
  assert.deepEqual(await a.load(), { frameworks: [], agents: [], roles: [], reservations: [] });
  await a.apply([fw('f1', 'one'), agent('a1')]);
  await a.apply([fw('f2'), { type: 'removeFramework', frameworkId: 'f2' }, agent('a2'), { type: 'removeAgent', agentId: 'a1' }]);
  const s = await new EtcdRegistry(client, { prefix: p }).load();
  assert.deepEqual(s.frameworks.map((f) => [f.id, f.info.name, f.info.roles, f.info.failoverTimeoutSeconds, f.registeredTime]), [['f1', 'one', ['web'], 30, 1700000000.5]]);
  assert.deepEqual(s.agents.map((x) => [x.id, x.info.hostname, x.info.resources?.[0]?.scalar?.value]), [['a2', 'h-a2', 4]]);
});

test('round trip of role settings and reservations (the same shapes as the file registry)', { skip }, async () => {
  const p = prefix();
  const r = new EtcdRegistry(client, { prefix: p });
  await r.load();
  const reserved = [{ name: 'cpus', type: 0, scalar: { value: 2 }, reservations: [{ type: 2, role: 'web', principal: 'ops' }] }] as never;
  await r.apply([
    { type: 'putRole', role: { role: 'web/prod', weight: 2, guarantee: { cpus: 4 }, limit: { mem: 4096 } } },
    { type: 'putRole', role: { role: 'batch', weight: 1 } },
    { type: 'putReservations', reservations: { agentId: 'a1', resources: reserved } },
    { type: 'putReservations', reservations: { agentId: 'a2', resources: reserved } },
  ]);
  await r.apply([{ type: 'removeRole', role: 'batch' }, { type: 'putReservations', reservations: { agentId: 'a2', resources: [] } }]);
  const s = await new EtcdRegistry(client, { prefix: p }).load();
  assert.deepEqual(s.roles, [{ role: 'web/prod', weight: 2, guarantee: { cpus: 4 }, limit: { mem: 4096 } }]);
  assert.deepEqual(s.reservations?.map((x) => x.agentId), ['a1']);
  const res = s.reservations?.[0]?.resources[0];
  assert.equal(res?.scalar?.value, 2);
  assert.equal(res?.reservations?.[0]?.role, 'web');
});

test('concurrent applies are group-committed and each batch is all-or-nothing', { skip }, async () => {
  const p = prefix();
  const r = new EtcdRegistry(client, { prefix: p, maxTxnOps: 16 });
  await r.load();
  await Promise.all(Array.from({ length: 200 }, (_, i) => r.apply([agent(`a${i}`), fw(`f${i}`)])));
  assert.ok(r.writes < 200 / 4, `200 batches took ${r.writes} transactions`);
  const s = await new EtcdRegistry(client, { prefix: p, pageSize: 7 }).load();
  assert.equal(s.agents.length, 200, 'paged load sees every agent');
  assert.equal(s.frameworks.length, 200);
  // A batch that cannot be committed (more operations than etcd allows in one transaction)
  // leaves nothing behind, and does not fail the batches queued with it.
  const big = Array.from({ length: 200 }, (_, i) => agent(`big${i}`));
  const results = await Promise.allSettled([r.apply([fw('ok1')]), new EtcdRegistry(client, { prefix: p, maxTxnOps: 1000 }).apply(big.concat(Array.from({ length: 20 }, (_, i) => agent(`x${i}`)))), r.apply([fw('ok2')])]);
  assert.equal(results[0].status, 'fulfilled');
  assert.equal(results[2].status, 'fulfilled');
  const after = await r.load();
  assert.equal(results[1].status, 'rejected', 'etcd refuses a transaction over --max-txn-ops (128)');
  assert.equal(after.agents.filter((a) => a.id.startsWith('big') || a.id.startsWith('x')).length, 0, 'nothing of the refused batch is stored');
});

test('unknown operations are refused up front', { skip }, async () => {
  const r = new EtcdRegistry(client, { prefix: prefix() });
  await r.load();
  await assert.rejects(r.apply([{ type: 'frobnicate' } as unknown as RegistryOperation]), /unknown registry operation/);
});

test('fencing: a deposed leader cannot write, even with its old fence', { skip }, async () => {
  const p = `/t${++n}/`;
  const lost: string[] = [];
  const a = new LeaderElection({ client, address: 'a:1', key: `${p}leader`, ttlSeconds: 2, onLost: (r) => lost.push(r) });
  await a.start();
  await a.whenElected();
  const fenceA = a.fence() as Fence;
  assert.ok(fenceA);
  const regA = new EtcdRegistry(client, { prefix: `${p}registry/`, fence: () => a.fence() });
  await regA.apply([fw('by-a')]);

  // A's leadership ends behind its back (the key is deleted, as when its lease expires), and B is elected.
  await client.delete().key(`${p}leader`);
  const b = new LeaderElection({ client, address: 'b:1', key: `${p}leader`, ttlSeconds: 2 });
  await b.start();
  await b.whenElected();

  // A writer still holding A's old fence is refused by etcd itself.
  let fenced = '';
  const stale = new EtcdRegistry(client, { prefix: `${p}registry/`, fence: () => fenceA, onFenced: (why) => { fenced = why; } });
  await assert.rejects(stale.apply([fw('by-stale-a')]), RegistryFencedError);
  assert.match(fenced, /no longer the one this master created/);
  // And A's own registry refuses before even asking etcd (it noticed the delete).
  await assert.rejects(regA.apply([fw('by-a-again')]), RegistryFencedError);
  assert.equal(lost.length, 1);

  const regB = new EtcdRegistry(client, { prefix: `${p}registry/`, fence: () => b.fence() });
  await regB.apply([fw('by-b')]);
  const s = await regB.load();
  assert.deepEqual(s.frameworks.map((f) => f.id).sort(), ['by-a', 'by-b']);
  await a.close();
  await b.close();
});

test('warm standby: a follower loads what the leader wrote up to its own election, without reading etcd', { skip }, async () => {
  const root = `/t${++n}/`;
  const p = `${root}registry/`;
  const leader = new EtcdRegistry(client, { prefix: p });
  await leader.apply([fw('f1'), agent('a1'), agent('a2'), { type: 'putRole', role: { role: 'web/prod', weight: 3 } }]);
  let fence: Fence | undefined;
  const standby = new EtcdRegistry(client, { prefix: p, fence: () => fence });
  await standby.follow(root);
  // Written while the standby follows: puts, overwrites and deletions of every kind.
  const reserved = [{ name: 'cpus', type: 0, scalar: { value: 1 }, reservations: [{ type: 2, role: 'web', principal: 'ops' }] }] as never;
  await leader.apply([agent('a3'), { type: 'removeAgent', agentId: 'a1' }, fw('f1', 'renamed'), fw('f2')]);
  await leader.apply([{ type: 'removeFramework', frameworkId: 'f2' }, { type: 'removeRole', role: 'web/prod' }, { type: 'putReservations', reservations: { agentId: 'a2', resources: reserved } }]);
  // The standby is elected: its key is created after every write above.
  const put = await client.put(`${root}leader`).value('standby:1').exec();
  fence = { key: `${root}leader`, createRevision: String(put.header.revision) };
  const warm = await standby.load();
  assert.equal(standby.lastLoad, 'warm');
  const cold = await new EtcdRegistry(client, { prefix: p }).load();
  const norm = (s: typeof warm) => ({
    frameworks: s.frameworks.map((f) => [f.id, f.info.name]).sort(),
    agents: s.agents.map((a) => [a.id, a.info.hostname]).sort(),
    roles: s.roles,
    reservations: s.reservations?.map((r) => [r.agentId, r.resources[0]?.scalar?.value, r.resources[0]?.reservations?.[0]?.role]),
  });
  assert.deepEqual(norm(warm), norm(cold));
  assert.deepEqual(norm(warm).agents, [['a2', 'h-a2'], ['a3', 'h-a3']]);
  assert.deepEqual(norm(warm).frameworks, [['f1', 'renamed']]);
});

test('warm standby: without proof that its copy is complete, load() reads etcd', { skip }, async () => {
  const root = `/t${++n}/`;
  const p = `${root}registry/`;
  const leader = new EtcdRegistry(client, { prefix: p });
  await leader.apply([agent('a1')]);
  // Its fence names a revision the follower has not seen (and will not within the wait).
  const standby = new EtcdRegistry(client, { prefix: p, fence: () => ({ key: `${root}leader`, createRevision: '999999999' }) });
  await standby.follow(root);
  await leader.apply([agent('a2')]);
  const t0 = Date.now();
  const s = await standby.load();
  assert.equal(standby.lastLoad, 'etcd');
  assert.ok(Date.now() - t0 < 5000);
  assert.deepEqual(s.agents.map((a) => a.id).sort(), ['a1', 'a2']);
});

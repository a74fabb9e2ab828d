/**
 * Reservations through the real master over gRPC: RESERVE / UNRESERVE in ACCEPT (validation
 * naming the field), reserved resources offered only to their role and its children, dynamic
 * reservations surviving a master restart (file registry, and etcd when installed), and static
 * reservations from the agent's resources.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallType, EventType, OperationType, resources, silentLogger, type agora, type Resource } from '@agora/core';
import { startMaster, type Master, type MasterOptions } from '@agora/master';
import { etcdMissing, startEtcd } from '../../../test/helpers/etcd.js';
import { TestAgent, TestScheduler, sleep } from './helpers.js';

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'agora-resv-'));
  dirs.push(d);
  return d;
}

async function boot(extra: MasterOptions = {}): Promise<{ master: Master; workDir: string }> {
  const workDir = extra.workDir ?? await tempDir();
  const master = await startMaster({ port: 0, workDir, logger: silentLogger(), allocationBatchMs: 1, ...extra });
  return { master, workDir };
}

/** `text` with a DYNAMIC reservation for `role` by `principal`. */
const dyn = (text: string, role: string, principal: string): Resource[] =>
  resources.parseResources(text).map((r) => ({ ...r, reservations: [{ type: 2, role, principal }] }));

/** Roles the offered resources are reserved for ('*' when unreserved), with their cpus. */
function reservedCpus(offer: agora.v1.Offer | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of offer?.resources ?? []) {
    if (r.name !== 'cpus') continue;
    const role = resources.reservationRole(r) || '*';
    out[role] = (out[role] ?? 0) + (r.scalar?.value ?? 0);
  }
  return out;
}

function reserveCall(s: TestScheduler, offerId: string, list: Resource[], unreserve = false): void {
  const op = unreserve ? { type: OperationType.UNRESERVE, unreserve: { resources: list } } : { type: OperationType.RESERVE, reserve: { resources: list } };
  s.do({ type: CallType.ACCEPT, accept: { offerIds: [{ value: offerId }], operations: [op], filters: { refuseSeconds: 0 } } });
}

function decline(s: TestScheduler, offer: agora.v1.Offer | undefined, refuseSeconds = 3600): void {
  s.do({ type: CallType.DECLINE, decline: { offerIds: [{ value: offer?.id?.value ?? '' }], filters: { refuseSeconds } } });
}

/** Every resource ever offered to `s` (events still in its inbox). */
const everOffered = (s: TestScheduler): Resource[] =>
  s.events.filter((e) => e.type === EventType.OFFERS).flatMap((e) => (e.offers?.offers ?? []).flatMap((o) => o.resources ?? [])) as Resource[];

describe('dynamic reservations through the master', () => {
  test('RESERVE/UNRESERVE are validated field by field; reserved resources go only to the role and its children', async () => {
    const { master } = await boot();
    const agent = new TestAgent(master.address);
    const clients: TestScheduler[] = [];
    const sched = (): TestScheduler => { const s = new TestScheduler(master.address); clients.push(s); return s; };
    try {
      await agent.register('cpus:4;mem:1024');

      // A framework without a principal cannot reserve.
      const anon = sched();
      await anon.subscribe({ name: 'anon', roles: ['eng'] });
      const [o0] = await anon.offers();
      reserveCall(anon, o0?.id?.value ?? '', dyn('cpus:1', 'eng', ''));
      assert.match(await anon.errorEvent(/principal/), /operations\[0\]\.reserve: the framework has no principal \(framework_info\.principal\)/);
      anon.do({ type: CallType.TEARDOWN });
      await sleep(30);

      const eng = sched();
      await eng.subscribe({ name: 'eng', roles: ['eng'], principal: 'alice' });
      let [o] = await eng.offers();
      // A role that is not the framework's.
      reserveCall(eng, o?.id?.value ?? '', dyn('cpus:1', 'ops', 'alice'));
      assert.match(await eng.errorEvent(/not one of/), /operations\[0\]\.reserve\.resources\[0\] \('cpus'\): role 'ops' is not one of the framework's roles \(eng\)/);
      [o] = await eng.offers();
      // More than the offer holds.
      reserveCall(eng, o?.id?.value ?? '', dyn('cpus:10', 'eng', 'alice'));
      assert.match(await eng.errorEvent(/asks to reserve/), /operations\[0\]\.reserve asks to reserve cpus:10 but the offer holds cpus:4;mem:1024 of it/);
      [o] = await eng.offers();
      // Someone else's principal.
      reserveCall(eng, o?.id?.value ?? '', dyn('cpus:1', 'eng', 'mallory'));
      assert.match(await eng.errorEvent(/principal 'mallory'/), /reservation principal 'mallory' must be the framework's principal 'alice'/);
      [o] = await eng.offers();
      assert.deepEqual(reservedCpus(o), { '*': 4 }, 'refused operations reserve nothing');

      // The real thing: 2 cpus and 256 MiB for eng.
      reserveCall(eng, o?.id?.value ?? '', dyn('cpus:2;mem:256', 'eng', 'alice'));
      [o] = await eng.offers();
      assert.deepEqual(reservedCpus(o), { '*': 2, eng: 2 });
      const reserved = (o?.resources ?? []).filter((r) => resources.reservationRole(r) === 'eng');
      assert.ok(reserved.every((r) => r.reservations?.[0]?.principal === 'alice' && r.reservations?.[0]?.type === 2));

      // eng steps aside; ops gets only the unreserved half, never the reserved one.
      decline(eng, o);
      const ops = sched();
      await ops.subscribe({ name: 'ops', roles: ['ops'], principal: 'bob' });
      const [po] = await ops.offers();
      assert.deepEqual(reservedCpus(po), { '*': 2 });
      decline(ops, po);
      // A child role of eng may use eng's reservation (and, everyone else being filtered, the rest).
      const web = sched();
      await web.subscribe({ name: 'web', roles: ['eng/web'], principal: 'carol' });
      const [wo] = await web.offers();
      assert.deepEqual(reservedCpus(wo), { '*': 2, eng: 2 });
      // carol did not make alice's reservation and cannot undo it.
      reserveCall(web, wo?.id?.value ?? '', (wo?.resources ?? []).filter((r) => resources.reservationRole(r) === 'eng'), true);
      assert.match(await web.errorEvent(/unreserve/), /operations\[0\]\.unreserve\.resources\[0\] \('cpus'\): reserved by principal 'alice', not 'carol'/);
      const [wo2] = await web.offers();
      // Unreserving what the offer does not hold.
      reserveCall(web, wo2?.id?.value ?? '', dyn('cpus:3', 'eng', 'carol'), true);
      assert.match(await web.errorEvent(/unreserve/), /operations\[0\]\.unreserve asks to unreserve cpus\(eng,carol\):3|operations\[0\]\.unreserve asks to unreserve .*cpus.*but the offer holds/);
      web.do({ type: CallType.TEARDOWN });
      await sleep(30);
      assert.ok(everOffered(ops).every((r) => !r.reservations?.length), 'ops never saw eng\'s reservation');

      // alice takes it back: UNRESERVE, and the next offer is all unreserved.
      eng.do({ type: CallType.REVIVE });
      let [eo] = await eng.offers();
      assert.deepEqual(reservedCpus(eo), { '*': 2, eng: 2 });
      reserveCall(eng, eo?.id?.value ?? '', (eo?.resources ?? []).filter((r) => resources.reservationRole(r) === 'eng'), true);
      [eo] = await eng.offers();
      assert.deepEqual(reservedCpus(eo), { '*': 4 });
      assert.equal(resources.scalarOf(eo?.resources ?? [], 'mem'), 1024);
    } finally {
      for (const c of clients) c.close();
      agent.close();
      await master.stop();
    }
  });

  test('static reservations (cpus(eng):2) go only to eng', async () => {
    const { master } = await boot();
    const agent = new TestAgent(master.address);
    const ops = new TestScheduler(master.address);
    const eng = new TestScheduler(master.address);
    try {
      await agent.register('cpus(eng):2;mem(eng):256;cpus:2;mem:768');
      await ops.subscribe({ name: 'ops', roles: ['ops'] });
      const [po] = await ops.offers();
      assert.deepEqual(reservedCpus(po), { '*': 2 });
      await eng.subscribe({ name: 'eng', roles: ['eng'] });
      const [eo] = await eng.offers();
      assert.deepEqual(reservedCpus(eo), { eng: 2 }, 'the unreserved half is held by ops');
      assert.equal(resources.scalarOf(eo?.resources ?? [], 'mem'), 256);
      // Static reservations are the agent's: a framework cannot unreserve them.
      reserveCall(eng, eo?.id?.value ?? '', eo?.resources as Resource[] ?? [], true);
      assert.match(await eng.errorEvent(/unreserve/), /only DYNAMIC reservations can be unreserved/);
      decline(ops, po, 0);
      await sleep(50);
      assert.ok(everOffered(ops).every((r) => !r.reservations?.length));
    } finally {
      ops.close(); eng.close(); agent.close();
      await master.stop();
    }
  });
});

/** Reserve on one master, stop it, start another on the same durable state: still reserved. */
async function survivesRestart(options: () => MasterOptions, first?: (m: Master) => Promise<void>): Promise<void> {
  let master = await startMaster({ port: 0, logger: silentLogger(), allocationBatchMs: 1, ...options() });
  await first?.(master);
  const agent = new TestAgent(master.address);
  const eng = new TestScheduler(master.address);
  const agentId = await agent.register('cpus:4;mem:1024');
  await eng.subscribe({ name: 'eng', roles: ['eng'], principal: 'alice' });
  const [o] = await eng.offers();
  reserveCall(eng, o?.id?.value ?? '', dyn('cpus:3;mem:512', 'eng', 'alice'));
  const [o2] = await eng.offers();
  assert.deepEqual(reservedCpus(o2), { '*': 1, eng: 3 });
  eng.close(); agent.close();
  await master.stop();

  master = await startMaster({ port: 0, logger: silentLogger(), allocationBatchMs: 1, ...options() });
  await first?.(master);
  const a2 = new TestAgent(master.address);
  const ops = new TestScheduler(master.address);
  const eng2 = new TestScheduler(master.address);
  try {
    assert.equal(await a2.register('cpus:4;mem:1024', {}, agentId), agentId);
    await ops.subscribe({ name: 'ops', roles: ['ops'] });
    const [po] = await ops.offers();
    assert.deepEqual(reservedCpus(po), { '*': 1 }, 'after the restart ops still sees only the unreserved cpu');
    await eng2.subscribe({ name: 'eng2', roles: ['eng'], principal: 'alice' });
    const [eo] = await eng2.offers();
    assert.deepEqual(reservedCpus(eo), { eng: 3 });
    assert.equal(resources.scalarOf(eo?.resources ?? [], 'mem'), 512);
  } finally {
    a2.close(); ops.close(); eng2.close();
    await master.stop();
  }
}

test('dynamic reservations survive a master restart (file registry)', async () => {
  const workDir = await tempDir();
  await survivesRestart(() => ({ workDir }));
});

const noEtcd = etcdMissing();
test('dynamic reservations survive a master restart (etcd registry)', { skip: noEtcd, timeout: 60_000 }, async () => {
  const etcd = await startEtcd();
  try {
    const workDir = await tempDir();
    await survivesRestart(() => ({ workDir, etcd: etcd.url, etcdTtlSeconds: 3, etcdPrefix: '/resv/' }), async (m) => { await m.whenLeader(); });
  } finally {
    await etcd.stop();
  }
});

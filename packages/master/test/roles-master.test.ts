/**
 * The role RPCs of the operator API against a real master over gRPC (GetRoles, UpdateRole,
 * ExplainOffers), and quota enforced by the running master: limits never exceeded, guarantees
 * met before fair sharing.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentEventType, CallType, EventType, grpc, OperatorService, resources, silentLogger, type agora, type Resource } from '@agora/core';
import { startMaster, type Master, type MasterOptions } from '@agora/master';
import { TestAgent, TestScheduler, sleep, until } from './helpers.js';

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'agora-roles-'));
  dirs.push(d);
  return d;
}

type Cb<Res> = (err: grpc.ServiceError | null, res?: Res) => void;
type Unary<Req, Res> = (req: Req, cb: Cb<Res>) => void;
interface RawRoles extends grpc.Client {
  getRoles: Unary<object, agora.v1.GetRolesResponse>;
  updateRole: Unary<agora.v1.UpdateRoleRequest.$Properties, agora.v1.UpdateRoleResponse>;
  explainOffers: Unary<agora.v1.ExplainOffersRequest.$Properties, agora.v1.ExplainOffersResponse>;
}

/** The role RPCs (core's OperatorClient predates them). */
class RolesOp {
  private readonly raw: RawRoles;
  constructor(address: string) {
    const Ctor = grpc.makeGenericClientConstructor(OperatorService, 'Operator');
    this.raw = new Ctor(address, grpc.credentials.createInsecure()) as unknown as RawRoles;
  }
  private call<Req, Res>(fn: Unary<Req, Res>, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => fn.call(this.raw, req, (err, res) => (err ? reject(err) : resolve(res as Res))));
  }
  roles(): Promise<agora.v1.RoleState[]> { return this.call(this.raw.getRoles, {}).then((r) => r.roles as agora.v1.RoleState[]); }
  async role(name: string): Promise<agora.v1.RoleState | undefined> { return (await this.roles()).find((r) => r.name === name); }
  update(req: agora.v1.UpdateRoleRequest.$Properties): Promise<agora.v1.UpdateRoleResponse> { return this.call(this.raw.updateRole, req); }
  explain(frameworkId: string): Promise<agora.v1.ExplainOffersResponse> { return this.call(this.raw.explainOffers, { frameworkId: { value: frameworkId } }); }
  close(): void { this.raw.close(); }
}

async function boot(extra: MasterOptions = {}): Promise<{ master: Master; op: RolesOp; workDir: string }> {
  const workDir = extra.workDir ?? await tempDir();
  const master = await startMaster({ port: 0, workDir, logger: silentLogger(), allocationBatchMs: 1, ...extra });
  return { master, op: new RolesOp(master.address), workDir };
}

const r = (text: string) => resources.parseResources(text);
/** Wire lists (protobuf `$Properties`) as the resource helpers take them. */
const asList = (list: unknown): Resource[] => (list ?? []) as Resource[];
const fmt = (list: unknown) => resources.formatResources(resources.stripAllocation(asList(list)));
const cpusOf = (list: unknown) => resources.scalarOf(asList(list), 'cpus');

/** Expects an INVALID_ARGUMENT whose details match `re`. */
async function refused(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: grpc.ServiceError) => {
    assert.equal(e.code, grpc.status.INVALID_ARGUMENT, `code of ${e.details}`);
    assert.match(e.details, re);
    return true;
  });
}

describe('GetRoles and UpdateRole', () => {
  test('weights, guarantee and limit are set, listed with what each role holds, and survive a restart', async () => {
    const workDir = await tempDir();
    let { master, op } = await boot({ workDir });
    const agent = new TestAgent(master.address);
    const sched = new TestScheduler(master.address);
    try {
      await agent.register('cpus:4;mem:1024');
      const fwId = await sched.subscribe({ name: 'web', roles: ['eng/web'] });
      await sched.offers();

      const res = await op.update({ role: 'eng', weight: 3, setQuota: true, guarantee: r('cpus:1;mem:128'), limit: r('cpus:8;mem:2048') });
      assert.equal(res.role?.name, 'eng');
      assert.equal(res.role?.weight, 3);
      assert.equal(fmt(res.role?.guarantee), 'cpus:1;mem:128');
      assert.equal(fmt(res.role?.limit), 'cpus:8;mem:2048');
      // Weight only: the quota is kept.
      await op.update({ role: 'eng/web', weight: 2 });
      await op.update({ role: 'eng', weight: 4 });

      const roles = await op.roles();
      assert.deepEqual(roles.map((x) => x.name), ['eng', 'eng/web']);
      const eng = roles.find((x) => x.name === 'eng');
      assert.equal(eng?.weight, 4);
      assert.equal(fmt(eng?.limit), 'cpus:8;mem:2048', 'a weight-only update keeps the quota');
      // The child's offer counts for the parent too.
      assert.equal(cpusOf(eng?.offered), 4);
      assert.ok((eng?.share ?? 0) > 0.99);
      const web = roles.find((x) => x.name === 'eng/web');
      assert.deepEqual(web?.frameworkIds, [fwId]);
      assert.equal(web?.weight, 2);
      assert.equal(cpusOf(web?.offered), 4);
      assert.equal(fmt(web?.guarantee), '');

      // Clearing the quota of a role with weight 1 forgets it.
      await op.update({ role: 'ops', weight: 2 });
      await op.update({ role: 'ops', weight: 1 });
      assert.equal((await op.roles()).some((x) => x.name === 'ops'), false);
    } finally {
      sched.close(); agent.close(); op.close();
      await master.stop();
    }
    ({ master, op } = await boot({ workDir }));
    try {
      const eng = await op.role('eng');
      assert.equal(eng?.weight, 4);
      assert.equal(fmt(eng?.guarantee), 'cpus:1;mem:128');
      assert.equal(fmt(eng?.limit), 'cpus:8;mem:2048');
      assert.equal((await op.role('eng/web'))?.weight, 2);
      // set_quota with nothing removes guarantee and limit, and that too is durable.
      await op.update({ role: 'eng', setQuota: true });
      assert.equal(fmt((await op.role('eng'))?.limit), '');
    } finally {
      op.close();
      await master.stop();
    }
    ({ master, op } = await boot({ workDir }));
    try {
      const eng = await op.role('eng');
      assert.equal(eng?.weight, 4);
      assert.equal(fmt(eng?.limit), '');
    } finally {
      op.close();
      await master.stop();
    }
  });

  test('bad input is INVALID_ARGUMENT naming the field, and changes nothing', async () => {
    const { master, op } = await boot();
    try {
      await refused(op.update({ weight: 2 }), /^UpdateRole: role is empty$/);
      await refused(op.update({ role: 'eng//web', weight: 2 }), /role: role name 'eng\/\/web' must be segments/);
      await refused(op.update({ role: 'eng/../x', weight: 2 }), /role: role name 'eng\/\.\.\/x' has a '\.' or '\.\.' segment/);
      await refused(op.update({ role: 'eng', weight: 0 }), /weight must be a number > 0 and ≤ 1000000, got 0/);
      await refused(op.update({ role: 'eng', weight: -1 }), /weight must be a number > 0/);
      await refused(op.update({ role: 'eng', weight: Number.NaN }), /weight must be a number > 0.*got NaN/);
      await refused(op.update({ role: 'eng', setQuota: true, limit: r('ports:[1-2]') }), /limit\[0\] \('ports'\) must be a SCALAR resource/);
      await refused(op.update({ role: 'eng', setQuota: true, guarantee: [{ name: 'cpus', type: 1, scalar: { value: -1 } }] }), /guarantee\[0\]: /);
      await refused(op.update({ role: 'eng', setQuota: true, guarantee: r('cpus:4'), limit: r('cpus:2') }), /guarantee of cpus \(4\) is above its limit \(2\)/);
      await refused(op.update({ role: 'eng', setQuota: true, limit: r('cpus(eng):2') }), /limit\[0\] \('cpus'\) must not carry a reservation/);
      await refused(op.update({ role: '*', setQuota: true, limit: r('cpus:2') }), /role '\*' cannot have quota/);
      assert.deepEqual(await op.roles(), [], 'nothing was stored');
    } finally {
      op.close();
      await master.stop();
    }
  });
});

/** Verdict reasons by agent ID. */
const reasonsBy = (ex: agora.v1.ExplainOffersResponse): Map<string, { offerable: boolean; reasons: string }> =>
  new Map((ex.agents ?? []).map((a) => [a.agentId?.value ?? '', { offerable: !!a.offerable, reasons: (a.reasons ?? []).join(' | ') }]));

describe('ExplainOffers', () => {
  test('filtered, reserved for another role, insufficient resources, offerable — each shown', async () => {
    const { master, op } = await boot();
    const plain = new TestAgent(master.address);
    const reserved = new TestAgent(master.address);
    const tiny = new TestAgent(master.address);
    const ops = new TestScheduler(master.address);
    try {
      const plainId = await plain.register('cpus:4;mem:1024');
      const reservedId = await reserved.register('cpus(eng):4;mem(eng):1024');
      const tinyId = await tiny.register('cpus:0.005;mem:16');
      const fwId = await ops.subscribe({ name: 'ops', roles: ['ops'] });
      const [o] = await ops.offers();
      assert.equal(o?.agentId?.value, plainId);

      let v = reasonsBy(await op.explain(fwId));
      assert.match(v.get(plainId)?.reasons ?? '', /already offered to this framework \(outstanding: /);
      ops.do({ type: CallType.DECLINE, decline: { offerIds: [{ value: o?.id?.value ?? '' }], filters: { refuseSeconds: 3600 } } });
      await sleep(30);

      v = reasonsBy(await op.explain(fwId));
      assert.equal(v.get(plainId)?.offerable, false);
      assert.match(v.get(plainId)?.reasons ?? '', /^filtered: the framework declined cpus:4;mem:1024 here; not offered again until \d{4}-\d\d-\d\dT.* or REVIVE$/);
      assert.equal(v.get(reservedId)?.offerable, false);
      assert.match(v.get(reservedId)?.reasons ?? '', /^free resources are reserved for other role\(s\): 'eng'$/);
      assert.equal(v.get(tinyId)?.offerable, false);
      assert.match(v.get(tinyId)?.reasons ?? '', /^insufficient free resources: cpus:0\.005;mem:16 free \(an offer needs at least 0\.01 cpus or 32 MiB mem\)$/);

      // REVIVE lifts the filter: offerable (and offered).
      ops.do({ type: CallType.REVIVE });
      const [again] = await ops.offers();
      // Suppressed, then declined: nothing comes back to it.
      ops.do({ type: CallType.SUPPRESS });
      ops.do({ type: CallType.DECLINE, decline: { offerIds: [{ value: again?.id?.value ?? '' }], filters: { refuseSeconds: 0 } } });
      await sleep(30);
      const ex = await op.explain(fwId);
      assert.match((ex.notes ?? []).join(' | '), /suppressed \(SUPPRESS\)/);
      assert.match(reasonsBy(ex).get(plainId)?.reasons ?? '', /^no active role \(suppressed\)$/);

      // A disconnected framework: nothing but its connection stands in the way.
      const gone = new TestScheduler(master.address);
      const goneId = await gone.subscribe({ name: 'gone', roles: ['gone'], failoverTimeoutSeconds: 600 });
      await gone.offers();
      gone.close();
      await until('rescinded', () => (master.metrics()['master/offers_outstanding'] ?? 1) === 0);
      const ex2 = await op.explain(goneId);
      assert.match((ex2.notes ?? []).join(' | '), /the framework is disconnected/);
      v = reasonsBy(ex2);
      assert.equal(v.get(plainId)?.offerable, true);
      assert.match(v.get(plainId)?.reasons ?? '', /^offerable: cpus:4;mem:1024 free for it; offered when its turn comes/);

      // Unknown and empty framework IDs.
      await assert.rejects(op.explain('fw-nope'), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND && /framework 'fw-nope' is not known/.test(e.details));
      await refused(op.explain(''), /framework_id is empty/);
    } finally {
      ops.close(); plain.close(); reserved.close(); tiny.close(); op.close();
      await master.stop();
    }
  });
});

/** Launches one task per offer using all of it (what a greedy framework does). */
function launchAll(s: TestScheduler, offers: agora.v1.Offer[], prefix: string): void {
  for (const [i, o] of offers.entries()) {
    s.launch([o.id?.value ?? ''], [{ name: `${prefix}${i}`, taskId: { value: `${prefix}${o.id?.value}` }, resources: resources.stripAllocation(o.resources as agora.v1.Resource[]), command: { value: 'sleep 100' } }]);
  }
}

describe('quota through the master', () => {
  test('a role never holds more than its limit, however greedy; ExplainOffers says so', async () => {
    const { master, op } = await boot();
    const agents = [0, 1, 2].map(() => new TestAgent(master.address));
    const capped = new TestScheduler(master.address);
    const other = new TestScheduler(master.address);
    try {
      await op.update({ role: 'capped', setQuota: true, limit: r('cpus:3;mem:768') });
      const ids = [];
      for (const a of agents) ids.push(await a.register('cpus:2;mem:512'));
      const fwId = await capped.subscribe({ name: 'capped', roles: ['capped'] });
      const seen: agora.v1.Offer[] = [];
      // Greedy: take everything offered, ask again, several times over.
      for (let round = 0; round < 4; round++) {
        await sleep(40);
        const batch = capped.events.filter((e) => e.type === EventType.OFFERS).flatMap((e) => (e.offers?.offers ?? []) as agora.v1.Offer[]);
        capped.events.length = 0;
        seen.push(...batch);
        launchAll(capped, batch, `t${round}-`);
        capped.do({ type: CallType.REVIVE });
        const role = await op.role('capped');
        const held = resources.add((role?.allocated ?? []) as agora.v1.Resource[], (role?.offered ?? []) as agora.v1.Resource[]);
        assert.ok(resources.scalarOf(held, 'cpus') <= 3 && resources.scalarOf(held, 'mem') <= 768, `round ${round}: capped holds ${resources.formatResources(held)}`);
      }
      assert.equal(seen.reduce((s, o) => s + cpusOf(o.resources), 0), 3, 'offered exactly up to the limit');
      assert.equal(cpusOf((await op.role('capped'))?.allocated), 3);
      // The rest of the cluster is not held back from others.
      await other.subscribe({ name: 'other', roles: ['other'] });
      const got = await other.offers();
      assert.equal(got.reduce((s, o) => s + cpusOf(o.resources), 0), 3);
      const ex = await op.explain(fwId);
      assert.match((ex.notes ?? []).join(' | '), /role 'capped' has reached its quota limit for cpus, mem/);
      // The agents with free resources (held by `other` now, or not) are not offered: the limit says why.
      const v = reasonsBy(ex);
      const untouched = ids.find((id) => !seen.some((o) => o.agentId?.value === id));
      assert.ok(untouched);
      assert.match(v.get(untouched)?.reasons ?? '', /quota limit of role 'capped' reached|insufficient free resources/);
      await until('RUN_TASKs', () => agents.reduce((n, a) => n + a.events.filter((e) => e.type === AgentEventType.RUN_TASK).length, 0) === seen.length);
    } finally {
      capped.close(); other.close(); op.close();
      for (const a of agents) a.close();
      await master.stop();
    }
  });

  test('a limit that is reached shows in ExplainOffers as the reason', async () => {
    const { master, op } = await boot();
    const a1 = new TestAgent(master.address);
    const a2 = new TestAgent(master.address);
    const sched = new TestScheduler(master.address);
    try {
      await op.update({ role: 'capped', setQuota: true, limit: r('cpus:2;mem:512') });
      const id1 = await a1.register('cpus:2;mem:512');
      const fwId = await sched.subscribe({ name: 'capped', roles: ['capped'] });
      const [o] = await sched.offers();
      launchAll(sched, [o as agora.v1.Offer], 'x');
      await a1.take('RUN_TASK', (e) => e.type === AgentEventType.RUN_TASK);
      const id2 = await a2.register('cpus:2;mem:512');
      await sleep(40);
      assert.ok(!sched.has((e) => e.type === EventType.OFFERS), 'nothing beyond the limit is offered');
      const v = reasonsBy(await op.explain(fwId));
      assert.equal(v.get(id2)?.offerable, false);
      assert.match(v.get(id2)?.reasons ?? '', /^quota limit of role 'capped' reached \(room left: cpus 0, mem 0\)$/);
      assert.match(v.get(id1)?.reasons ?? '', /insufficient free resources: nothing free/);
      // Raising the limit lets the next round offer the second agent.
      await op.update({ role: 'capped', setQuota: true, limit: r('cpus:4;mem:1024') });
      const [o2] = await sched.offers();
      assert.equal(o2?.agentId?.value, id2);
    } finally {
      sched.close(); a1.close(); a2.close(); op.close();
      await master.stop();
    }
  });

  test('a guarantee is met before fair sharing', async () => {
    const { master, op } = await boot();
    const agents = [0, 1, 2, 3].map(() => new TestAgent(master.address));
    const g = new TestScheduler(master.address);
    const hog = new TestScheduler(master.address);
    try {
      await op.update({ role: 'g', setQuota: true, guarantee: r('cpus:6;mem:1536') });
      // Both want offers before any agent exists: with equal DRF shares they would split 4:4.
      await g.subscribe({ name: 'g', roles: ['g'] });
      await hog.subscribe({ name: 'hog', roles: ['hog'] });
      for (const a of agents) {
        await a.register('cpus:2;mem:512');
        await sleep(10);
      }
      await sleep(40);
      const gRole = await op.role('g');
      const hogRole = await op.role('hog');
      assert.equal(cpusOf(gRole?.offered), 6, `g holds ${fmt(gRole?.offered)}`);
      assert.equal(cpusOf(hogRole?.offered), 2, `hog holds ${fmt(hogRole?.offered)}`);
    } finally {
      g.close(); hog.close(); op.close();
      for (const a of agents) a.close();
      await master.stop();
    }
  });
});

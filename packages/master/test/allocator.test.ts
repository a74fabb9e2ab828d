import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { resources, type Resource } from '@agora/core';
import {
  Allocator, DrfSorter, PrioritySorter, RandomSorter, RoundRobinSorter, createSorter, SORTER_NAMES, isWithin,
  type Allocation, type FrameworkSlot, type Sorter, type AgentSlot, type RoleConfig,
} from '../src/allocator/index.js';

const R = resources.parseResources;
const NOW = 1_700_000_000_000;

function totalsOf(agents: AgentSlot[]): Map<string, number> {
  const t = new Map<string, number>();
  for (const a of agents) for (const name of resources.scalarNames(a.available)) t.set(name, (t.get(name) ?? 0) + resources.scalarOf(a.available, name));
  return t;
}

type MutableSlot = Omit<FrameworkSlot, "usage" | "roleUsage"> & { usage: Map<string, number>; roleUsage?: Map<string, Map<string, number>> };

function fw(id: string, extra: Partial<FrameworkSlot> = {}): MutableSlot {
  return { id, roles: ['*'], suppressed: false, usage: new Map(), ...extra } as MutableSlot;
}

/** Charges allocations to the frameworks' usage, as the master does when it sends offers. */
function charge(frameworks: MutableSlot[], out: readonly Allocation[]): void {
  for (const a of out) {
    const f = frameworks.find((x) => x.id === a.frameworkId)!;
    for (const n of resources.scalarNames(a.resources)) f.usage.set(n, (f.usage.get(n) ?? 0) + resources.scalarOf(a.resources, n));
    if (f.roleUsage) {
      let u = f.roleUsage.get(a.role);
      if (!u) f.roleUsage.set(a.role, (u = new Map()));
      for (const n of resources.scalarNames(a.resources)) u.set(n, (u.get(n) ?? 0) + resources.scalarOf(a.resources, n));
    }
  }
}

const sorters: [string, () => Sorter][] = [
  ['drf', () => new DrfSorter()],
  ['random', () => new RandomSorter(42)],
  ['priority', () => new PrioritySorter()],
  ['round-robin', () => new RoundRobinSorter()],
];

test('every built-in sorter is in the shared suite', () => {
  assert.deepEqual(sorters.map(([n]) => n).sort(), [...SORTER_NAMES].sort());
  for (const n of SORTER_NAMES) assert.equal(createSorter(n).name, n);
  assert.throws(() => createSorter('nope' as 'drf'), /unknown sorter 'nope'/);
});

// One suite run over every sorter (Mesos CommonSorterTest).
for (const [name, make] of sorters) {
  describe(`allocator with the ${name} sorter`, () => {
    test('offers every agent once, to one framework, with all its resources', () => {
      const agents = [{ id: 'a1', available: R('cpus:4;mem:1024;ports:[31000-31009]') }, { id: 'a2', available: R('cpus:2;mem:512') }];
      const out = new Allocator({ sorter: make() }).allocate({ agents, frameworks: [fw('f1'), fw('f2')], totals: totalsOf(agents), now: NOW });
      assert.equal(out.length, 2);
      assert.deepEqual(out.map((a) => a.agentId).sort(), ['a1', 'a2']);
      const a1 = out.find((a) => a.agentId === 'a1');
      assert.ok(a1 && resources.contains(a1.resources, agents[0]!.available) && resources.contains(agents[0]!.available, a1.resources));
      assert.equal(a1.role, '*');
    });

    test('suppressed frameworks and roles get nothing; no frameworks means no allocations', () => {
      const agents = [{ id: 'a1', available: R('cpus:4;mem:1024') }];
      const alloc = new Allocator({ sorter: make() });
      assert.deepEqual(alloc.allocate({ agents, frameworks: [fw('f1', { suppressed: true })], totals: totalsOf(agents), now: NOW }), []);
      assert.deepEqual(alloc.allocate({ agents, frameworks: [], totals: totalsOf(agents), now: NOW }), []);
      assert.deepEqual(alloc.allocate({ agents, frameworks: [fw('f1', { active: false })], totals: totalsOf(agents), now: NOW }), []);
      const multi = fw('m', { roles: ['a', 'b'], suppressedRoles: new Set(['a']) });
      assert.deepEqual(alloc.allocate({ agents, frameworks: [multi], totals: totalsOf(agents), now: NOW }).map((a) => a.role), ['b']);
    });

    test('a filter holds back what was refused until it expires, but not more than was refused', () => {
      const agents = [{ id: 'a1', available: R('cpus:4;mem:1024') }];
      const filters = new Map([['a1', { until: NOW + 5000, resources: R('cpus:4;mem:1024') }]]);
      const alloc = new Allocator({ sorter: make() });
      const f = fw('f1', { filters });
      assert.equal(alloc.allocate({ agents, frameworks: [f], totals: totalsOf(agents), now: NOW }).length, 0);
      assert.equal(alloc.allocate({ agents, frameworks: [f], totals: totalsOf(agents), now: NOW + 4999 }).length, 0);
      assert.equal(alloc.allocate({ agents, frameworks: [f], totals: totalsOf(agents), now: NOW + 5000 }).length, 1);
      const bigger = [{ id: 'a1', available: R('cpus:8;mem:2048') }];
      assert.equal(alloc.allocate({ agents: bigger, frameworks: [f], totals: totalsOf(bigger), now: NOW }).length, 1);
      const out = alloc.allocate({ agents, frameworks: [f, fw('f2')], totals: totalsOf(agents), now: NOW });
      assert.deepEqual(out.map((a) => a.frameworkId), ['f2']);
    });

    test('crumbs below the minimum allocatable are not offered', () => {
      const agents = [{ id: 'a1', available: R('cpus:0.001;mem:8;ports:[1-2]') }];
      assert.equal(new Allocator({ sorter: make() }).allocate({ agents, frameworks: [fw('f1')], totals: totalsOf(agents), now: NOW }).length, 0);
      const big = new Allocator({ sorter: make(), minAllocatable: { cpus: 2, mem: 4096 } });
      const a2 = [{ id: 'a2', available: R('cpus:1;mem:1024') }];
      assert.equal(big.allocate({ agents: a2, frameworks: [fw('f1')], totals: totalsOf(a2), now: NOW }).length, 0);
    });

    test('reserved resources go only to their role and its children', () => {
      const agents = [{ id: 'a1', available: R('cpus:2;mem:512;cpus(eng):4;mem(eng):1024') }];
      const out = new Allocator({ sorter: make() }).allocate({
        agents, frameworks: [fw('ops', { roles: ['ops'] }), fw('web', { roles: ['eng/web'] })], totals: totalsOf(agents), now: NOW,
      });
      const web = out.filter((a) => a.frameworkId === 'web').flatMap((a) => a.resources);
      const ops = out.filter((a) => a.frameworkId === 'ops').flatMap((a) => a.resources);
      assert.ok(ops.every((r) => resources.reservationRole(r) === '*'), 'ops never sees eng reservations');
      assert.equal(resources.scalarOf(web.filter((r) => resources.reservationRole(r) === 'eng'), 'cpus'), 4, 'eng/web gets what eng reserved');
      assert.equal(resources.scalarOf([...web, ...ops], 'cpus'), 6);
    });

    test('a quota limit cuts offers down and is never exceeded', () => {
      const agents = Array.from({ length: 4 }, (_, i) => ({ id: `a${i}`, available: R('cpus:4;mem:4096') }));
      const roles = new Map<string, RoleConfig>([['batch', { quota: { limit: new Map([['cpus', 6]]) } }]]);
      const out = new Allocator({ sorter: make() }).allocate({ agents, frameworks: [fw('b', { roles: ['batch'] })], totals: totalsOf(agents), now: NOW, roles });
      assert.equal(resources.scalarOf(out.flatMap((a) => a.resources), 'cpus'), 6);
    });

    test('property: nothing offered twice, no agent over-committed, reservations and quota honoured, guarantees met', () => {
      const roleNames = ['a', 'a/x', 'b', '*'];
      const agentArb = fc.record({ cpus: fc.integer({ min: 0, max: 16 }), mem: fc.integer({ min: 0, max: 8192 }), ports: fc.integer({ min: 0, max: 20 }), resCpus: fc.integer({ min: 0, max: 4 }), resRole: fc.constantFrom('a', 'b') });
      const fwArb = fc.record({ role: fc.constantFrom(...roleNames), suppressed: fc.boolean(), filtered: fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 3 }), cpusUsed: fc.integer({ min: 0, max: 20 }), priority: fc.integer({ min: 0, max: 3 }) });
      const quotaArb = fc.record({ limitA: fc.option(fc.integer({ min: 0, max: 30 })), guaranteeB: fc.option(fc.integer({ min: 0, max: 20 })) });
      fc.assert(fc.property(fc.array(agentArb, { minLength: 1, maxLength: 10 }), fc.array(fwArb, { minLength: 1, maxLength: 6 }), quotaArb, (as, fs, q) => {
        const agents = as.map((a, i) => ({ id: `a${i}`, available: R(`cpus:${a.cpus};mem:${a.mem}${a.ports ? `;ports:[31000-${31000 + a.ports - 1}]` : ''}${a.resCpus ? `;cpus(${a.resRole}):${a.resCpus}` : ''}`) }));
        const frameworks = fs.map((f, i) => fw(`f${i}`, {
          roles: [f.role], suppressed: f.suppressed, priority: f.priority,
          usage: new Map([['cpus', f.cpusUsed]]),
          filters: new Map(f.filtered.map((n) => [`a${n}`, { until: NOW + 1, resources: R('cpus:1000;mem:100000;ports:[1-65535];cpus(a):100;cpus(b):100') }])),
        }));
        const roles = new Map<string, RoleConfig>();
        if (q.limitA !== null) roles.set('a', { quota: { limit: new Map([['cpus', q.limitA]]) } });
        if (q.guaranteeB !== null) roles.set('b', { quota: { guarantee: new Map([['cpus', q.guaranteeB]]) } });
        const out = new Allocator({ sorter: make() }).allocate({ agents, frameworks, totals: totalsOf(agents), now: NOW, roles });
        const seen = new Set<string>();
        const perAgent = new Map<string, Resource[]>();
        const usedBy = new Map<string, number>();
        for (const a of out) {
          const k = `${a.agentId}/${a.frameworkId}/${a.role}`;
          assert.ok(!seen.has(k), `one allocation per (agent, framework, role): ${k}`);
          seen.add(k);
          const f = frameworks.find((x) => x.id === a.frameworkId)!;
          assert.ok(!f.suppressed, 'suppressed framework got an offer');
          assert.ok(!f.filters?.has(a.agentId), 'filtered agent offered');
          for (const r of a.resources) {
            const res = resources.reservationRole(r);
            assert.ok(res === '*' || isWithin(a.role, res), `resource reserved for ${res} offered to role ${a.role}`);
          }
          perAgent.set(a.agentId, [...(perAgent.get(a.agentId) ?? []), ...a.resources]);
          for (let r = a.role; r; r = r.includes('/') ? r.slice(0, r.lastIndexOf('/')) : '') usedBy.set(r, (usedBy.get(r) ?? 0) + resources.scalarOf(a.resources, 'cpus'));
        }
        for (const [id, given] of perAgent) {
          const avail = agents.find((x) => x.id === id)!.available;
          assert.ok(resources.contains(avail, resources.flatten(given)), `agent ${id} over-offered`);
          for (const n of ['cpus', 'mem']) assert.ok(resources.scalarOf(given, n) <= resources.scalarOf(avail, n) + 1e-9);
          const ports = given.filter((r) => r.name === 'ports').flatMap((r) => r.ranges?.range ?? []);
          const count = ports.reduce((s, r) => s + Number(r.end) - Number(r.begin) + 1, 0);
          assert.ok(count <= resources.rangesOfName(avail, 'ports').reduce((s, [b, e]) => s + e - b + 1, 0));
        }
        // Quota limit of 'a' (its subtree includes 'a/x'), counting what it held before.
        if (q.limitA !== null) {
          const before = frameworks.filter((f) => f.roles[0] === 'a' || f.roles[0] === 'a/x').reduce((s, f) => s + (f.usage.get('cpus') ?? 0), 0);
          const got = usedBy.get('a') ?? 0;
          assert.ok(got <= Math.max(0, q.limitA - before) + 1e-9, `limit ${q.limitA} of 'a' exceeded: held ${before}, got ${got}`);
        }
        // Guarantee of 'b': met when an unfiltered, unsuppressed framework of 'b' exists and the
        // cluster has enough unreserved (or b-reserved) cpus it may use.
        if (q.guaranteeB !== null) {
          const bf = frameworks.filter((f) => f.roles[0] === 'b' && !f.suppressed);
          const held = frameworks.filter((f) => f.roles[0] === 'b').reduce((s, f) => s + (f.usage.get('cpus') ?? 0), 0);
          const open = bf.some((f) => (f.filters?.size ?? 0) === 0);
          const usable = agents.reduce((s, a) => s + resources.scalarOf(a.available.filter((r) => resources.reservationRole(r) === '*'), 'cpus'), 0);
          const need = q.guaranteeB - held;
          if (open && need > 0 && usable >= need) assert.ok((usedBy.get('b') ?? 0) >= need - 1e-9, `guarantee of b unmet: need ${need}, got ${usedBy.get('b') ?? 0}`);
        }
      }), { numRuns: 300 });
    });
  });
}

describe('DRF and weights', () => {
  test('the client with the smallest dominant share goes first; weights divide shares', () => {
    const totals = new Map([['cpus', 10], ['mem', 1000]]);
    const order = new DrfSorter().sort([
      { id: 'big', usage: new Map([['cpus', 5]]), weight: 1, priority: 0 },
      { id: 'mem-heavy', usage: new Map([['mem', 300]]), weight: 1, priority: 0 },
      { id: 'idle', usage: new Map(), weight: 1, priority: 0 },
    ], totals);
    assert.deepEqual(order.map((c) => c.id), ['idle', 'mem-heavy', 'big']);
    const w = new DrfSorter().sort([
      { id: 'a', usage: new Map([['cpus', 4]]), weight: 1, priority: 0 },
      { id: 'b', usage: new Map([['cpus', 6]]), weight: 3, priority: 0 },
    ], new Map([['cpus', 10]]));
    assert.deepEqual(w.map((c) => c.id), ['b', 'a']);
  });

  test('property: equal demand converges to equal shares', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 10, max: 60 }), (nf, na) => {
      const frameworks = Array.from({ length: nf }, (_, i) => fw(`f${i}`));
      const agents = Array.from({ length: na }, (_, i) => ({ id: `a${i}`, available: R('cpus:1;mem:100') }));
      const out = new Allocator().allocate({ agents, frameworks, totals: totalsOf(agents), now: NOW });
      assert.equal(out.length, na);
      const counts = frameworks.map((f) => out.filter((a) => a.frameworkId === f.id).length);
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `uneven: ${counts.join(',')}`);
    }), { numRuns: 50 });
  });

  test('roles with weights 1 and 3 on a contended cluster converge to a 1:3 dominant-share split', () => {
    const agents = Array.from({ length: 80 }, (_, i) => ({ id: `a${i}`, available: R('cpus:1;mem:512') }));
    const totals = totalsOf(agents);
    // Several frameworks per role: the split is between roles, not frameworks.
    const frameworks = [fw('l1', { roles: ['light'] }), fw('l2', { roles: ['light'] }), fw('h1', { roles: ['heavy'] })];
    const roles = new Map<string, RoleConfig>([['light', { weight: 1 }], ['heavy', { weight: 3 }]]);
    const alloc = new Allocator();
    // Agents free up a few at a time, as events would deliver them.
    for (let i = 0; i < agents.length; i += 4) charge(frameworks, alloc.allocate({ agents: agents.slice(i, i + 4), frameworks, totals, now: NOW, roles }));
    const light = (frameworks[0]!.usage.get('cpus') ?? 0) + (frameworks[1]!.usage.get('cpus') ?? 0);
    const heavy = frameworks[2]!.usage.get('cpus') ?? 0;
    assert.equal(light + heavy, 80);
    assert.ok(Math.abs(heavy / light - 3) <= 0.15, `split ${light}:${heavy}`);
  });

  test('hierarchical roles: a parent role is compared by its whole subtree', () => {
    const agents = Array.from({ length: 12 }, (_, i) => ({ id: `a${i}`, available: R('cpus:1;mem:512') }));
    const frameworks = [fw('web', { roles: ['eng/web'] }), fw('batch', { roles: ['eng/batch'] }), fw('ops', { roles: ['ops'] })];
    const out = new Allocator().allocate({ agents, frameworks, totals: totalsOf(agents), now: NOW });
    const count = (id: string) => out.filter((a) => a.frameworkId === id).length;
    // eng (web + batch) and ops split 6:6; inside eng, 3:3.
    assert.deepEqual([count('web'), count('batch'), count('ops')], [3, 3, 6]);
  });

  test('a MULTI_ROLE framework is allocated per role', () => {
    const agents = Array.from({ length: 4 }, (_, i) => ({ id: `a${i}`, available: R('cpus:1;mem:512') }));
    const m = fw('m', { roles: ['x', 'y'], roleUsage: new Map() });
    const out = new Allocator().allocate({ agents, frameworks: [m], totals: totalsOf(agents), now: NOW });
    assert.deepEqual(out.map((a) => a.role).sort(), ['x', 'x', 'y', 'y']);
  });

  test('guarantees are met before fair sharing; the rest is shared', () => {
    const agents = Array.from({ length: 10 }, (_, i) => ({ id: `a${i}`, available: R('cpus:1;mem:512') }));
    const frameworks = [fw('a1'), fw('a2'), fw('a3'), fw('g', { roles: ['gold'] })];
    const roles = new Map<string, RoleConfig>([['gold', { quota: { guarantee: new Map([['cpus', 6]]) } }]]);
    const out = new Allocator().allocate({ agents, frameworks, totals: totalsOf(agents), now: NOW, roles });
    assert.equal(out.filter((a) => a.frameworkId === 'g').length, 6);
  });
});

describe('policies on the same workload', () => {
  // Workload: 4 agents of different sizes; f-busy already holds 4 cpus, f-idle nothing;
  // f-busy has priority 10, f-idle 0.
  const agents = [
    { id: 'small', available: R('cpus:1;mem:1024') },
    { id: 'large', available: R('cpus:8;mem:8192') },
    { id: 'medium', available: R('cpus:4;mem:4096') },
    { id: 'tiny', available: R('cpus:0.5;mem:512') },
  ];
  const totals = new Map([['cpus', 17.5], ['mem', 17920]]);
  const workload = (): MutableSlot[] => [fw('f-busy', { usage: new Map([['cpus', 4]]), priority: 10 }), fw('f-idle', { priority: 0 })];
  const firstTo = (sorter: Sorter, agentOrder: 'spread' | 'binpack' = 'spread') => {
    const out = new Allocator({ sorter, agentOrder }).allocate({ agents, frameworks: workload(), totals, now: NOW });
    return out.map((a) => `${a.agentId}:${a.frameworkId}`);
  };

  test('drf: the framework holding less goes first', () => {
    assert.deepEqual(firstTo(new DrfSorter()).slice(0, 1), ['large:f-idle']);
  });

  test('priority: the higher priority goes first although it holds more', () => {
    assert.deepEqual(firstTo(new PrioritySorter()).slice(0, 2), ['large:f-busy', 'medium:f-busy']);
  });

  test('round-robin: turns alternate whatever is held', () => {
    assert.deepEqual(firstTo(new RoundRobinSorter()), ['large:f-busy', 'medium:f-idle', 'small:f-busy', 'tiny:f-idle']);
  });

  test('random: reproducible for a seed, and not the DRF order for every seed', () => {
    assert.deepEqual(firstTo(new RandomSorter(7)), firstTo(new RandomSorter(7)));
    const drf = firstTo(new DrfSorter()).join();
    const orders = new Set(Array.from({ length: 20 }, (_, s) => firstTo(new RandomSorter(s + 1)).join()));
    assert.ok(orders.size > 1 && [...orders].some((o) => o !== drf));
  });

  test('spread offers the emptiest agents first, binpack the fullest', () => {
    assert.deepEqual(firstTo(new DrfSorter(), 'spread').map((x) => x.split(':')[0]), ['large', 'medium', 'small', 'tiny']);
    assert.deepEqual(firstTo(new DrfSorter(), 'binpack').map((x) => x.split(':')[0]), ['tiny', 'small', 'medium', 'large']);
    // With a quota limit only one agent's worth fits: spread lands it on the largest, binpack on the smallest.
    const roles = new Map<string, RoleConfig>([['*', { quota: { limit: new Map([['cpus', 0.5]]) } }]]);
    const one = (agentOrder: 'spread' | 'binpack') => new Allocator({ agentOrder }).allocate({ agents, frameworks: [fw('f')], totals, now: NOW, roles }).map((a) => a.agentId);
    assert.deepEqual(one('spread'), ['large']);
    assert.deepEqual(one('binpack'), ['tiny']);
  });
});

test('filters with a fake clock: not re-offered before refuse_seconds, re-offered after revive', () => {
  // The master's REVIVE clears filters; here the clock moves instead of anyone sleeping.
  const agents = [{ id: 'a1', available: R('cpus:2;mem:1024') }];
  const filters = new Map([['a1', { until: NOW + 5000, resources: R('cpus:2;mem:1024') }]]);
  const f = fw('f', { filters });
  const alloc = new Allocator();
  for (const t of [0, 1000, 4999]) assert.equal(alloc.allocate({ agents, frameworks: [f], totals: totalsOf(agents), now: NOW + t }).length, 0);
  assert.equal(alloc.allocate({ agents, frameworks: [f], totals: totalsOf(agents), now: NOW + 5000 }).length, 1);
  filters.clear(); // REVIVE
  assert.equal(alloc.allocate({ agents, frameworks: [f], totals: totalsOf(agents), now: NOW }).length, 1);
});

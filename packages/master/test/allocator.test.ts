import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { resources, type Resource } from '@agora/core';
import { Allocator, DrfSorter, RandomSorter, createSorter, type FrameworkSlot, type Sorter, type AgentSlot } from '../src/allocator/index.js';

const R = resources.parseResources;
const NOW = 1_700_000_000_000;

function totalsOf(agents: AgentSlot[]): Map<string, number> {
  const t = new Map<string, number>();
  for (const a of agents) for (const name of resources.scalarNames(a.available)) t.set(name, (t.get(name) ?? 0) + resources.scalarOf(a.available, name));
  return t;
}

function fw(id: string, extra: Partial<FrameworkSlot> = {}): FrameworkSlot {
  return { id, role: '*', suppressed: false, usage: new Map(), ...extra };
}

const sorters: [string, () => Sorter][] = [
  ['drf', () => new DrfSorter()],
  ['random', () => new RandomSorter(42)],
];

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
    });

    test('suppressed frameworks get nothing; no frameworks means no allocations', () => {
      const agents = [{ id: 'a1', available: R('cpus:4;mem:1024') }];
      const alloc = new Allocator({ sorter: make() });
      assert.deepEqual(alloc.allocate({ agents, frameworks: [fw('f1', { suppressed: true })], totals: totalsOf(agents), now: NOW }), []);
      assert.deepEqual(alloc.allocate({ agents, frameworks: [], totals: totalsOf(agents), now: NOW }), []);
    });

    test('a filter holds back what was refused until it expires, but not more than was refused', () => {
      const agents = [{ id: 'a1', available: R('cpus:4;mem:1024') }];
      const filters = new Map([['a1', { until: NOW + 5000, resources: R('cpus:4;mem:1024') }]]);
      const alloc = new Allocator({ sorter: make() });
      const f = fw('f1', { filters });
      assert.equal(alloc.allocate({ agents, frameworks: [f], totals: totalsOf(agents), now: NOW }).length, 0);
      assert.equal(alloc.allocate({ agents, frameworks: [f], totals: totalsOf(agents), now: NOW + 5000 }).length, 1);
      // More became free than was refused: offered again at once.
      const bigger = [{ id: 'a1', available: R('cpus:8;mem:2048') }];
      assert.equal(alloc.allocate({ agents: bigger, frameworks: [f], totals: totalsOf(bigger), now: NOW }).length, 1);
      // A filtered framework leaves the agent to the next one.
      const out = alloc.allocate({ agents, frameworks: [f, fw('f2')], totals: totalsOf(agents), now: NOW });
      assert.deepEqual(out.map((a) => a.frameworkId), ['f2']);
    });

    test('crumbs below the minimum allocatable are not offered', () => {
      const agents = [{ id: 'a1', available: R('cpus:0.001;mem:8;ports:[1-2]') }];
      assert.equal(new Allocator({ sorter: make() }).allocate({ agents, frameworks: [fw('f1')], totals: totalsOf(agents), now: NOW }).length, 0);
    });

    test('reserved resources go only to their role', () => {
      const agents = [{ id: 'a1', available: R('cpus:2;mem:512;cpus(eng):4;mem(eng):1024') }];
      const out = new Allocator({ sorter: make() }).allocate({ agents, frameworks: [fw('ops', { role: 'ops' }), fw('eng', { role: 'eng' })], totals: totalsOf(agents), now: NOW });
      const eng = out.filter((a) => a.frameworkId === 'eng').flatMap((a) => a.resources);
      const ops = out.filter((a) => a.frameworkId === 'ops').flatMap((a) => a.resources);
      assert.ok(ops.every((r) => resources.reservationRole(r) === '*'), 'ops never sees eng reservations');
      assert.equal(resources.scalarOf([...eng, ...ops], 'cpus'), 6);
    });

    test('property: never offers a resource twice, never beyond an agent, filters and suppression honoured', () => {
      const agentArb = fc.record({ cpus: fc.integer({ min: 0, max: 16 }), mem: fc.integer({ min: 0, max: 8192 }), ports: fc.integer({ min: 0, max: 20 }) });
      const fwArb = fc.record({ suppressed: fc.boolean(), filtered: fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 5 }), cpusUsed: fc.integer({ min: 0, max: 20 }) });
      fc.assert(fc.property(fc.array(agentArb, { minLength: 1, maxLength: 10 }), fc.array(fwArb, { minLength: 1, maxLength: 5 }), (as, fs) => {
        const agents = as.map((a, i) => ({ id: `a${i}`, available: R(`cpus:${a.cpus};mem:${a.mem}${a.ports ? `;ports:[31000-${31000 + a.ports - 1}]` : ''}`) }));
        const frameworks = fs.map((f, i) => fw(`f${i}`, {
          suppressed: f.suppressed,
          usage: new Map([['cpus', f.cpusUsed]]),
          filters: new Map(f.filtered.map((n) => [`a${n}`, { until: NOW + 1, resources: R('cpus:1000;mem:100000;ports:[1-65535]') }])),
        }));
        const out = new Allocator({ sorter: make() }).allocate({ agents, frameworks, totals: totalsOf(agents), now: NOW });
        const seen = new Set<string>();
        const perAgent = new Map<string, Resource[]>();
        for (const a of out) {
          const k = `${a.agentId}/${a.frameworkId}`;
          assert.ok(!seen.has(k), `one allocation per (agent, framework): ${k}`);
          seen.add(k);
          const f = frameworks.find((x) => x.id === a.frameworkId)!;
          assert.ok(!f.suppressed, 'suppressed framework got an offer');
          assert.ok(!f.filters?.has(a.agentId), 'filtered agent offered');
          perAgent.set(a.agentId, [...(perAgent.get(a.agentId) ?? []), ...a.resources]);
        }
        for (const [id, given] of perAgent) {
          const avail = agents.find((x) => x.id === id)!.available;
          assert.ok(resources.contains(avail, resources.flatten(given)), `agent ${id} over-offered`);
          // Nothing twice: the sum of what was given equals the distinct entries' sum.
          for (const n of ['cpus', 'mem']) assert.ok(resources.scalarOf(given, n) <= resources.scalarOf(avail, n));
          const ports = given.filter((r) => r.name === 'ports').flatMap((r) => r.ranges?.range ?? []);
          const count = ports.reduce((s, r) => s + Number(r.end) - Number(r.begin) + 1, 0);
          assert.ok(count <= resources.rangesOfName(avail, 'ports').reduce((s, [b, e]) => s + e - b + 1, 0));
        }
      }), { numRuns: 200 });
    });
  });
}

describe('DRF', () => {
  test('the framework with the smallest dominant share goes first', () => {
    const totals = new Map([['cpus', 10], ['mem', 1000]]);
    const s = new DrfSorter();
    const order = s.sort([
      { id: 'big', usage: new Map([['cpus', 5]]), weight: 1, priority: 0 },
      { id: 'mem-heavy', usage: new Map([['mem', 300]]), weight: 1, priority: 0 },
      { id: 'idle', usage: new Map(), weight: 1, priority: 0 },
    ], totals);
    assert.deepEqual(order.map((c) => c.id), ['idle', 'mem-heavy', 'big']);
  });

  test('property: equal demand converges to equal shares (within one agent)', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 10, max: 60 }), (nf, na) => {
      const alloc = new Allocator({ sorter: new DrfSorter() });
      const frameworks = Array.from({ length: nf }, (_, i) => fw(`f${i}`, { usage: new Map() }));
      const agents = Array.from({ length: na }, (_, i) => ({ id: `a${i}`, available: R('cpus:1;mem:100') }));
      const out = alloc.allocate({ agents, frameworks, totals: totalsOf(agents), now: NOW });
      assert.equal(out.length, na);
      const counts = frameworks.map((f) => out.filter((a) => a.frameworkId === f.id).length);
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `uneven: ${counts.join(',')}`);
    }), { numRuns: 50 });
  });

  test('property: repeated rounds keep shares balanced as frameworks hold what they got', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 10_000 }), (nf, seed) => {
      const rnd = new RandomSorter(seed);
      const frameworks = Array.from({ length: nf }, (_, i) => ({ ...fw(`f${i}`), usage: new Map<string, number>() }));
      const agents = Array.from({ length: 40 }, (_, i) => ({ id: `a${i}`, available: R('cpus:2;mem:256') }));
      const totals = totalsOf(agents);
      // Feed agents in random batches, as events would; usage accumulates between rounds.
      const order = rnd.sort(agents.map((a) => ({ ...a, usage: new Map(), weight: 1, priority: 0 })), totals);
      const alloc = new Allocator();
      for (let i = 0; i < order.length; i += 3) {
        const batch = order.slice(i, i + 3).map((a) => ({ id: a.id, available: a.available }));
        for (const a of alloc.allocate({ agents: batch, frameworks, totals, now: NOW })) {
          const f = frameworks.find((x) => x.id === a.frameworkId)!;
          for (const n of ['cpus', 'mem']) f.usage.set(n, (f.usage.get(n) ?? 0) + resources.scalarOf(a.resources, n));
        }
      }
      const shares = frameworks.map((f) => (f.usage.get('cpus') ?? 0) / (totals.get('cpus') ?? 1));
      assert.ok(Math.max(...shares) - Math.min(...shares) <= 2 / 80 + 1e-9, `shares diverge: ${shares.join(',')}`);
    }), { numRuns: 50 });
  });

  test('weights divide shares', () => {
    const totals = new Map([['cpus', 10]]);
    const order = new DrfSorter().sort([
      { id: 'a', usage: new Map([['cpus', 4]]), weight: 1, priority: 0 },
      { id: 'b', usage: new Map([['cpus', 6]]), weight: 3, priority: 0 },
    ], totals);
    assert.deepEqual(order.map((c) => c.id), ['b', 'a']);
  });
});

test('random sorter is reproducible for a seed', () => {
  const clients = Array.from({ length: 8 }, (_, i) => ({ id: `c${i}`, usage: new Map(), weight: 1, priority: 0 }));
  const a = new RandomSorter(7).sort(clients, new Map()).map((c) => c.id);
  const b = new RandomSorter(7).sort(clients, new Map()).map((c) => c.id);
  assert.deepEqual(a, b);
  assert.equal(createSorter('random', 7).name, 'random');
  assert.throws(() => createSorter('nope' as 'drf'), /unknown sorter 'nope'/);
});

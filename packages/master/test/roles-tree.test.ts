/**
 * The role tree kept between rounds (AllocatorState): over random sequences of events —
 * usage charged and released, suppression, roles changed, frameworks added and removed,
 * allocations the master did not apply — every round decides exactly what a fresh tree
 * decides, and unchanged frameworks are not re-read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { resources } from '@agora/core';
import {
  Allocator, AllocatorState, DrfSorter, PrioritySorter, RandomSorter, RoundRobinSorter,
  type AgentSlot, type Allocation, type FrameworkSlot, type RoleConfig, type Sorter,
} from '../src/allocator/index.js';

const NOW = 1_700_000_000_000;
const ROLES = ['a', 'a/x', 'a/y', 'b', 'c/d'];

interface Slot {
  id: string; roles: string[]; suppressed: boolean; suppressedRoles: Set<string>; active: boolean;
  usage: Map<string, number>; roleUsage: Map<string, Map<string, number>>; priority: number; version: number;
}

function add(into: Map<string, number>, res: readonly { name?: string | null }[], sign: number): void {
  for (const n of new Set(res.map((r) => r.name ?? ''))) {
    const v = Math.round(((into.get(n) ?? 0) + sign * resources.scalarOf(res as never, n)) * 1000) / 1000;
    if (Math.abs(v) < 1e-9) into.delete(n);
    else into.set(n, v);
  }
}

function chargeTo(f: Slot, role: string, res: readonly { name?: string | null }[], sign: 1 | -1): void {
  add(f.usage, res, sign);
  let u = f.roleUsage.get(role);
  if (!u) f.roleUsage.set(role, (u = new Map()));
  add(u, res, sign);
  if (u.size === 0) f.roleUsage.delete(role);
  f.version++;
}

const event = fc.oneof(
  fc.record({ t: fc.constant('apply' as const), keep: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }) }),
  fc.record({ t: fc.constant('release' as const), f: fc.nat(9) }),
  fc.record({ t: fc.constant('suppress' as const), f: fc.nat(9), on: fc.boolean() }),
  fc.record({ t: fc.constant('suppressRole' as const), f: fc.nat(9), role: fc.constantFrom(...ROLES) }),
  fc.record({ t: fc.constant('active' as const), f: fc.nat(9), on: fc.boolean() }),
  fc.record({ t: fc.constant('roles' as const), f: fc.nat(9), roles: fc.uniqueArray(fc.constantFrom(...ROLES), { minLength: 1, maxLength: 2 }) }),
  fc.record({ t: fc.constant('priority' as const), f: fc.nat(9), p: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ t: fc.constant('remove' as const), f: fc.nat(9) }),
  fc.record({ t: fc.constant('add' as const), roles: fc.uniqueArray(fc.constantFrom(...ROLES), { minLength: 1, maxLength: 2 }) }),
  fc.record({ t: fc.constant('agents' as const), pick: fc.array(fc.nat(5), { minLength: 1, maxLength: 3 }) }),
);

const quota: RoleConfig[] = [
  { weight: 2, quota: { guarantee: new Map([['cpus', 3]]), limit: new Map([['cpus', 6]]) } },
  { weight: 1, quota: { limit: new Map([['cpus', 4], ['mem', 4096]]) } },
  { weight: 3 },
];

for (const [name, make] of [['drf', () => new DrfSorter()], ['priority', () => new PrioritySorter()], ['round-robin', () => new RoundRobinSorter()]] as [string, () => Sorter][]) {
  test(`${name}: a kept tree decides exactly what a fresh one does`, () => {
    fc.assert(fc.property(fc.array(event, { minLength: 1, maxLength: 40 }), fc.boolean(), (events, withQuota) => {
      const roles = new Map<string, RoleConfig>(withQuota ? [['a', quota[0]!], ['b', quota[1]!], ['a/x', quota[2]!]] : []);
      const agents: AgentSlot[] = [];
      for (let i = 0; i < 6; i++) {
        const text = i % 3 === 0 ? 'cpus:2;mem:1024;cpus(a):1;mem(a):256' : i % 3 === 1 ? 'cpus:3;mem:2048' : 'cpus:1;mem:512;cpus(b):2';
        agents.push({ id: `agent-${i}`, available: resources.parseResources(text) });
      }
      const totals = new Map([['cpus', 18], ['mem', 7680]]);
      const frameworks: Slot[] = [];
      let nextId = 0;
      const newFw = (rs: string[]): Slot => ({ id: `fw-${nextId++}`, roles: rs, suppressed: false, suppressedRoles: new Set(), active: true, usage: new Map(), roleUsage: new Map(), priority: 0, version: 0 });
      for (let i = 0; i < 6; i++) frameworks.push(newFw([ROLES[i % ROLES.length]!]));
      const kept = new Allocator({ sorter: make() });
      const fresh = new Allocator({ sorter: make() });
      const state = new AllocatorState();
      // Outstanding decisions of the last round (the "offers").
      let last: Allocation[] = [];
      let candidates = agents;
      const round = (): void => {
        const input = { agents: candidates, frameworks: [...frameworks] as FrameworkSlot[], totals, now: NOW, roles };
        const a = kept.allocate(input, state);
        const b = fresh.allocate(input);
        assert.deepEqual(a, b, `kept: ${JSON.stringify(a.map((x) => [x.agentId, x.frameworkId, x.role, resources.formatResources(x.resources)]))}\nfresh: ${JSON.stringify(b.map((x) => [x.agentId, x.frameworkId, x.role, resources.formatResources(x.resources)]))}`);
        last = a;
      };
      round();
      for (const e of events) {
        const f = 'f' in e ? frameworks[e.f % Math.max(1, frameworks.length)] : undefined;
        switch (e.t) {
          case 'apply':
            // The master applies some decisions (charging usage) and drops others.
            for (const [i, al] of last.entries()) {
              const owner = frameworks.find((x) => x.id === al.frameworkId);
              if (owner && (e.keep[i % 8] ?? true)) chargeTo(owner, al.role, al.resources, 1);
            }
            break;
          case 'release':
            if (f) for (const [role, u] of [...f.roleUsage]) chargeTo(f, role, [...u].map(([n, v]) => resources.scalar(n, v / 2)), -1);
            break;
          case 'suppress': if (f) { f.suppressed = e.on; f.version++; } break;
          case 'suppressRole': if (f) { if (f.suppressedRoles.has(e.role)) f.suppressedRoles.delete(e.role); else f.suppressedRoles.add(e.role); f.version++; } break;
          case 'active': if (f) { f.active = e.on; f.version++; } break;
          case 'roles': if (f) { f.roles = e.roles; f.version++; } break;
          case 'priority': if (f) { f.priority = e.p; f.version++; } break;
          case 'remove': if (f) frameworks.splice(frameworks.indexOf(f), 1); break;
          case 'add': frameworks.push(newFw(e.roles)); break;
          case 'agents': candidates = e.pick.map((i) => agents[i]!); break;
        }
        round();
      }
    }), { numRuns: 150 });
  });
}

test('unchanged frameworks are not re-read; a changed one is patched; the random sorter never keeps a tree', () => {
  const frameworks: FrameworkSlot[] = [];
  for (let i = 0; i < 500; i++) frameworks.push({ id: `fw-${i}`, roles: [`r${i % 5}`], suppressed: false, usage: new Map([['cpus', 1]]), version: 1 });
  const agent: AgentSlot = { id: 'agent-0', available: resources.parseResources('cpus:4;mem:1024') };
  const totals = new Map([['cpus', 1000], ['mem', 100000]]);
  const alloc = new Allocator();
  const state = new AllocatorState();
  alloc.allocate({ agents: [agent], frameworks, totals, now: NOW }, state);
  assert.deepEqual(state.stats, { rebuilds: 1, patched: 0 });
  // The granted framework is re-read (the master may not have applied it); nobody else.
  alloc.allocate({ agents: [agent], frameworks, totals, now: NOW }, state);
  assert.deepEqual(state.stats, { rebuilds: 1, patched: 1 });
  frameworks[7] = { ...frameworks[7]!, usage: new Map([['cpus', 0]]), version: 2 };
  const out = alloc.allocate({ agents: [agent], frameworks, totals, now: NOW }, state);
  assert.equal(state.stats.rebuilds, 1);
  assert.equal(state.stats.patched, 3);
  assert.equal(out[0]?.frameworkId, 'fw-7', 'the one that released everything goes first');
  // New totals re-rank everyone: a rebuild.
  alloc.allocate({ agents: [agent], frameworks, totals: new Map([['cpus', 2000], ['mem', 100000]]), now: NOW }, state);
  assert.equal(state.stats.rebuilds, 2);

  const random = new Allocator({ sorter: new RandomSorter(3) });
  const rs = new AllocatorState();
  random.allocate({ agents: [agent], frameworks, totals, now: NOW }, rs);
  assert.equal(rs.tree, undefined);
});

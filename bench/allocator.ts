/**
 * Allocator benchmark (prints figures, never passes or fails): one full allocation cycle on
 * synthetic clusters — every agent free, every framework wanting — and the incremental case
 * (one agent frees resources, one round over just that agent). Agents have 32 cpus, 256 GiB
 * and 1,000 ports; frameworks sit in 1 or 20 roles; variants add filters (each framework has
 * declined 5 random agents) and reservations (a quarter of the agents reserve 8 cpus / 64 GiB
 * for one of the roles).
 *
 * Anchor (Mesos 1.8 HierarchicalAllocator, Mesos blog 2018-10-08): ≈1.1 s per cycle at
 * 10k agents × 1k frameworks, ≈3.8 s at 20k × 2k.
 *
 *   npm run bench:allocator            (BENCH_SIZES=1000x100,10000x1000 to choose sizes)
 */
import { performance } from 'node:perf_hooks';
import { resources, type Resource } from '@agora/core';
import { Allocator, AllocatorState, seededRandom, type AgentSlot, type FrameworkSlot } from './allocator-fixtures.js';

const SIZES: [number, number][] = (process.env.BENCH_SIZES ?? '1000x100,10000x1000,20000x2000,50000x6000')
  .split(',').map((s) => s.split('x').map(Number) as [number, number]);
const MESOS: Record<string, string> = { '10000x1000': '≈1.1 s', '20000x2000': '≈3.8 s' };

interface Variant { roles: number; filters: boolean; reservations: boolean }
const VARIANTS: Variant[] = [
  { roles: 1, filters: false, reservations: false },
  { roles: 20, filters: false, reservations: false },
  { roles: 20, filters: true, reservations: true },
];

function cluster(nAgents: number, nFrameworks: number, v: Variant): { agents: AgentSlot[]; frameworks: FrameworkSlot[]; totals: Map<string, number> } {
  const rnd = seededRandom(nAgents * 31 + nFrameworks);
  const plain = resources.parseResources('cpus:32;mem:262144;disk:1000000;ports:[31000-31999]');
  const agents: AgentSlot[] = [];
  for (let i = 0; i < nAgents; i++) {
    let available: Resource[] = plain;
    if (v.reservations && i % 4 === 0) {
      const role = `role-${i % v.roles}`;
      available = resources.parseResources(`cpus:24;mem:196608;disk:1000000;ports:[31000-31999];cpus(${role}):8;mem(${role}):65536`);
    }
    agents.push({ id: `agent-${String(i).padStart(6, '0')}`, available });
  }
  const now = 1_700_000_000_000;
  const frameworks: FrameworkSlot[] = [];
  for (let i = 0; i < nFrameworks; i++) {
    const filters = new Map<string, { until: number; resources: Resource[] }>();
    if (v.filters) for (let k = 0; k < 5; k++) filters.set(agents[Math.floor(rnd() * nAgents)]!.id, { until: now + 5000, resources: plain });
    frameworks.push({ id: `fw-${String(i).padStart(5, '0')}`, roles: [`role-${i % v.roles}`], suppressed: false, usage: new Map(), filters });
  }
  const totals = new Map([['cpus', 32 * nAgents], ['mem', 262144 * nAgents], ['disk', 1e6 * nAgents]]);
  return { agents, frameworks, totals };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

const rows: string[][] = [];
for (const [na, nf] of SIZES) {
  for (const v of VARIANTS) {
    const { agents, frameworks, totals } = cluster(na, nf, v);
    const now = 1_700_000_000_000;
    const alloc = new Allocator();
    const runs = na >= 20000 ? 3 : 5;
    const times: number[] = [];
    let offers = 0;
    for (let r = 0; r < runs; r++) {
      const t0 = performance.now();
      const out = alloc.allocate({ agents, frameworks, totals, now });
      times.push(performance.now() - t0);
      offers = out.length;
    }
    // Incremental: one agent frees resources; frameworks hold a fair share of the cluster.
    // `version` lets a kept tree (AllocatorState) skip frameworks that did not change.
    const held = frameworks.map((f) => ({ ...f, usage: new Map([['cpus', (32 * na) / nf], ['mem', (262144 * na) / nf]]), version: 1 }));
    const inc: number[] = [];
    for (let r = 0; r < 200; r++) {
      const one = [agents[(r * 7919) % na]!];
      const t0 = performance.now();
      alloc.allocate({ agents: one, frameworks: held, totals, now });
      inc.push(performance.now() - t0);
    }
    // The same with the role tree kept between rounds; the framework served last round is
    // re-read each time (as when the master charges the offer it made).
    const state = new AllocatorState();
    const kept: number[] = [];
    alloc.allocate({ agents: [agents[0]!], frameworks: held, totals, now }, state);
    for (let r = 0; r < 200; r++) {
      const one = [agents[(r * 7919) % na]!];
      const t0 = performance.now();
      alloc.allocate({ agents: one, frameworks: held, totals, now }, state);
      kept.push(performance.now() - t0);
    }
    if (state.stats.rebuilds !== 1) throw new Error(`the kept tree was rebuilt ${state.stats.rebuilds} times`);
    const label = `${v.roles} role${v.roles > 1 ? 's' : ''}${v.filters ? ' + filters' : ''}${v.reservations ? ' + reservations' : ''}`;
    rows.push([`${na.toLocaleString('en')} × ${nf.toLocaleString('en')}`, label, `${median(times).toFixed(1)} ms`, String(offers), `${median(inc).toFixed(3)} ms`, `${median(kept).toFixed(3)} ms`, v.roles === 1 ? MESOS[`${na}x${nf}`] ?? '' : '']);
    console.log(rows[rows.length - 1]!.join('  |  '));
  }
}

const head = ['agents × frameworks', 'variant', 'full cycle (median)', 'offers', 'one agent freed (median)', 'same, tree kept (median)', 'Mesos 1.8'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log(`\nAllocator cycle on this machine (node ${process.version}):\n`);
console.log(line(head));
console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`);
for (const r of rows) console.log(line(r));

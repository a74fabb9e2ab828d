/**
 * Cluster utilization over the last minutes: a ring buffer of samples (total and allocated
 * cpus/mem/disk, allocated per role) taken every few seconds. Sampling reads the ledger's
 * cluster totals and the frameworks' per-role usage counters (kept incrementally by the books)
 * minus outstanding offers, so a sample costs O(frameworks + offers), not O(tasks).
 */
import { addScalars, type Scalars } from './ledger.js';
import type { MasterState } from './master-state.js';

/** cpus, mem and disk (the scalars the UI charts). */
export interface Triple {
  cpus: number;
  mem: number;
  disk: number;
}

/** One sample. */
export interface UtilizationSample {
  /** ms since the epoch. */
  t: number;
  total: Triple;
  allocated: Triple;
  byRole: Record<string, Triple>;
}

const round = (v: number): number => Math.round(v * 1000) / 1000;
const triple = (s: Scalars | undefined): Triple => ({ cpus: round(Math.max(0, s?.get('cpus') ?? 0)), mem: round(Math.max(0, s?.get('mem') ?? 0)), disk: round(Math.max(0, s?.get('disk') ?? 0)) });

/** Takes one sample of the books now. */
export function sampleUtilization(m: MasterState): UtilizationSample {
  const held = new Map<string, Scalars>();
  for (const fw of m.frameworks.values()) {
    for (const [role, usage] of fw.roleUsage) {
      let s = held.get(role);
      if (!s) held.set(role, (s = new Map()));
      for (const [k, v] of usage) s.set(k, (s.get(k) ?? 0) + v);
    }
  }
  // roleUsage counts offered resources too; take outstanding offers back out.
  for (const o of m.offers.all()) {
    const s = held.get(o.role);
    if (s) addScalars(s, o.resources, -1);
  }
  const allocated: Scalars = new Map();
  const byRole: Record<string, Triple> = {};
  for (const [role, s] of held) {
    const t = triple(s);
    if (t.cpus === 0 && t.mem === 0 && t.disk === 0) continue;
    byRole[role] = t;
    for (const [k, v] of s) allocated.set(k, (allocated.get(k) ?? 0) + v);
  }
  return { t: m.clock.now(), total: triple(m.ledger.totals), allocated: triple(allocated), byRole };
}

/** A fixed-size ring of samples, oldest overwritten first. */
export class UtilizationRing {
  private readonly buf: (UtilizationSample | undefined)[];
  private head = 0;
  private count = 0;

  /** @param capacity samples kept (e.g. 10 min at one per 2 s: 300) */
  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`utilization ring capacity must be a whole number ≥ 1, got ${capacity}`);
    this.buf = new Array<UtilizationSample | undefined>(capacity);
  }

  push(s: UtilizationSample): void {
    this.buf[this.head] = s;
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  get size(): number {
    return this.count;
  }

  /** Samples taken at or after `since` (ms since the epoch), oldest first. */
  since(since = 0): UtilizationSample[] {
    const out: UtilizationSample[] = [];
    for (let i = 0; i < this.count; i++) {
      const s = this.buf[(this.head - this.count + i + this.capacity) % this.capacity];
      if (s && s.t >= since) out.push(s);
    }
    return out;
  }
}

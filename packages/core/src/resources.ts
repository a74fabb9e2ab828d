/**
 * Resource arithmetic, so that nobody (master, allocator, agent or framework) does it by hand.
 *
 * A resource list is an array of `Resource` messages. Entries are *compatible* when they share
 * name, type, reservations and allocation role; compatible entries merge (scalars add, ranges
 * and sets unite). Scalars are kept to three decimals, as Mesos does, so that repeated
 * add/subtract never drifts (0.1 + 0.2 - 0.3 is exactly 0 here).
 */
import { ValueType, type Resource } from './wire.js';

/** A list of resources in any order, possibly with compatible entries not yet merged. */
export type Resources = Resource[];

/** An inclusive range of integers, e.g. ports [31000, 32000]. */
export type Range = [begin: number, end: number];

const PRECISION = 1000;
const round = (v: number): number => Math.round(v * PRECISION) / PRECISION;

/** The role a resource is reserved for ('*' when unreserved). */
export function reservationRole(r: Resource): string {
  const rs = r.reservations ?? [];
  return rs.length > 0 ? (rs[rs.length - 1]?.role ?? '*') : '*';
}

function key(r: Resource): string {
  const res = (r.reservations ?? []).map((x) => `${x.type ?? 0}:${x.role ?? ''}:${x.principal ?? ''}`).join('/');
  return `${r.name}\u0000${r.type ?? 0}\u0000${res}\u0000${r.allocationInfo?.role ?? ''}`;
}

/** Builds a scalar resource. */
export function scalar(name: string, value: number, role?: string): Resource {
  return withRole({ name, type: ValueType.SCALAR, scalar: { value: round(value) } }, role);
}

/** Builds a ranges resource, e.g. `ranges('ports', [[31000, 32000]])`. */
export function ranges(name: string, rs: Range[], role?: string): Resource {
  return withRole({ name, type: ValueType.RANGES, ranges: { range: normalizeRanges(rs).map(([begin, end]) => ({ begin, end })) } }, role);
}

/** Builds a set resource. */
export function set(name: string, items: string[], role?: string): Resource {
  return withRole({ name, type: ValueType.SET, set: { item: [...new Set(items)].sort() } }, role);
}

function withRole(r: Resource, role?: string): Resource {
  if (role && role !== '*') r.reservations = [{ type: 1 /* STATIC */, role }];
  return r;
}

function rangesOf(r: Resource): Range[] {
  return (r.ranges?.range ?? []).map((x) => [Number(x.begin ?? 0), Number(x.end ?? 0)] as Range);
}

/** Sorts and merges overlapping or adjacent inclusive ranges. */
export function normalizeRanges(rs: Range[]): Range[] {
  const sorted = rs.filter(([b, e]) => e >= b).map(([b, e]) => [b, e] as Range).sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push(r);
  }
  return out;
}

function subtractRanges(a: Range[], b: Range[]): Range[] {
  let out = normalizeRanges(a);
  for (const [bb, be] of normalizeRanges(b)) {
    const next: Range[] = [];
    for (const [ab, ae] of out) {
      if (be < ab || bb > ae) { next.push([ab, ae]); continue; }
      if (bb > ab) next.push([ab, bb - 1]);
      if (be < ae) next.push([be + 1, ae]);
    }
    out = next;
  }
  return out;
}

function rangesContain(a: Range[], b: Range[]): boolean {
  const na = normalizeRanges(a);
  return normalizeRanges(b).every(([bb, be]) => na.some(([ab, ae]) => ab <= bb && be <= ae));
}

function clone(r: Resource): Resource {
  const c: Resource = { name: r.name, type: r.type };
  if (r.scalar) c.scalar = { value: r.scalar.value };
  if (r.ranges) c.ranges = { range: (r.ranges.range ?? []).map((x) => ({ begin: x.begin, end: x.end })) };
  if (r.set) c.set = { item: [...(r.set.item ?? [])] };
  if (r.reservations?.length) c.reservations = r.reservations.map((x) => ({ ...x }));
  if (r.allocationInfo) c.allocationInfo = { role: r.allocationInfo.role };
  return c;
}

function isEmpty(r: Resource): boolean {
  switch (r.type) {
    case ValueType.SCALAR: return round(r.scalar?.value ?? 0) <= 0;
    case ValueType.RANGES: return (r.ranges?.range ?? []).length === 0;
    case ValueType.SET: return (r.set?.item ?? []).length === 0;
    default: return true;
  }
}

function merge(into: Resource, r: Resource): void {
  switch (r.type) {
    case ValueType.SCALAR:
      into.scalar = { value: round((into.scalar?.value ?? 0) + (r.scalar?.value ?? 0)) };
      break;
    case ValueType.RANGES:
      into.ranges = { range: normalizeRanges([...rangesOf(into), ...rangesOf(r)]).map(([begin, end]) => ({ begin, end })) };
      break;
    case ValueType.SET:
      into.set = { item: [...new Set([...(into.set?.item ?? []), ...(r.set?.item ?? [])])].sort() };
      break;
  }
}

/** Merges compatible entries and drops empty ones. Never mutates its input. */
export function flatten(resources: readonly Resource[]): Resources {
  const byKey = new Map<string, Resource>();
  for (const r of resources) {
    const k = key(r);
    const have = byKey.get(k);
    if (have) merge(have, r);
    else byKey.set(k, clone(r));
  }
  return [...byKey.values()].filter((r) => !isEmpty(r));
}

/** a + b. */
export function add(a: readonly Resource[], b: readonly Resource[]): Resources {
  return flatten([...a, ...b]);
}

/** Sum of any number of resource lists. */
export function sum(lists: readonly (readonly Resource[])[]): Resources {
  return flatten(lists.flat());
}

/**
 * a − b, entry by compatible entry. Parts of b that a lacks are ignored (check with `contains`
 * first where that matters).
 */
export function subtract(a: readonly Resource[], b: readonly Resource[]): Resources {
  const out = flatten(a);
  const byKey = new Map(out.map((r) => [key(r), r]));
  for (const r of flatten(b)) {
    const have = byKey.get(key(r));
    if (!have) continue;
    switch (r.type) {
      case ValueType.SCALAR:
        have.scalar = { value: Math.max(0, round((have.scalar?.value ?? 0) - (r.scalar?.value ?? 0))) };
        break;
      case ValueType.RANGES:
        have.ranges = { range: subtractRanges(rangesOf(have), rangesOf(r)).map(([begin, end]) => ({ begin, end })) };
        break;
      case ValueType.SET: {
        const drop = new Set(r.set?.item ?? []);
        have.set = { item: (have.set?.item ?? []).filter((i) => !drop.has(i)) };
        break;
      }
    }
  }
  return out.filter((r) => !isEmpty(r));
}

/** True when a holds all of b (per compatible entry). */
export function contains(a: readonly Resource[], b: readonly Resource[]): boolean {
  const byKey = new Map(flatten(a).map((r) => [key(r), r]));
  for (const r of flatten(b)) {
    const have = byKey.get(key(r));
    if (!have) return false;
    switch (r.type) {
      case ValueType.SCALAR:
        if (round(have.scalar?.value ?? 0) < round(r.scalar?.value ?? 0)) return false;
        break;
      case ValueType.RANGES:
        if (!rangesContain(rangesOf(have), rangesOf(r))) return false;
        break;
      case ValueType.SET: {
        const items = new Set(have.set?.item ?? []);
        if (!(r.set?.item ?? []).every((i) => items.has(i))) return false;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

/** Total of a scalar across every reservation and allocation role (0 when absent). */
export function scalarOf(resources: readonly Resource[], name: string): number {
  let total = 0;
  for (const r of resources) if (r.name === name && r.type === ValueType.SCALAR) total += r.scalar?.value ?? 0;
  return round(total);
}

/** All ranges of a ranges resource (e.g. every port), merged across entries. */
export function rangesOfName(resources: readonly Resource[], name: string): Range[] {
  return normalizeRanges(resources.filter((r) => r.name === name && r.type === ValueType.RANGES).flatMap(rangesOf));
}

/** Removes the allocation role from every entry (as the agent and the ledger see resources). */
export function stripAllocation(resources: readonly Resource[]): Resources {
  return flatten(resources.map((r) => { const c = clone(r); delete c.allocationInfo; return c; }));
}

/** Sets the allocation role on every entry (as offers carry them). */
export function allocateTo(resources: readonly Resource[], role: string): Resources {
  return flatten(resources.map((r) => { const c = clone(r); c.allocationInfo = { role }; return c; }));
}

/** Names of the scalar resources present. */
export function scalarNames(resources: readonly Resource[]): string[] {
  return [...new Set(resources.filter((r) => r.type === ValueType.SCALAR).map((r) => r.name ?? ''))];
}

/**
 * Picks `count` ports from the offered `ports` ranges (lowest first), or undefined when the
 * offer holds fewer. Returns the ports and the resource that claims them.
 */
export function pickPorts(offered: readonly Resource[], count: number): { ports: number[]; resource: Resource } | undefined {
  const ports: number[] = [];
  // Keep the reservation of the entry the ports come from, so the claim matches the offer.
  for (const r of flatten(offered)) {
    if (r.name !== 'ports' || r.type !== ValueType.RANGES) continue;
    for (const [b, e] of rangesOf(r)) {
      for (let p = b; p <= e && ports.length < count; p++) ports.push(p);
    }
    if (ports.length >= count) {
      const c = clone(r);
      c.ranges = { range: normalizeRanges(ports.map((p) => [p, p] as Range)).map(([begin, end]) => ({ begin, end })) };
      return { ports, resource: c };
    }
  }
  return count === 0 ? { ports: [], resource: ranges('ports', []) } : undefined;
}

/** The largest share of any scalar in `total` that `used` holds (Dominant Resource Fairness). */
export function dominantShare(used: readonly Resource[], total: readonly Resource[]): number {
  let share = 0;
  for (const name of scalarNames(total)) {
    const t = scalarOf(total, name);
    if (t > 0) share = Math.max(share, scalarOf(used, name) / t);
  }
  return share;
}

/**
 * Checks one resource for values no cluster can hold. Returns a sentence naming the problem,
 * or undefined when the resource is well formed.
 */
export function validateResource(r: Resource): string | undefined {
  const name = r.name ?? '';
  if (!name) return 'a resource has no name';
  if (!/^[A-Za-z0-9_.\-/]+$/.test(name)) return `resource name '${name}' has characters other than letters, digits, '_', '.', '-', '/'`;
  switch (r.type) {
    case ValueType.SCALAR: {
      const v = r.scalar?.value;
      if (typeof v !== 'number' || !Number.isFinite(v)) return `resource '${name}' has a non-finite value (${v})`;
      if (v < 0) return `resource '${name}' is negative (${v})`;
      if (v > 1e15) return `resource '${name}' is impossibly large (${v})`;
      return undefined;
    }
    case ValueType.RANGES:
      for (const x of r.ranges?.range ?? []) {
        const b = Number(x.begin ?? 0), e = Number(x.end ?? 0);
        if (!Number.isInteger(b) || !Number.isInteger(e)) return `resource '${name}' has a range [${b}-${e}] that is not whole numbers`;
        if (b < 0 || e < b) return `resource '${name}' has an invalid range [${b}-${e}]`;
        if (e > 2 ** 32) return `resource '${name}' has a range end beyond 2^32 (${e})`;
      }
      return undefined;
    case ValueType.SET:
      return undefined;
    default:
      return `resource '${name}' has no valid type (SCALAR, RANGES or SET)`;
  }
}

/** Formats resources as `cpus:2;mem:1024;ports:[31000-31009]`, roles as `cpus(eng):1`. */
export function formatResources(resources: readonly Resource[]): string {
  return flatten(resources).map((r) => {
    const role = reservationRole(r);
    const n = role === '*' ? r.name : `${r.name}(${role})`;
    switch (r.type) {
      case ValueType.SCALAR: return `${n}:${round(r.scalar?.value ?? 0)}`;
      case ValueType.RANGES: return `${n}:[${rangesOf(r).map(([b, e]) => (b === e ? `${b}` : `${b}-${e}`)).join(',')}]`;
      case ValueType.SET: return `${n}:{${(r.set?.item ?? []).join(',')}}`;
      default: return `${n}:?`;
    }
  }).join(';');
}

/**
 * Parses the agent's `--resources` syntax (Mesos style):
 * `cpus:4;mem:8192;disk:20000;ports:[31000-32000];gpus:1;cpus(eng):2;zones:{a,b}`.
 * Throws an Error naming the bad part.
 */
export function parseResources(text: string): Resources {
  const out: Resource[] = [];
  for (const raw of text.split(';')) {
    const part = raw.trim();
    if (!part) continue;
    const m = /^([A-Za-z0-9_.\-/]+)(?:\(([^)]*)\))?\s*:\s*(.+)$/.exec(part);
    if (!m) throw new Error(`cannot parse resource '${part}': expected name:value, e.g. cpus:4`);
    const [, name, role, value] = m as unknown as [string, string, string | undefined, string];
    const v = value.trim();
    let r: Resource;
    if (v.startsWith('[')) {
      if (!v.endsWith(']')) throw new Error(`cannot parse ranges of '${name}': '${v}' lacks a closing ']'`);
      const rs: Range[] = v.slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
        const mm = /^(\d+)\s*(?:-\s*(\d+))?$/.exec(s);
        if (!mm) throw new Error(`cannot parse range '${s}' of '${name}': expected BEGIN-END`);
        const b = Number(mm[1]), e = Number(mm[2] ?? mm[1]);
        if (e < b) throw new Error(`range '${s}' of '${name}' ends before it begins`);
        return [b, e] as Range;
      });
      r = ranges(name, rs, role);
    } else if (v.startsWith('{')) {
      if (!v.endsWith('}')) throw new Error(`cannot parse set of '${name}': '${v}' lacks a closing '}'`);
      r = set(name, v.slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean), role);
    } else {
      const n = Number(v);
      if (!Number.isFinite(n) || v === '') throw new Error(`resource '${name}' has a value '${v}' that is not a number`);
      if (n < 0) throw new Error(`resource '${name}' is negative (${n})`);
      r = scalar(name, n, role);
    }
    const bad = validateResource(r);
    if (bad) throw new Error(bad);
    out.push(r);
  }
  return flatten(out);
}

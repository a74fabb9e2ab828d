/**
 * Scalar bookkeeping shared by the allocator, `explain` and preemption: what each role's
 * subtree holds, how much room its quota limit leaves, how far it is below its guarantee, and
 * cutting an offer down to fit such room ("chopping"). Scalars only: quota is about quantities;
 * ranges (ports) and sets ride along with whatever scalars are offered.
 */
import { ValueType, type Resource } from '@agora/core';
import { DEFAULT_ROLE, parentRole } from './roles.js';
import type { FrameworkSlot, RoleConfig, ScalarVector } from './types.js';

const round = (v: number): number => Math.round(v * 1000) / 1000;

/** Mutable scalars by name. */
export type MutableScalars = Map<string, number>;

/** into += sign × v. */
export function addInto(into: MutableScalars, v: ScalarVector, sign = 1): void {
  for (const [n, x] of v) into.set(n, round((into.get(n) ?? 0) + sign * x));
}

/** Scalars of a resource list, summed by name. */
export function scalarsOf(res: readonly Resource[]): MutableScalars {
  const out: MutableScalars = new Map();
  for (const r of res) {
    if (r.type !== ValueType.SCALAR) continue;
    const n = r.name ?? '';
    out.set(n, round((out.get(n) ?? 0) + (r.scalar?.value ?? 0)));
  }
  return out;
}

/** What a framework holds in one role (all of `usage` for its first role when per-role usage is absent). */
export function usageInRole(f: FrameworkSlot, role: string): ScalarVector {
  const per = f.roleUsage?.get(role);
  if (per) return per;
  if (f.roleUsage) return EMPTY;
  return (f.roles[0] ?? DEFAULT_ROLE) === role ? f.usage : EMPTY;
}

const EMPTY: ScalarVector = new Map();

/** Every framework's per-role usage summed into each role and all its ancestors. */
export function subtreeUsage(frameworks: readonly FrameworkSlot[]): Map<string, MutableScalars> {
  const out = new Map<string, MutableScalars>();
  for (const f of frameworks) {
    const roles = f.roles.length > 0 ? f.roles : [DEFAULT_ROLE];
    for (const role of new Set(roles)) {
      const u = usageInRole(f, role);
      if (u.size === 0) continue;
      for (let r = role; r !== ''; r = parentRole(r)) {
        let m = out.get(r);
        if (!m) out.set(r, (m = new Map()));
        addInto(m, u);
      }
    }
  }
  return out;
}

/** limit − used per limited scalar (may be ≤ 0); undefined when the role has no limit. */
export function limitRoom(config: RoleConfig | undefined, used: ScalarVector | undefined): MutableScalars | undefined {
  const limit = config?.quota?.limit;
  if (!limit || limit.size === 0) return undefined;
  const room: MutableScalars = new Map();
  for (const [n, x] of limit) room.set(n, round(x - (used?.get(n) ?? 0)));
  return room;
}

/** max(0, guarantee − used) per guaranteed scalar; undefined when the role has no guarantee. */
export function guaranteeGap(config: RoleConfig | undefined, used: ScalarVector | undefined): MutableScalars | undefined {
  const g = config?.quota?.guarantee;
  if (!g || g.size === 0) return undefined;
  const gap: MutableScalars = new Map();
  for (const [n, x] of g) gap.set(n, Math.max(0, round(x - (used?.get(n) ?? 0))));
  return gap;
}

/** True when any entry of a gap is still positive. */
export function hasGap(gap: ScalarVector | undefined): boolean {
  if (!gap) return false;
  for (const v of gap.values()) if (v > 0) return true;
  return false;
}

/**
 * `res` with every scalar named in `cap` cut so that, per name, the sum stays within the cap
 * (entries of one name — say unreserved and reserved cpus — share the cap). Returns `res`
 * itself when nothing needed cutting, so callers can tell cheaply.
 */
export function chop(res: readonly Resource[], cap: ScalarVector): readonly Resource[] {
  let over = false;
  const sums = new Map<string, number>();
  for (const r of res) {
    if (r.type !== ValueType.SCALAR) continue;
    const c = cap.get(r.name ?? '');
    if (c === undefined) continue;
    const s = round((sums.get(r.name ?? '') ?? 0) + (r.scalar?.value ?? 0));
    sums.set(r.name ?? '', s);
    if (s > c) over = true;
  }
  if (!over) return res;
  const left = new Map<string, number>();
  for (const [n, c] of cap) left.set(n, Math.max(0, c));
  const out: Resource[] = [];
  for (const r of res) {
    const c = r.type === ValueType.SCALAR ? left.get(r.name ?? '') : undefined;
    if (c === undefined) {
      out.push(r);
      continue;
    }
    const v = Math.min(r.scalar?.value ?? 0, c);
    left.set(r.name ?? '', round(c - v));
    if (round(v) > 0) out.push({ ...r, scalar: { value: round(v) } });
  }
  return out;
}

/**
 * What the HTTP views sum over tasks: per framework its live task counts by state and the
 * resources it holds (tasks and executors); per role (and each ancestor role) the same.
 *
 * Why not the Operator service's per-entry views (OperatorApi.agentState / frameworkState,
 * roleStates): each of those merges resource lists task by task (`resources.sum`), once per
 * agent, once per framework and once per role, which at 10k tasks costs hundreds of
 * milliseconds per /state. Here scalars come from the usage counters the books keep
 * incrementally, tasks are only counted (and their port ranges collected), and agents are read
 * from the ledger (used = total − available − offered), so /state stays in the low
 * milliseconds at 10k tasks (bench:state).
 */
import { resources as R, taskStateName, type Resource } from '@agora/core';
import { parentRole } from '../allocator/index.js';
import type { MasterState } from '../master-state.js';

/** Resources as numbers: scalars by name, port ranges (unnormalized until summarized). */
export interface Held {
  scalars: Map<string, number>;
  ports: [number, number][];
}

export const emptyHeld = (): Held => ({ scalars: new Map(), ports: [] });

/** Adds a resource list into `into`. */
export function addHeld(into: Held, list: readonly Resource[] | null | undefined): void {
  for (const r of list ?? []) {
    if (r.scalar) {
      const name = r.name ?? '';
      into.scalars.set(name, (into.scalars.get(name) ?? 0) + (r.scalar.value ?? 0));
    } else if (r.name === 'ports') {
      for (const x of r.ranges?.range ?? []) into.ports.push([Number(x.begin ?? 0), Number(x.end ?? 0)]);
    }
  }
}

/** Per framework: live task counts by state name and what its tasks hold. */
export interface FrameworkTasks {
  counts: Record<string, number>;
  allocated: Held;
}

export interface TaskAggregate {
  byFramework: Map<string, FrameworkTasks>;
  /** Held by tasks of each role and of the roles below it. */
  byRole: Map<string, Held>;
}

/** Adds every scalar of `from` (times sign) into `into`. */
function addScalarMap(into: Map<string, number>, from: ReadonlyMap<string, number>, sign = 1): void {
  for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + sign * v);
}

/**
 * Task counts by framework and state in one pass over the live tasks (a counter bump each,
 * plus port ranges for the few tasks holding ports); scalars from the frameworks' usage
 * counters the books keep incrementally (allocated + offered, per role) minus outstanding offers.
 */
export function aggregateTasks(m: MasterState): TaskAggregate {
  const counts = new Map<string, number[]>();
  const fwPorts = new Map<string, [number, number][]>();
  const rolePorts = new Map<string, [number, number][]>();
  for (const rec of m.tasks.allLive()) {
    let c = counts.get(rec.frameworkId);
    if (!c) counts.set(rec.frameworkId, (c = []));
    c[rec.state] = (c[rec.state] ?? 0) + 1;
    for (const r of rec.resources) {
      if (r.name !== 'ports' || !r.ranges) continue;
      const ranges = (r.ranges.range ?? []).map((x) => [Number(x.begin ?? 0), Number(x.end ?? 0)] as [number, number]);
      fwPorts.set(rec.frameworkId, [...(fwPorts.get(rec.frameworkId) ?? []), ...ranges]);
      const role = rec.task.role || m.frameworks.get(rec.frameworkId)?.role || '*';
      rolePorts.set(role, [...(rolePorts.get(role) ?? []), ...ranges]);
    }
  }
  // Offered scalars per framework and per (leaf) role, to take out of the usage counters.
  const offeredFw = new Map<string, Map<string, number>>();
  const offeredRole = new Map<string, Map<string, number>>();
  for (const o of m.offers.all()) {
    for (const [map, key] of [[offeredFw, o.frameworkId], [offeredRole, `${o.frameworkId}\u0000${o.role}`]] as const) {
      let s = map.get(key);
      if (!s) map.set(key, (s = new Map()));
      for (const r of o.resources) if (r.scalar) s.set(r.name ?? '', (s.get(r.name ?? '') ?? 0) + (r.scalar.value ?? 0));
    }
  }
  const byFramework = new Map<string, FrameworkTasks>();
  const leafRoles = new Map<string, Held>();
  for (const f of m.frameworks.values()) {
    const allocated = emptyHeld();
    addScalarMap(allocated.scalars, f.usage);
    addScalarMap(allocated.scalars, offeredFw.get(f.id) ?? new Map(), -1);
    allocated.ports = fwPorts.get(f.id) ?? [];
    const c = counts.get(f.id) ?? [];
    const named: Record<string, number> = {};
    c.forEach((n, state) => { if (n) named[taskStateName(state)] = n; });
    byFramework.set(f.id, { counts: named, allocated });
    for (const [role, usage] of f.roleUsage) {
      let h = leafRoles.get(role);
      if (!h) leafRoles.set(role, (h = emptyHeld()));
      addScalarMap(h.scalars, usage);
      addScalarMap(h.scalars, offeredRole.get(`${f.id}\u0000${role}`) ?? new Map(), -1);
    }
  }
  for (const [role, ports] of rolePorts) {
    let h = leafRoles.get(role);
    if (!h) leafRoles.set(role, (h = emptyHeld()));
    h.ports.push(...ports);
  }
  const byRole = new Map<string, Held>();
  for (const [role, h] of leafRoles) {
    for (let r = role; r !== ''; r = parentRole(r)) {
      let into = byRole.get(r);
      if (!into) byRole.set(r, (into = emptyHeld()));
      addScalarMap(into.scalars, h.scalars);
      into.ports.push(...h.ports);
    }
  }
  // Float residue of adding and taking back: drop what is (nearly) nothing.
  for (const h of [...byRole.values(), ...[...byFramework.values()].map((f) => f.allocated)]) {
    for (const [k, v] of h.scalars) if (v < 1e-6) h.scalars.delete(k);
  }
  return { byFramework, byRole };
}

/** Held by outstanding offers, per role and its ancestors. */
export function offeredByRole(m: MasterState): Map<string, Held> {
  const out = new Map<string, Held>();
  for (const o of m.offers.all()) {
    for (let r = o.role; r !== ''; r = parentRole(r)) {
      let h = out.get(r);
      if (!h) out.set(r, (h = emptyHeld()));
      addHeld(h, o.resources);
    }
  }
  return out;
}

const portsOnly = (list: readonly Resource[]): Resource[] => list.filter((r) => r.name === 'ports');

/**
 * An agent's resources from the ledger: total, available, offered and (by the ledger's
 * invariant available + offered + used = total) allocated. Scalars are subtracted as numbers;
 * only the (tiny) port lists go through resource arithmetic.
 */
export function agentResources(m: MasterState, agentId: string, fallbackTotal: readonly Resource[]): { total: Held; available: Held; offered: Held; allocated: Held } {
  const acct = m.ledger.get(agentId);
  const totalList = acct?.total ?? R.stripAllocation(fallbackTotal);
  const availableList = acct?.available ?? totalList;
  const offers = m.offers.ofAgent(agentId);
  const total = emptyHeld();
  const available = emptyHeld();
  const offered = emptyHeld();
  addHeld(total, totalList);
  addHeld(available, availableList);
  for (const o of offers) addHeld(offered, o.resources);
  const allocated = emptyHeld();
  for (const [k, v] of total.scalars) {
    const used = Math.round((v - (available.scalars.get(k) ?? 0) - (offered.scalars.get(k) ?? 0)) * 1000) / 1000;
    if (used > 0) allocated.scalars.set(k, used);
  }
  if (total.ports.length > 0) {
    const used = R.subtract(R.subtract(portsOnly(totalList), portsOnly(availableList)), offers.flatMap((o) => portsOnly(o.resources)));
    allocated.ports = R.rangesOfName(used, 'ports');
  }
  return { total, available, offered, allocated };
}

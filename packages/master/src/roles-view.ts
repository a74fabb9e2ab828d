/**
 * The operator's view of roles and the "why not offered" answer, computed from the master's
 * books on demand (never on the allocation hot path), plus validation of UpdateRole requests.
 */
import { agora, grpc, idOf, resources, ValueType, type Resource } from '@agora/core';
import { dominantShareOf, explain, parentRole, validateRoleName } from './allocator/index.js';
import { addScalars, type Scalars } from './ledger.js';
import type { MasterState } from './master-state.js';
import type { RoleRecord } from './registry.js';

const invalid = (message: string): Error => Object.assign(new Error(message), { code: grpc.status.INVALID_ARGUMENT });
const scalarList = (o: Record<string, number> | undefined): Resource[] => Object.entries(o ?? {}).map(([n, v]) => resources.scalar(n, v));

function addTo(map: Map<string, Resource[][]>, role: string, res: readonly Resource[]): void {
  for (let r = role; r !== ''; r = parentRole(r)) {
    let l = map.get(r);
    if (!l) map.set(r, (l = []));
    l.push(res as Resource[]);
  }
}

/** Every role known (configured, subscribed or holding something) with weights, quota and usage. */
export function roleStates(m: MasterState): agora.v1.RoleState.$Properties[] {
  const names = new Set<string>(m.roleRecords.keys());
  const fwsOf = new Map<string, string[]>();
  for (const f of m.frameworks.values()) {
    for (const r of f.roles) {
      for (let x = r; x !== ''; x = parentRole(x)) names.add(x);
      let l = fwsOf.get(r);
      if (!l) fwsOf.set(r, (l = []));
      l.push(f.id);
    }
  }
  const allocated = new Map<string, Resource[][]>();
  const offered = new Map<string, Resource[][]>();
  for (const t of m.tasks.allLive()) addTo(allocated, m.taskRole(t, m.frameworks.get(t.frameworkId)), t.resources);
  for (const o of m.offers.all()) addTo(offered, o.role, o.resources);
  return [...names].sort().map((name) => {
    const rec = m.roleRecords.get(name);
    const a = resources.sum(allocated.get(name) ?? []);
    const o = resources.sum(offered.get(name) ?? []);
    const held: Scalars = new Map();
    addScalars(held, a);
    addScalars(held, o);
    return {
      name, weight: rec?.weight ?? 1, guarantee: scalarList(rec?.guarantee), limit: scalarList(rec?.limit), allocated: a, offered: o,
      share: dominantShareOf(held, m.ledger.totals), frameworkIds: fwsOf.get(name) ?? [],
    };
  });
}

function quotaOf(field: string, list: readonly Resource[] | null | undefined): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const [i, r] of (list ?? []).entries()) {
    const what = `${field}[${i}]`;
    if (r.type !== ValueType.SCALAR) throw invalid(`${what} ('${r.name ?? ''}') must be a SCALAR resource: quota is about amounts (cpus, mem, disk, gpus)`);
    const bad = resources.validateResource(r);
    if (bad) throw invalid(`${what}: ${bad}`);
    if ((r.reservations ?? []).length > 0) throw invalid(`${what} ('${r.name}') must not carry a reservation`);
    out[r.name ?? ''] = (out[r.name ?? ''] ?? 0) + (r.scalar?.value ?? 0);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Validates an UpdateRole request into the new record. Throws INVALID_ARGUMENT naming the field. */
export function roleRecordFrom(m: MasterState, req: agora.v1.UpdateRoleRequest): RoleRecord {
  const role = req.role ?? '';
  if (!role) throw invalid('role is empty');
  const bad = validateRoleName(role);
  if (bad) throw invalid(`role: ${bad}`);
  const prev = m.roleRecords.get(role);
  const rec: RoleRecord = { role };
  if (Object.prototype.hasOwnProperty.call(req, 'weight') && req.weight !== null && req.weight !== undefined) {
    const w = req.weight;
    if (!Number.isFinite(w) || w <= 0 || w > 1e6) throw invalid(`weight must be a number > 0 and ≤ 1000000, got ${w}`);
    rec.weight = w;
  } else if (prev?.weight !== undefined) rec.weight = prev.weight;
  if (req.setQuota) {
    if (role === '*' && ((req.guarantee ?? []).length > 0 || (req.limit ?? []).length > 0)) throw invalid("role '*' cannot have quota (it is everyone's default role)");
    const guarantee = quotaOf('guarantee', req.guarantee);
    const limit = quotaOf('limit', req.limit);
    for (const [n, g] of Object.entries(guarantee ?? {})) {
      const l = limit?.[n];
      if (l !== undefined && g > l) throw invalid(`guarantee of ${n} (${g}) is above its limit (${l})`);
    }
    if (guarantee) rec.guarantee = guarantee;
    if (limit) rec.limit = limit;
  } else {
    if (prev?.guarantee) rec.guarantee = prev.guarantee;
    if (prev?.limit) rec.limit = prev.limit;
  }
  return rec;
}

/** The "why not offered" answer for one framework. Throws NOT_FOUND for an unknown one. */
export function explainOffers(m: MasterState, req: agora.v1.ExplainOffersRequest): agora.v1.ExplainOffersResponse.$Properties {
  const id = idOf(req.frameworkId);
  if (!id) throw invalid('framework_id is empty');
  const fw = m.frameworks.get(id);
  if (!fw) throw Object.assign(new Error(`framework '${id}' is not known to the master`), { code: grpc.status.NOT_FOUND });
  const active = [];
  for (const acct of m.ledger.accounts.values()) if (acct.active) active.push({ id: acct.agentId, available: acct.available });
  const ex = explain({ agents: active, frameworks: [...m.frameworks.values()], frameworkId: id, now: m.clock.now(), roles: m.roleConfigs, minAllocatable: m.allocator.min });
  const notes = [...ex.notes];
  if (!fw.connected) notes.unshift('the framework is disconnected: offers go only to connected schedulers');
  const held = new Map<string, string[]>();
  for (const o of m.offers.ofFramework(id)) held.set(o.agentId, [...(held.get(o.agentId) ?? []), o.id]);
  const agents: agora.v1.AgentOfferVerdict.$Properties[] = ex.agents.map((v) => {
    const reasons = [...v.reasons];
    const mine = held.get(v.agentId);
    if (mine) reasons.unshift(`already offered to this framework (outstanding: ${mine.join(', ')}); what it holds is not free`);
    return { agentId: { value: v.agentId }, hostname: m.agents.get(v.agentId)?.hostname ?? '', offerable: v.offerable, reasons };
  });
  for (const a of m.agents.values()) if (!a.active) agents.push({ agentId: { value: a.id }, hostname: a.hostname, offerable: false, reasons: ['agent is inactive (disconnected or silent): nothing on it is offered'] });
  return { frameworkId: { value: id }, notes, agents };
}

/**
 * The resource ledger: per agent, its total and what is still available (neither offered nor
 * used), kept incrementally so that an allocation round reads `available` instead of summing
 * offers and tasks; plus the cluster totals DRF divides by, and the set of agents with
 * something worth offering (so a round over "everything" skips idle-but-full agents).
 *
 * Invariant (tests check it): for each agent, available + offered + used = total.
 */
import { resources, ValueType, type Resource } from '@agora/core';
import { isAllocatable } from './allocator/index.js';

/** Scalars by name; mutable (framework usage, cluster totals). */
export type Scalars = Map<string, number>;

const round = (v: number): number => Math.round(v * 1000) / 1000;

/** into += sign × scalars of res. */
export function addScalars(into: Scalars, res: readonly Resource[], sign: 1 | -1 = 1): void {
  for (const r of res) {
    if (r.type !== ValueType.SCALAR) continue;
    const name = r.name ?? '';
    const v = round((into.get(name) ?? 0) + sign * (r.scalar?.value ?? 0));
    if (v > 0) into.set(name, v);
    else into.delete(name);
  }
}

function exceedsScalars(a: readonly Resource[], b: readonly Resource[]): boolean {
  for (const r of a) {
    if (r.type === ValueType.SCALAR && resources.scalarOf(a, r.name ?? '') > resources.scalarOf(b, r.name ?? '')) return true;
  }
  return false;
}

/** The resource with its innermost reservation removed. */
function unreservedForm(r: Resource): Resource {
  const c: Resource = { ...r, reservations: (r.reservations ?? []).slice(0, -1) };
  if ((c.reservations ?? []).length === 0) delete c.reservations;
  return c;
}

/** One agent's account. */
export interface AgentAccount {
  readonly agentId: string;
  /** Everything the agent has (no allocation roles). */
  total: Resource[];
  /** total − offered − used. */
  available: Resource[];
  /** Counted in the cluster totals and offerable. */
  active: boolean;
}

export class Ledger {
  readonly accounts = new Map<string, AgentAccount>();
  /**
   * Dynamic reservations per agent (from RESERVE, persisted in the registry). The agent reports
   * its resources unreserved; `reset` re-applies these on top so they survive restarts.
   */
  readonly dynamic = new Map<string, Resource[]>();
  /** Scalars of every active agent. */
  readonly totals: Scalars = new Map();
  /** Active agents whose `available` is worth offering. */
  readonly offerable = new Set<string>();
  /**
   * Agents not to offer although active (draining): they still count in the totals, as a
   * drained agent still belongs to the cluster.
   */
  private readonly paused = new Set<string>();

  get(agentId: string): AgentAccount | undefined {
    return this.accounts.get(agentId);
  }

  /** (Re)sets an agent's total and what its tasks use; available = total − used. */
  reset(agentId: string, total: readonly Resource[], used: readonly Resource[]): AgentAccount {
    let acct = this.accounts.get(agentId);
    if (acct?.active) addScalars(this.totals, acct.total, -1);
    let t = resources.stripAllocation(total);
    const dyn = this.dynamic.get(agentId);
    if (dyn && dyn.length > 0) {
      const from = resources.flatten(dyn.map(unreservedForm));
      // Only when the agent still has them (it may have shrunk); otherwise they lapse quietly.
      if (resources.contains(t, from)) t = resources.add(resources.subtract(t, from), dyn);
    }
    const available = resources.subtract(t, resources.stripAllocation(used));
    if (!acct) {
      acct = { agentId, total: t, available, active: false };
      this.accounts.set(agentId, acct);
    } else {
      acct.total = t;
      acct.available = available;
    }
    if (acct.active) addScalars(this.totals, acct.total, 1);
    this.refresh(acct);
    return acct;
  }

  /** Stops (true) or resumes (false) offering an agent without touching its totals. */
  setPaused(agentId: string, paused: boolean): void {
    if (paused) this.paused.add(agentId);
    else this.paused.delete(agentId);
    const acct = this.accounts.get(agentId);
    if (acct) this.refresh(acct);
  }

  /** Forgets an agent (it is gone): its account, reservations and pause. */
  remove(agentId: string): void {
    this.setActive(agentId, false);
    this.accounts.delete(agentId);
    this.offerable.delete(agentId);
    this.dynamic.delete(agentId);
    this.paused.delete(agentId);
  }

  setActive(agentId: string, active: boolean): void {
    const acct = this.accounts.get(agentId);
    if (!acct || acct.active === active) return;
    acct.active = active;
    addScalars(this.totals, acct.total, active ? 1 : -1);
    this.refresh(acct);
  }

  /**
   * RESERVE / UNRESERVE: `from` (held by an offer, so not in `available`) becomes `to` in the
   * agent's total; the dynamic reservations of the agent follow. Cluster scalars are unchanged.
   */
  convert(agentId: string, from: readonly Resource[], to: readonly Resource[], reserve: boolean): void {
    const acct = this.accounts.get(agentId);
    if (!acct) return;
    acct.total = resources.add(resources.subtract(acct.total, from), to);
    const dyn = this.dynamic.get(agentId) ?? [];
    const next = reserve ? resources.add(dyn, to) : resources.subtract(dyn, from);
    if (next.length > 0) this.dynamic.set(agentId, next);
    else this.dynamic.delete(agentId);
  }

  /** Takes `res` out of the agent's available resources; false (and no change) if not there. */
  take(agentId: string, res: readonly Resource[]): boolean {
    const acct = this.accounts.get(agentId);
    if (!acct) return false;
    const want = resources.stripAllocation(res);
    if (!resources.contains(acct.available, want)) return false;
    acct.available = resources.subtract(acct.available, want);
    this.refresh(acct);
    return true;
  }

  /** Returns `res` to the agent's available resources (never beyond its total). */
  give(agentId: string, res: readonly Resource[]): void {
    const acct = this.accounts.get(agentId);
    if (!acct || res.length === 0) return;
    let next = resources.add(acct.available, res.some((r) => r.allocationInfo) ? resources.stripAllocation(res) : res);
    // Defensive: a double release must not mint resources, so clip to the total when it would.
    // Only scalars can grow past the total (ranges and sets merge by union), and comparing sums
    // first keeps the common case cheap.
    if (exceedsScalars(next, acct.total)) next = resources.subtract(acct.total, resources.subtract(acct.total, next));
    acct.available = next;
    this.refresh(acct);
  }

  private refresh(acct: AgentAccount): void {
    if (acct.active && !this.paused.has(acct.agentId) && isAllocatable(acct.available)) this.offerable.add(acct.agentId);
    else this.offerable.delete(acct.agentId);
  }
}

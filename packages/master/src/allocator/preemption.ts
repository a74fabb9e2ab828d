/**
 * Preemption decisions (the seed's "preemptive allocation"), pure: which running tasks to take
 * back so that a starving role reaches its quota guarantee or its fair share. The master
 * applies the decisions — inverse offer to the victim framework, then after a grace period a
 * kill whose TASK_KILLED carries REASON_CONTAINER_PREEMPTED.
 *
 * Rules:
 * - A role *starves* when one of its frameworks waits for resources (the master says which:
 *   subscribed, not suppressed, holding no offer and no filter) and the role is below its
 *   guarantee or below its fair share (weight ÷ Σ weights of the roles that hold or want
 *   something, in dominant-share terms).
 * - Victims come only from roles above their fair share, never below their own guarantee, and
 *   only preemptible tasks (the label `agora.preemptible=false` opts a task out).
 * - Among candidates: lowest framework priority first, then the youngest task first (it has
 *   lost the least work). A victim role stops giving once it is down to its fair share; a
 *   starving role stops taking once its estimated share reaches its fair share / guarantee.
 * - Tasks already chosen (pending their grace period) count as already freed.
 * Fair shares are computed over the roles frameworks subscribe with, flat (not per subtree).
 */
import type { Resource } from '@agora/core';
import { addInto, guaranteeGap, hasGap, scalarsOf, subtreeUsage, type MutableScalars } from './quota.js';
import { dominantShareOf } from './sorter.js';
import { DEFAULT_ROLE, weightOf } from './roles.js';
import type { FrameworkSlot, RoleConfig, ScalarVector } from './types.js';

/** A running task as preemption sees it. */
export interface PreemptionTask {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly agentId: string;
  readonly role: string;
  readonly resources: readonly Resource[];
  /** Its framework's priority (lower is preempted first). */
  readonly priority: number;
  /** Milliseconds since the epoch (younger is preempted first). */
  readonly launchedAt: number;
  readonly preemptible: boolean;
}

/** Input of `planPreemption`. */
export interface PreemptionInput {
  readonly frameworks: readonly FrameworkSlot[];
  readonly tasks: readonly PreemptionTask[];
  readonly totals: ScalarVector;
  readonly roles?: ReadonlyMap<string, RoleConfig>;
  /** Frameworks with waiting demand. */
  readonly demanding: ReadonlySet<string>;
  /** Tasks already chosen ("frameworkId taskId" → role it is freed for). */
  readonly pending?: ReadonlyMap<string, string>;
}

/** Take back `taskId` of `frameworkId` on `agentId` for `forRole`. */
export interface PreemptionDecision {
  readonly frameworkId: string;
  readonly taskId: string;
  readonly agentId: string;
  readonly resources: readonly Resource[];
  readonly forRole: string;
  readonly reason: string;
}

const EPS = 1e-9;

/** The key `pending` uses for a task. */
export const preemptionKey = (frameworkId: string, taskId: string): string => `${frameworkId} ${taskId}`;

/** Decides which tasks to preempt now (empty when nobody starves or nothing may be taken). */
export function planPreemption(input: PreemptionInput): PreemptionDecision[] {
  const out: PreemptionDecision[] = [];
  const used = subtreeUsage(input.frameworks);
  const want = new Set<string>();
  for (const f of input.frameworks) {
    if (!input.demanding.has(f.id) || f.suppressed) continue;
    for (const r of f.roles.length > 0 ? f.roles : [DEFAULT_ROLE]) if (!f.suppressedRoles?.has(r)) want.add(r);
  }
  if (want.size === 0) return out;
  const leafRoles = new Set<string>(want);
  for (const f of input.frameworks) for (const r of f.roles.length > 0 ? f.roles : [DEFAULT_ROLE]) if ((used.get(r)?.size ?? 0) > 0) leafRoles.add(r);
  let wsum = 0;
  for (const r of leafRoles) wsum += weightOf(input.roles, r);
  const fair = (r: string): number => weightOf(input.roles, r) / wsum;
  const usage = new Map<string, MutableScalars>();
  for (const r of leafRoles) usage.set(r, new Map(used.get(r) ?? []));
  const share = (r: string): number => dominantShareOf(usage.get(r) ?? new Map(), input.totals);
  const move = (from: string, to: string, res: readonly Resource[]): void => {
    const s = scalarsOf(res);
    const a = usage.get(from);
    if (a) addInto(a, s, -1);
    let b = usage.get(to);
    if (!b) usage.set(to, (b = new Map()));
    addInto(b, s);
  };
  for (const t of input.tasks) {
    const forRole = input.pending?.get(preemptionKey(t.frameworkId, t.taskId));
    if (forRole !== undefined) move(t.role, forRole, t.resources);
  }
  const starving = (r: string): boolean => hasGap(guaranteeGap(input.roles?.get(r), usage.get(r))) || share(r) < fair(r) - EPS;
  const candidates = input.tasks
    .filter((t) => t.preemptible && !input.pending?.has(preemptionKey(t.frameworkId, t.taskId)))
    .sort((a, b) => a.priority - b.priority || b.launchedAt - a.launchedAt || (a.taskId < b.taskId ? -1 : 1));
  const taken = new Set<PreemptionTask>();
  const hungry = [...want].filter(starving).sort((a, b) => (share(a) - fair(a)) - (share(b) - fair(b)));
  for (const role of hungry) {
    for (const t of candidates) {
      if (!starving(role)) break;
      if (taken.has(t)) continue;
      const victim = t.role;
      if (!(share(victim) > fair(victim) + EPS)) continue;
      // Never below the victim's own guarantee.
      const g = input.roles?.get(victim)?.quota?.guarantee;
      if (g) {
        const after = new Map(usage.get(victim) ?? []);
        addInto(after, scalarsOf(t.resources), -1);
        if ([...g].some(([n, v]) => (after.get(n) ?? 0) < v - EPS)) continue;
      }
      taken.add(t);
      move(victim, role, t.resources);
      out.push({
        frameworkId: t.frameworkId, taskId: t.taskId, agentId: t.agentId, resources: t.resources, forRole: role,
        reason: `preempted for role '${role}' (below its ${hasGap(guaranteeGap(input.roles?.get(role), used.get(role))) ? 'quota guarantee' : 'fair share'}); role '${victim}' is above its fair share`,
      });
    }
  }
  return out;
}

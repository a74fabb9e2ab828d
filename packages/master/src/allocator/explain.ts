/**
 * "Why was I not offered agent X?" (marathon#1090): for one framework, each agent's reason in
 * words an operator understands — filtered until a time, reserved for another role, quota limit
 * of a role reached, too little free (below the minimum allocatable), or offerable (its turn
 * has not come, or the next round will offer it). Pure: the same state the allocator sees.
 */
import { resources, type Resource } from '@agora/core';
import { isAllocatable, MIN_ALLOCATABLE, type MinAllocatable } from './allocator.js';
import { chop, limitRoom, subtreeUsage } from './quota.js';
import { DEFAULT_ROLE, mayUse, parentRole, reservedFor } from './roles.js';
import type { AgentSlot, FrameworkSlot, RoleConfig, ScalarVector } from './types.js';

/** Input of `explain`. */
export interface ExplainInput {
  /** Every active agent (not only changed ones). */
  readonly agents: Iterable<AgentSlot>;
  /** Every framework (their usage counts against quota). */
  readonly frameworks: readonly FrameworkSlot[];
  readonly frameworkId: string;
  readonly now: number;
  readonly roles?: ReadonlyMap<string, RoleConfig>;
  /** @default MIN_ALLOCATABLE */
  readonly minAllocatable?: MinAllocatable;
}

/** Why one agent is (not) offered to the framework. */
export interface AgentVerdict {
  readonly agentId: string;
  /** True when the next round may offer it (nothing stands in the way but turn order). */
  readonly offerable: boolean;
  /** One sentence per role of the framework. */
  readonly reasons: string[];
}

/** The answer: framework-wide notes, then one verdict per agent. */
export interface Explanation {
  readonly frameworkId: string;
  readonly notes: string[];
  readonly agents: AgentVerdict[];
}

const fmt = (res: readonly Resource[]): string => resources.formatResources(res) || 'nothing';

/** Explains, agent by agent, why the framework is or is not offered its resources. */
export function explain(input: ExplainInput): Explanation {
  const min = input.minAllocatable ?? MIN_ALLOCATABLE;
  const f = input.frameworks.find((x) => x.id === input.frameworkId);
  if (!f) return { frameworkId: input.frameworkId, notes: [`framework '${input.frameworkId}' is not known to the master`], agents: [] };
  const notes: string[] = [];
  const roles = [...new Set(f.roles.length > 0 ? f.roles : [DEFAULT_ROLE])];
  if (f.suppressed) notes.push('the framework is suppressed (SUPPRESS): it gets no offers until it sends REVIVE');
  const active = f.suppressed ? [] : roles.filter((r) => !f.suppressedRoles?.has(r));
  for (const r of roles) if (f.suppressedRoles?.has(r)) notes.push(`role '${r}' is suppressed by the framework`);
  const used = subtreeUsage(input.frameworks);
  // Limit room of each role's chain, worked out once.
  const chains = new Map<string, { role: string; room: ScalarVector }[]>();
  for (const role of active) {
    const chain: { role: string; room: ScalarVector }[] = [];
    for (let r = role; r !== ''; r = parentRole(r)) {
      const room = limitRoom(input.roles?.get(r), used.get(r));
      if (room) chain.push({ role: r, room });
    }
    chains.set(role, chain);
    for (const { role: r, room } of chain) {
      const full = [...room].filter(([, v]) => v <= 0).map(([n]) => n);
      if (full.length > 0) notes.push(`role '${r}' has reached its quota limit for ${full.join(', ')}`);
    }
  }
  const agents: AgentVerdict[] = [];
  for (const a of input.agents) {
    const reasons: string[] = [];
    let offerable = false;
    for (const role of active) {
      const mine = a.available.filter((r) => mayUse(r, role));
      const others = [...new Set(a.available.filter((r) => !mayUse(r, role)).map(reservedFor))];
      const tag = roles.length > 1 ? `role '${role}': ` : '';
      if (!isAllocatable(mine, min)) {
        if (others.length > 0 && isAllocatable(a.available, min)) reasons.push(`${tag}free resources are reserved for other role(s): ${others.map((x) => `'${x}'`).join(', ')}`);
        else reasons.push(`${tag}insufficient free resources: ${fmt(mine)} free (an offer needs at least ${min.cpus} cpus or ${min.mem} MiB mem)`);
        continue;
      }
      let res: readonly Resource[] = mine;
      let limited: string | undefined;
      for (const { role: r, room } of chains.get(role) ?? []) {
        res = chop(res, room);
        if (!isAllocatable(res, min)) {
          limited = `${tag}quota limit of role '${r}' reached (room left: ${[...room].map(([n, v]) => `${n} ${Math.max(0, v)}`).join(', ')})`;
          break;
        }
      }
      if (limited) {
        reasons.push(limited);
        continue;
      }
      const filter = f.filters?.get(a.id);
      if (filter && filter.until > input.now && resources.contains(filter.resources, res)) {
        reasons.push(`${tag}filtered: the framework declined ${fmt(filter.resources)} here; not offered again until ${new Date(filter.until).toISOString()} or REVIVE`);
        continue;
      }
      offerable = true;
      reasons.push(`${tag}offerable: ${fmt(res)} free for it; offered when its turn comes (a framework ranked before it may take the agent first)`);
    }
    if (active.length === 0) reasons.push('no active role (suppressed)');
    agents.push({ agentId: a.id, offerable, reasons });
  }
  return { frameworkId: f.id, notes, agents };
}

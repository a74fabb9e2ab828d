/**
 * One allocation round (Mesos `HierarchicalAllocatorProcess::allocate`, much simplified):
 * for each candidate agent, ask the sorter who is next and hand that framework everything on
 * the agent it may use (unreserved resources plus those reserved for its role). Pure: state and
 * `now` in, allocations out. The master applies the result and re-checks it against its ledger
 * before anything is offered, so a stale input can waste a round but never double-offer.
 */
import { resources, type Resource } from '@agora/core';
import { DrfSorter } from './sorter-drf.js';
import type { Sorter, SorterClient } from './sorter.js';
import type { Allocation, AllocationInput, FrameworkSlot } from './types.js';

/**
 * The smallest offer worth sending (Mesos `--min_allocatable_resources` default): at least
 * 0.01 cpus or 32 MiB of memory. Smaller leftovers (say, only ports) are held back, which
 * keeps a busy cluster from flooding frameworks with useless crumbs.
 */
export const MIN_ALLOCATABLE = { cpus: 0.01, mem: 32 } as const;

/** True when `available` holds enough to be worth offering (see MIN_ALLOCATABLE). */
export function isAllocatable(available: readonly Resource[]): boolean {
  return resources.scalarOf(available, 'cpus') >= MIN_ALLOCATABLE.cpus || resources.scalarOf(available, 'mem') >= MIN_ALLOCATABLE.mem;
}

/** Options of an Allocator. */
export interface AllocatorOptions {
  /** Who goes first. @default new DrfSorter() */
  sorter?: Sorter;
}

interface Client extends SorterClient {
  readonly usage: Map<string, number>;
  readonly slot: FrameworkSlot;
}

function mayUse(r: Resource, role: string): boolean {
  const reserved = resources.reservationRole(r);
  return reserved === '*' || reserved === role;
}

/** Runs allocation rounds with one sorter. Holds no cluster state between rounds. */
export class Allocator {
  readonly sorter: Sorter;

  constructor(options: AllocatorOptions = {}) {
    this.sorter = options.sorter ?? new DrfSorter();
  }

  /**
   * Decides one round. At most one allocation per (agent, framework); an agent's resources go
   * to one framework unless reservations split them by role.
   */
  allocate(input: AllocationInput): Allocation[] {
    const clients: Client[] = [];
    for (const f of input.frameworks) {
      if (f.suppressed) continue;
      clients.push({ id: f.id, usage: new Map(f.usage), weight: f.weight ?? 1, priority: f.priority ?? 0, slot: f });
    }
    const out: Allocation[] = [];
    if (clients.length === 0) return out;
    for (const agent of input.agents) {
      let remaining: readonly Resource[] = agent.available;
      if (!isAllocatable(remaining)) continue;
      for (const c of this.sorter.sort(clients, input.totals)) {
        const role = c.slot.role;
        const mine = remaining.filter((r) => mayUse(r, role));
        if (!isAllocatable(mine)) continue;
        const filter = c.slot.filters?.get(agent.id);
        if (filter && filter.until > input.now && resources.contains(filter.resources, mine)) continue;
        const granted = resources.flatten(mine);
        out.push({ agentId: agent.id, frameworkId: c.id, resources: granted });
        for (const r of granted) {
          if (r.type === 1 /* SCALAR */) c.usage.set(r.name ?? '', (c.usage.get(r.name ?? '') ?? 0) + (r.scalar?.value ?? 0));
        }
        remaining = remaining.filter((r) => !mayUse(r, role));
        if (!isAllocatable(remaining)) break;
      }
    }
    return out;
  }
}

/** One round with a given sorter (DRF by default); a convenience over `new Allocator()`. */
export function allocate(input: AllocationInput, sorter?: Sorter): Allocation[] {
  return new Allocator(sorter ? { sorter } : {}).allocate(input);
}

/**
 * One allocation round (Mesos `HierarchicalAllocatorProcess::allocate`): state and `now` in,
 * allocations out. The master applies the result and re-checks it against its ledger before
 * anything is offered, so a stale input can waste a round but never double-offer.
 *
 * Shape of a round:
 * 1. Build the role tree: a node per role (and its ancestors), a leaf per (framework, role)
 *    that is not suppressed. Each node's usage is what its subtree holds (allocated + offered).
 *    Every node keeps its children in an indexed heap ordered by the sorter's rank, so picking
 *    "who is next" costs O(depth × log n), not a sort (that sort per agent is what makes Mesos
 *    take a second per cycle at 10k agents × 1k frameworks).
 * 2. Order the candidate agents by policy: `spread` (most free first) or `binpack` (least free
 *    first, so partly used agents fill up before empty ones are touched).
 * 3. Stage 1, guarantees: roles below their quota guarantee are served first, from unreserved
 *    resources, up to the guarantee.
 * 4. Stage 2, fair share: per agent, resources reserved for a role go to that role's subtree;
 *    the unreserved rest go down the tree, always to the lowest-ranked eligible leaf. What
 *    unmet guarantees still need is held back (headroom), and no role's limit is exceeded:
 *    offers are cut down to fit.
 * A leaf is skipped on an agent it has filtered (declined) while the refused resources still
 * cover what is free. A leaf gets one allocation per agent (reserved and unreserved merged).
 */
import { resources, type Resource } from '@agora/core';
import { chop, hasGap, scalarsOf, addInto, type MutableScalars } from './quota.js';
import { less, RoleTree, type Leaf, type RoleNode, type TreeNode } from './role-tree.js';
import { DEFAULT_ROLE, reservedFor } from './roles.js';
import { DrfSorter } from './sorter-drf.js';
import type { Sorter } from './sorter.js';
import type { Allocation, AllocationInput, ScalarVector } from './types.js';

/**
 * The smallest offer worth sending (Mesos `--min_allocatable_resources` default): at least
 * 0.01 cpus or 32 MiB of memory. Smaller leftovers (say, only ports) are held back, which
 * keeps a busy cluster from flooding frameworks with useless crumbs.
 */
export const MIN_ALLOCATABLE = { cpus: 0.01, mem: 32 } as const;

/** Minimum allocatable resources: an offer needs at least this many cpus or this much mem. */
export interface MinAllocatable {
  readonly cpus: number;
  readonly mem: number;
}

/** True when `available` holds enough to be worth offering (see MIN_ALLOCATABLE). */
export function isAllocatable(available: readonly Resource[], min: MinAllocatable = MIN_ALLOCATABLE): boolean {
  let cpus = 0;
  let mem = 0;
  for (const r of available) {
    if (r.type !== 1 /* SCALAR */) continue;
    if (r.name === 'cpus') cpus += r.scalar?.value ?? 0;
    else if (r.name === 'mem') mem += r.scalar?.value ?? 0;
  }
  return cpus >= min.cpus || mem >= min.mem;
}

/** How candidate agents are ordered within a round. */
export type AgentOrder = 'spread' | 'binpack';

/** Options of an Allocator. */
export interface AllocatorOptions {
  /** Who goes first, at both levels (roles, then frameworks in a role). @default new DrfSorter() */
  sorter?: Sorter;
  /** `spread`: agents with the most free first; `binpack`: the least free first. @default 'spread' */
  agentOrder?: AgentOrder;
  /** Offers smaller than this are not made. @default MIN_ALLOCATABLE */
  minAllocatable?: MinAllocatable;
}

interface AgentWork {
  id: string;
  /** Unreserved resources still free. */
  unreserved: readonly Resource[];
  /** Reserved resources by role (undefined: none). */
  reserved: Map<string, readonly Resource[]> | undefined;
  grants: Map<Leaf, Resource[]> | undefined;
  order: number;
}

/**
 * The role tree kept between rounds (see `role-tree.ts`): the master holds one and passes it
 * to every `allocate`, so a round over one freed agent costs what changed, not O(frameworks).
 * It is plain data with no clock, timer or I/O; dropping it (or passing none) only costs speed.
 */
export class AllocatorState {
  /** @internal */
  tree: RoleTree | undefined;

  /** Counted full builds and frameworks patched in place (for tests and the benchmark). */
  get stats(): { rebuilds: number; patched: number } {
    return this.tree?.stats ?? { rebuilds: 0, patched: 0 };
  }
}

/**
 * Runs allocation rounds with one sorter and agent-order policy. Holds no cluster state
 * between rounds (only a sorter's own turn counter or RNG); an `AllocatorState` passed in
 * does, for speed.
 */
export class Allocator {
  readonly sorter: Sorter;
  readonly agentOrder: AgentOrder;
  readonly min: MinAllocatable;

  constructor(options: AllocatorOptions = {}) {
    this.sorter = options.sorter ?? new DrfSorter();
    this.agentOrder = options.agentOrder ?? 'spread';
    this.min = options.minAllocatable ?? MIN_ALLOCATABLE;
  }

  /**
   * Decides one round (see the module comment). With `state`, the role tree is kept in it
   * between rounds and only frameworks whose `version` changed are re-read; the decisions are
   * the same as without.
   */
  allocate(input: AllocationInput, state?: AllocatorState): Allocation[] {
    const round = new Round(this, input, this.treeFor(input, state));
    return round.run();
  }

  private treeFor(input: AllocationInput, state: AllocatorState | undefined): RoleTree {
    const keep = state !== undefined && this.sorter.persistentRanks === true;
    const old = state?.tree;
    if (keep && old && old.sorter === this.sorter && old.roles === input.roles && sameScalars(old.totals, input.totals) && old.sync(input.frameworks)) {
      return old;
    }
    const tree = new RoleTree(this.sorter, input.roles, keep ? new Map(input.totals) : input.totals, keep);
    tree.build(input.frameworks);
    if (old) tree.stats.rebuilds += old.stats.rebuilds;
    if (state) state.tree = keep ? tree : undefined;
    return tree;
  }
}

function sameScalars(a: ScalarVector, b: ScalarVector): boolean {
  if (a.size !== b.size) return false;
  for (const [n, v] of a) if (b.get(n) !== v) return false;
  return true;
}

/** The state of one round; discarded afterwards (its tree may live on in an AllocatorState). */
class Round {
  private readonly sorter: Sorter;
  private readonly min: MinAllocatable;
  private readonly totals: ScalarVector;
  private readonly now: number;
  private readonly root: RoleNode;
  private readonly roleNodes: ReadonlyMap<string, RoleNode>;
  /** Roles with a guarantee that have frameworks wanting offers. */
  private readonly guaranteed: RoleNode[] = [];
  /** Unreserved scalars that must stay free for unmet guarantees (undefined: none needed). */
  private headroom: MutableScalars | undefined;
  /** Leaves already served from the pool being handed out now. */
  private exclude = new Set<Leaf>();

  constructor(private readonly alloc: Allocator, private readonly input: AllocationInput, private readonly tree: RoleTree) {
    this.sorter = alloc.sorter;
    this.min = alloc.min;
    this.totals = tree.totals;
    this.now = input.now;
    this.root = tree.root;
    this.roleNodes = tree.roleNodes;
    for (const n of tree.quotaNodes) if (n.leaves > 0 && n.gap) this.guaranteed.push(n);
    this.recomputeNeed();
    if (this.headroom?.size === 0) this.headroom = undefined;
  }

  private rank(n: TreeNode): void {
    this.tree.rank(n);
  }

  // ---------------------------------------------------------------- a round

  run(): Allocation[] {
    const out: Allocation[] = [];
    if (this.root.leaves === 0) return out;
    const agents = this.prepareAgents();
    if (agents.length === 0) return out;
    if (this.guaranteed.some((n) => hasGap(n.gap))) {
      for (const a of agents) this.stageGuarantees(a);
    }
    if (this.headroom) this.reduceHeadroomByFree(agents);
    for (const a of agents) {
      this.stageFair(a);
      if (a.grants) {
        for (const [leaf, res] of a.grants) out.push({ agentId: a.id, frameworkId: leaf.fw.id, role: leaf.role, resources: res });
      }
    }
    return out;
  }

  private prepareAgents(): AgentWork[] {
    const list: AgentWork[] = [];
    const cpuTotal = this.totals.get('cpus') || 1;
    const memTotal = this.totals.get('mem') || 1;
    for (const slot of this.input.agents) {
      const av = slot.available;
      let reserved: Map<string, Resource[]> | undefined;
      let unreserved: readonly Resource[] = av;
      for (const r of av) {
        if (r.reservations && r.reservations.length > 0) {
          reserved = new Map();
          break;
        }
      }
      if (reserved) {
        const un: Resource[] = [];
        for (const r of av) {
          const role = reservedFor(r);
          if (role === DEFAULT_ROLE) un.push(r);
          else {
            let l = reserved.get(role);
            if (!l) reserved.set(role, (l = []));
            l.push(r);
          }
        }
        unreserved = un;
      }
      let cpus = 0;
      let mem = 0;
      for (const r of av) {
        if (r.name === 'cpus') cpus += r.scalar?.value ?? 0;
        else if (r.name === 'mem') mem += r.scalar?.value ?? 0;
      }
      list.push({ id: slot.id, unreserved, reserved, grants: undefined, order: cpus / cpuTotal + mem / memTotal });
    }
    // Array.sort is stable: equal agents keep the input order.
    if (this.alloc.agentOrder === 'binpack') list.sort((a, b) => a.order - b.order);
    else list.sort((a, b) => b.order - a.order);
    return list;
  }

  /** Headroom becomes "free unreserved minus what guarantees still need", per scalar. */
  private reduceHeadroomByFree(agents: AgentWork[]): void {
    const need = this.headroom as MutableScalars;
    const free = new Map<string, number>();
    for (const a of agents) for (const [n, v] of scalarsOf(a.unreserved)) if (need.has(n)) free.set(n, (free.get(n) ?? 0) + v);
    this.recomputeNeed();
    const cap: MutableScalars = new Map();
    for (const [n, v] of this.headroom ?? []) cap.set(n, (free.get(n) ?? 0) - v);
    this.headroom = cap.size > 0 ? cap : undefined;
  }

  private recomputeNeed(): void {
    const need: MutableScalars = new Map();
    for (const n of this.guaranteed) {
      let inner = false;
      for (let p = n.parent; p && p !== this.root; p = p.parent) if (p.gap) inner = true;
      if (inner || !n.gap) continue;
      for (const [name, v] of n.gap) if (v > 0) need.set(name, (need.get(name) ?? 0) + v);
    }
    this.headroom = need;
  }

  /** Stage 1: guaranteed roles below their guarantee take from the agent's unreserved resources. */
  private stageGuarantees(a: AgentWork): void {
    const tried = new Set<RoleNode>();
    this.exclude.clear();
    for (;;) {
      if (!isAllocatable(a.unreserved, this.min)) return;
      let best: RoleNode | undefined;
      for (const n of this.guaranteed) {
        if (tried.has(n) || !hasGap(n.gap)) continue;
        this.rank(n);
        if (!best || less(n, best)) best = n;
      }
      if (!best) return;
      tried.add(best);
      let res = this.chopForChain(a.unreserved, best);
      if (res.length > 0) res = chop(res, best.gap as ScalarVector);
      if (!isAllocatable(res, this.min)) continue;
      const leaf = this.serve(best, res, a);
      if (!leaf) continue;
      this.bubble(best);
      tried.delete(best);
      a.unreserved = this.minus(a.unreserved, res, leaf);
    }
  }

  /** Stage 2: reserved resources to their role's subtree, then the unreserved rest to anyone. */
  private stageFair(a: AgentWork): void {
    if (a.reserved) {
      for (const [role, group] of a.reserved) {
        // Reserved for `role`: only that role and its children may have it, so start at its node.
        const node = this.roleNodes.get(role);
        if (!node || node.leaves === 0) continue;
        let left: readonly Resource[] = group;
        this.exclude.clear();
        for (;;) {
          const res = this.chopForChain(left, node);
          if (!isAllocatable(res, this.min)) break;
          const leaf = this.serve(node, res, a);
          if (!leaf) break;
          this.bubble(node);
          left = this.minus(left, res, leaf);
        }
      }
    }
    this.exclude.clear();
    for (;;) {
      let res = a.unreserved;
      if (this.headroom) res = chop(res, this.headroom);
      if (!isAllocatable(res, this.min)) return;
      const leaf = this.serve(this.root, res, a);
      if (!leaf) return;
      if (this.headroom) for (const [n, v] of scalarsOf(res)) if (this.headroom.has(n)) this.headroom.set(n, (this.headroom.get(n) ?? 0) - v);
      a.unreserved = this.minus(a.unreserved, res, leaf);
    }
  }

  /** `res` cut to the limit room of `node` and all its ancestors. */
  private chopForChain(res: readonly Resource[], node: RoleNode): readonly Resource[] {
    let out = res;
    for (let n: RoleNode | undefined = node; n && n !== this.root; n = n.parent) if (n.room) out = chop(out, n.room);
    return out;
  }

  /** `from` − `given` (given is usually all of `from`, which costs nothing). */
  private minus(from: readonly Resource[], given: readonly Resource[], leaf: Leaf): readonly Resource[] {
    this.exclude.add(leaf);
    if (given === from) return [];
    return resources.subtract(from, given);
  }

  /**
   * Gives `res` to the best eligible leaf below `node` (whose ancestors' limits `res` already
   * fits). Children are popped in rank order; skipped ones are pushed back. Returns the leaf.
   */
  private serve(node: RoleNode, res: readonly Resource[], a: AgentWork): Leaf | undefined {
    const heap = node.heap;
    let stash: TreeNode[] | undefined;
    let found: Leaf | undefined;
    let n: TreeNode | undefined;
    while ((n = heap.pop()) !== undefined) {
      if (n.kind === 'leaf') {
        if (this.eligible(n, res, a)) {
          this.grant(n, res, a);
          this.rank(n);
          heap.push(n);
          found = n;
          break;
        }
      } else {
        const r = n.room ? chop(res, n.room) : res;
        if (r === res || isAllocatable(r, this.min)) {
          found = this.serve(n, r, a);
          if (found) {
            this.rank(n);
            heap.push(n);
            break;
          }
        }
      }
      (stash ??= []).push(n);
    }
    if (stash) for (const s of stash) heap.push(s);
    return found;
  }

  private eligible(leaf: Leaf, res: readonly Resource[], a: AgentWork): boolean {
    // Already served from this pool of this agent (its offer was cut to a limit): the rest is for others.
    if (this.exclude.has(leaf)) return false;
    const f = leaf.fw.filters?.get(a.id);
    if (f && f.until > this.now && resources.contains(f.resources, res)) return false;
    return true;
  }

  /** Books `res` to the leaf and every ancestor (usage, limit room, guarantee gap). */
  private grant(leaf: Leaf, res: readonly Resource[], a: AgentWork): void {
    const s = scalarsOf(res);
    if (!leaf.own) {
      leaf.usage = new Map(leaf.usage);
      leaf.own = true;
    }
    addInto(leaf.usage as MutableScalars, s);
    this.tree.touch(leaf);
    this.sorter.served(leaf);
    for (let r = leaf.parent; r && r !== this.root; r = r.parent) {
      addInto(r.usage as MutableScalars, s);
      if (r.room) addInto(r.room, s, -1);
      if (r.gap) for (const [n, v] of s) if (r.gap.has(n)) r.gap.set(n, Math.max(0, (r.gap.get(n) ?? 0) - v));
      this.sorter.served(r);
    }
    a.grants ??= new Map();
    const prev = a.grants.get(leaf);
    // Concatenated, not merged: the master flattens when it builds the offer.
    a.grants.set(leaf, prev ? [...prev, ...res] : (res as Resource[]));
  }

  /** After serving below `node` (which stayed in its parent's heap), fix ranks up the tree. */
  private bubble(node: RoleNode): void {
    for (let n: RoleNode = node; n.parent; n = n.parent) {
      this.rank(n);
      n.parent.heap.update(n);
    }
  }
}

/** One round with a given sorter (DRF by default); a convenience over `new Allocator()`. */
export function allocate(input: AllocationInput, sorter?: Sorter): Allocation[] {
  return new Allocator(sorter ? { sorter } : {}).allocate(input);
}

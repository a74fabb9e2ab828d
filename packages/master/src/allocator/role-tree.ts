/**
 * The role tree the allocator walks: a node per role (and its ancestors), a leaf per
 * (framework, role). Each role node's usage is what its subtree holds (allocated + offered,
 * inactive frameworks included: they count for fairness and quota); each keeps its children
 * that want offers in an indexed heap ordered by the sorter's rank.
 *
 * Why a tree that can outlive a round: building it costs O(frameworks) — about 1 ms at 6,000
 * frameworks, which dominated a round over one freed agent. Kept in an `AllocatorState`, the
 * tree is brought up to date from the input instead: a framework whose `version` is unchanged
 * (and that this tree did not grant to last round) is skipped with one comparison; a changed
 * one has its leaves taken out and put back (O(roles × depth × log n)). Grants made during a
 * round stay in the tree, but the granted frameworks are re-read next round, so an allocation
 * the master ends up not applying leaves no trace. Anything global (totals, role config,
 * sorter, or most frameworks changed) rebuilds from scratch, which is what a stateless round
 * always does.
 */
import { Heap, type HeapItem } from './heap.js';
import { addInto, guaranteeGap, limitRoom, usageInRole, type MutableScalars } from './quota.js';
import { DEFAULT_ROLE, parentRole, weightOf } from './roles.js';
import type { Sorter, SorterClient } from './sorter.js';
import type { FrameworkSlot, RoleConfig, ScalarVector } from './types.js';

/** A node of the role tree (a role, or a framework in a role) as the heaps hold it. */
export interface NodeBase extends HeapItem, SorterClient {
  usage: ScalarVector;
  /** The usage map is this node's own copy (copy-on-write of the input). */
  own: boolean;
  priority: number;
  g: number;
  k: number;
  parent: RoleNode | undefined;
}

export interface RoleNode extends NodeBase {
  kind: 'role';
  role: string;
  config: RoleConfig | undefined;
  heap: Heap<TreeNode>;
  /** Children during a full build only (the heaps are the truth afterwards). */
  members: TreeNode[];
  /** limit − usage, per limited scalar. */
  room: MutableScalars | undefined;
  /** guarantee − usage (≥ 0), per guaranteed scalar. */
  gap: MutableScalars | undefined;
  /** Active leaves in the subtree (the node is in its parent's heap iff > 0). */
  leaves: number;
  /** Priorities of the active leaves in the subtree → how many (for `priority` = the highest). */
  priorities: Map<number, number>;
}

export interface Leaf extends NodeBase {
  kind: 'leaf';
  fw: FrameworkSlot;
  role: string;
  /** Takes offers (in its role's heap); inactive leaves only carry usage. */
  active: boolean;
  entry: Entry | undefined;
}

export type TreeNode = RoleNode | Leaf;

/** What the tree remembers of one framework between rounds. */
interface Entry {
  slot: FrameworkSlot;
  version: number | undefined;
  leaves: Leaf[];
  /** Granted to during the last round: re-read from the slot next round. */
  touched: boolean;
  stamp: number;
}

export const less = (a: TreeNode, b: TreeNode): boolean =>
  a.g < b.g || (a.g === b.g && (a.k < b.k || (a.k === b.k && a.id < b.id)));

/** Beyond this share of frameworks changed, rebuilding is cheaper than patching. */
const REBUILD_FRACTION = 0.25;

export class RoleTree {
  readonly root: RoleNode;
  readonly roleNodes = new Map<string, RoleNode>();
  /** Role nodes with quota (their room and gap follow their usage). */
  readonly quotaNodes: RoleNode[] = [];
  private readonly entries = new Map<string, Entry>();
  private prevSlots: readonly FrameworkSlot[] = [];
  private prevEntries: Entry[] = [];
  private stamp = 0;
  /** Counted rebuilds and patched frameworks, for tests and the benchmark. */
  readonly stats = { rebuilds: 0, patched: 0 };

  constructor(
    readonly sorter: Sorter,
    readonly roles: ReadonlyMap<string, RoleConfig> | undefined,
    readonly totals: ScalarVector,
    /** Keeps per-framework entries (only trees that outlive a round need them). */
    private readonly persistent: boolean,
  ) {
    this.root = this.newRole('');
  }

  // ---------------------------------------------------------------- nodes

  private newRole(role: string): RoleNode {
    const config = role ? this.roles?.get(role) : undefined;
    return {
      kind: 'role', id: role, role, config, usage: new Map(), own: true, weight: role ? weightOf(this.roles, role) : 1, priority: -Infinity,
      g: 0, k: 0, parent: undefined, heapIndex: -1, heap: new Heap(less), members: [], room: undefined, gap: undefined, leaves: 0, priorities: new Map(),
    };
  }

  private roleNode(role: string): RoleNode {
    let n = this.roleNodes.get(role);
    if (n) return n;
    n = this.newRole(role);
    this.roleNodes.set(role, n);
    const p = parentRole(role);
    n.parent = p === '' ? this.root : this.roleNode(p);
    n.parent.members.push(n);
    if (n.config?.quota) {
      this.quotaNodes.push(n);
      n.room = limitRoom(n.config, n.usage);
      n.gap = guaranteeGap(n.config, n.usage);
    }
    return n;
  }

  rank(n: TreeNode): void {
    n.g = this.sorter.group(n);
    n.k = this.sorter.key(n, this.totals);
  }

  /** The leaves of one framework, appended to `out` (not yet counted nor linked into heaps). */
  private leavesOf(f: FrameworkSlot, entry: Entry | undefined, out: Leaf[] = []): Leaf[] {
    const roles = f.roles.length > 0 ? f.roles : [DEFAULT_ROLE];
    const seen = roles.length > 1 ? new Set<string>() : undefined;
    for (const role of roles) {
      if (seen) {
        if (seen.has(role)) continue;
        seen.add(role);
      }
      const u = usageInRole(f, role);
      const active = f.active !== false && !f.suppressed && !f.suppressedRoles?.has(role);
      if (!active && u.size === 0) continue;
      // A kept tree copies the usage: the owner mutates its maps in place, and what this leaf
      // added to its ancestors must be known exactly to take it off again.
      const own = this.persistent;
      out.push({
        kind: 'leaf', id: roles.length > 1 ? `${f.id} ${role}` : f.id, fw: f, role, usage: own ? new Map(u) : u, own, weight: f.weight ?? 1,
        priority: f.priority ?? 0, g: 0, k: 0, parent: this.roleNode(role), heapIndex: -1, active, entry,
      });
    }
    return out;
  }

  // ---------------------------------------------------------------- full build

  /** Builds the whole tree from the frameworks in O(frameworks). Only on a fresh tree. */
  build(frameworks: readonly FrameworkSlot[]): void {
    this.stats.rebuilds++;
    const leaves: Leaf[] = [];
    for (const f of frameworks) {
      const entry = this.persistent ? this.entry(f) : undefined;
      leaves.length = 0;
      this.leavesOf(f, entry, leaves);
      if (entry) entry.leaves = leaves.slice();
      for (const leaf of leaves) {
        const node = leaf.parent as RoleNode;
        // Usage counts for every ancestor (fairness and quota), suppressed or not.
        if (leaf.usage.size > 0) for (let r: RoleNode | undefined = node; r && r !== this.root; r = r.parent) addInto(r.usage as MutableScalars, leaf.usage);
        if (!leaf.active) continue;
        node.members.push(leaf);
        for (let r: RoleNode | undefined = node; r; r = r.parent) {
          r.leaves++;
          // Only a kept tree needs the counts (leaves leave it one by one).
          if (this.persistent) countPriority(r, leaf.priority, 1);
          else if (leaf.priority > r.priority) r.priority = leaf.priority;
        }
      }
    }
    this.finish(this.root);
    if (this.persistent) this.remember(frameworks);
  }

  private entry(f: FrameworkSlot): Entry {
    const e: Entry = { slot: f, version: f.version, leaves: [], touched: false, stamp: this.stamp };
    this.entries.set(f.id, e);
    return e;
  }

  /** Ranks nodes bottom-up, computes quota room, builds heaps of non-empty children. */
  private finish(n: RoleNode): void {
    const kids: TreeNode[] = [];
    for (const m of n.members) {
      if (m.kind === 'role') {
        if (m.leaves === 0) {
          this.finishEmpty(m);
          continue;
        }
        this.finish(m);
      }
      this.rank(m);
      kids.push(m);
    }
    n.members = [];
    n.heap = Heap.from(kids, less);
    this.refreshQuota(n);
  }

  /** A subtree without active leaves: no heap entries, but quota still follows usage. */
  private finishEmpty(n: RoleNode): void {
    for (const m of n.members) if (m.kind === 'role') this.finishEmpty(m);
    n.members = [];
    this.rank(n);
    this.refreshQuota(n);
  }

  private refreshQuota(n: RoleNode): void {
    if (n === this.root || !n.config?.quota) return;
    n.room = limitRoom(n.config, n.usage);
    n.gap = guaranteeGap(n.config, n.usage);
  }

  private remember(frameworks: readonly FrameworkSlot[]): void {
    this.prevSlots = frameworks.slice();
    this.prevEntries = this.prevSlots.map((f) => this.entries.get(f.id) as Entry);
  }

  // ---------------------------------------------------------------- incremental

  /**
   * Brings a persistent tree in line with `frameworks`. Returns false when so much changed
   * that the caller should build a fresh tree instead.
   */
  sync(frameworks: readonly FrameworkSlot[]): boolean {
    const stamp = ++this.stamp;
    const prev = this.prevSlots;
    const prevEntries = this.prevEntries;
    const changed: FrameworkSlot[] = [];
    let seen = 0;
    // Same slots at the same places as last round: the remembered entries line up.
    let aligned = prev.length === frameworks.length;
    for (let i = 0; i < frameworks.length; i++) {
      const f = frameworks[i] as FrameworkSlot;
      let e: Entry | undefined;
      if (prev[i] === f) e = prevEntries[i];
      else {
        aligned = false;
        e = this.entries.get(f.id);
      }
      if (e === undefined || e.slot !== f || e.touched || f.version === undefined || e.version !== f.version) changed.push(f);
      if (e && e.stamp !== stamp) {
        e.stamp = stamp;
        seen++;
      }
    }
    if (changed.length > Math.max(64, frameworks.length * REBUILD_FRACTION)) return false;
    // Frameworks gone since the last round: their usage leaves the tree with them.
    if (seen < this.entries.size) {
      for (const [id, e] of this.entries) {
        if (e.stamp === stamp) continue;
        this.unlink(e.leaves);
        this.entries.delete(id);
      }
    }
    for (const f of changed) {
      let e = this.entries.get(f.id);
      if (e) this.unlink(e.leaves);
      else e = this.entry(f);
      e.slot = f;
      e.version = f.version;
      e.touched = false;
      e.stamp = stamp;
      e.leaves = this.leavesOf(f, e);
      this.link(e.leaves);
      this.stats.patched++;
    }
    // Entries are patched in place, so only new places or new slots need remembering.
    if (!aligned) this.remember(frameworks);
    return true;
  }

  /** Marks the framework of a leaf granted to this round (re-read next round). */
  touch(leaf: Leaf): void {
    if (leaf.entry) leaf.entry.touched = true;
  }

  /** Takes leaves out: their usage off every ancestor, out of the heaps. */
  private unlink(leaves: readonly Leaf[]): void {
    for (const leaf of leaves) {
      const node = leaf.parent as RoleNode;
      if (leaf.active) {
        node.heap.remove(leaf);
        for (let r: RoleNode | undefined = node; r; r = r.parent) {
          countPriority(r, leaf.priority, -1);
          if (--r.leaves === 0 && r.parent) r.parent.heap.remove(r);
        }
      }
      this.shift(node, leaf.usage, -1);
    }
  }

  /** Puts leaves in: usage onto every ancestor, active ones into the heaps. */
  private link(leaves: readonly Leaf[]): void {
    for (const leaf of leaves) {
      const node = leaf.parent as RoleNode;
      if (leaf.active) {
        this.rank(leaf);
        node.heap.push(leaf);
        for (let r: RoleNode | undefined = node; r; r = r.parent) {
          countPriority(r, leaf.priority, 1);
          if (++r.leaves === 1 && r.parent) {
            this.rank(r);
            r.parent.heap.push(r);
          }
        }
      }
      this.shift(node, leaf.usage, 1);
    }
  }

  /** Adds sign × usage to `node` and its ancestors, then re-ranks them in their heaps. */
  private shift(node: RoleNode, usage: ScalarVector, sign: 1 | -1): void {
    for (let r: RoleNode | undefined = node; r && r !== this.root; r = r.parent) {
      if (usage.size > 0) {
        addInto(r.usage as MutableScalars, usage, sign);
        this.refreshQuota(r);
      }
      this.rank(r);
      r.parent?.heap.update(r);
    }
  }
}

/** Tracks the highest priority of a role's active leaves as leaves come and go. */
function countPriority(r: RoleNode, p: number, sign: 1 | -1): void {
  const c = (r.priorities.get(p) ?? 0) + sign;
  if (c > 0) r.priorities.set(p, c);
  else r.priorities.delete(p);
  if (sign > 0) {
    if (p > r.priority) r.priority = p;
  } else if (c <= 0 && p === r.priority) {
    let max = -Infinity;
    for (const q of r.priorities.keys()) if (q > max) max = q;
    r.priority = max;
  }
}

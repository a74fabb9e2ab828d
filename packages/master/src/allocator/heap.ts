/**
 * An indexed binary min-heap: every item remembers its slot, so an item whose key changed is
 * moved in O(log n) instead of re-sorting. The allocator keeps one per role node; that is what
 * turns Mesos's "sort every client for every agent" (O(agents × clients log clients)) into
 * O(agents × log clients).
 */

/** Something a Heap can hold. `heapIndex` is owned by the heap (-1 when outside). */
export interface HeapItem {
  heapIndex: number;
}

export class Heap<T extends HeapItem> {
  private readonly items: T[] = [];

  /** @param less strict order: true when a goes before b */
  constructor(private readonly less: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  /** Builds the heap from `items` in O(n). */
  static from<T extends HeapItem>(items: T[], less: (a: T, b: T) => boolean): Heap<T> {
    const h = new Heap<T>(less);
    for (const [i, it] of items.entries()) {
      it.heapIndex = i;
      h.items.push(it);
    }
    for (let i = (h.items.length >> 1) - 1; i >= 0; i--) h.down(i);
    return h;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(it: T): void {
    it.heapIndex = this.items.length;
    this.items.push(it);
    this.up(it.heapIndex);
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    if (top === undefined) return undefined;
    const last = items.pop() as T;
    if (items.length > 0) {
      items[0] = last;
      last.heapIndex = 0;
      this.down(0);
    }
    top.heapIndex = -1;
    return top;
  }

  /** Restores order after `it`'s key changed (no-op when it is not in this heap). */
  update(it: T): void {
    const i = it.heapIndex;
    if (i < 0 || this.items[i] !== it) return;
    this.up(i);
    this.down(it.heapIndex);
  }

  /** Takes `it` out (no-op when it is not in this heap). */
  remove(it: T): void {
    const i = it.heapIndex;
    const items = this.items;
    if (i < 0 || items[i] !== it) return;
    const last = items.pop() as T;
    it.heapIndex = -1;
    if (last === it) return;
    items[i] = last;
    last.heapIndex = i;
    this.up(i);
    this.down(last.heapIndex);
  }

  private up(i: number): void {
    const items = this.items;
    const it = items[i] as T;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p] as T;
      if (!this.less(it, parent)) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    items[i] = it;
    it.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const it = items[i] as T;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.less(items[r] as T, items[l] as T)) c = r;
      const child = items[c] as T;
      if (!this.less(child, it)) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = it;
    it.heapIndex = i;
  }
}

/**
 * Word frequencies for `--top`: a byte-keyed open-addressing hash table (no string per word —
 * decoding every word to a JS string would cost more than the whole scan), its compact wire
 * form, and the scheduler-side merge.
 *
 * Exactness: each count task sends its chunk's *complete* frequency map (compactly: varint
 * length, key bytes, varint count, then deflate), so the merged map is the exact frequency of
 * every word and the top K taken from it is exact — no top-K-candidates approximation.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { WHITESPACE, type Counts } from './counter.js';

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;

/**
 * A growable table of byte strings → counts. One Int32Array holds [hash, key offset, key length,
 * count] per slot, so a probe touches one cache line instead of four arrays (with ~10^5–10^6
 * distinct words the table outgrows the caches and misses dominate).
 */
export class FreqTable {
  private mask: number;
  /** 32 - log2(capacity): slots come from the top bits of a Fibonacci-multiplied hash (FNV's low bits cluster). */
  private shift: number;
  private slots: Int32Array;
  private arena: Uint8Array;
  private arenaUsed = 0;
  size = 0;

  constructor(capacity = 1 << 16) {
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    this.slots = FreqTable.empty(capacity);
    this.arena = new Uint8Array(1 << 20);
  }

  private static empty(capacity: number): Int32Array {
    const slots = new Int32Array(capacity * 4);
    for (let k = 1; k < slots.length; k += 4) slots[k] = -1;
    return slots;
  }

  /** Adds `n` to the count of buf[start, end) whose FNV-1a hash is `h`. */
  add(buf: Uint8Array, start: number, end: number, h: number, n: number): void {
    const len = end - start;
    const slots = this.slots;
    let i = Math.imul(h, 0x9e3779b1) >>> this.shift;
    for (;;) {
      const at = i << 2;
      const off = slots[at + 1]!;
      if (off < 0) break;
      if (slots[at] === h && slots[at + 2] === len) {
        const a = this.arena;
        let j = 0;
        while (j < len && a[off + j] === buf[start + j]) j++;
        if (j === len) { slots[at + 3]! += n; return; }
      }
      i = (i + 1) & this.mask;
    }
    if (this.arenaUsed + len > this.arena.length) {
      const grown = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + len));
      grown.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = grown;
    }
    this.arena.set(buf.subarray(start, end), this.arenaUsed);
    const at = i << 2;
    slots[at] = h;
    slots[at + 1] = this.arenaUsed;
    slots[at + 2] = len;
    slots[at + 3] = n;
    this.arenaUsed += len;
    if (++this.size * 2 > this.mask) this.grow();
  }

  private grow(): void {
    const old = this.slots;
    const cap = (this.mask + 1) * 2;
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
    const slots = FreqTable.empty(cap);
    for (let k = 0; k < old.length; k += 4) {
      if (old[k + 1]! < 0) continue;
      let i = Math.imul(old[k]!, 0x9e3779b1) >>> this.shift;
      while (slots[(i << 2) + 1]! >= 0) i = (i + 1) & this.mask;
      slots.set(old.subarray(k, k + 4), i << 2);
    }
    this.slots = slots;
  }

  /** Every (key bytes, count); the key is a view into the arena (copy it to keep it). */
  *entries(): IterableIterator<[Uint8Array, number]> {
    const slots = this.slots;
    for (let k = 0; k < slots.length; k += 4) {
      const off = slots[k + 1]!;
      if (off >= 0) yield [this.arena.subarray(off, off + slots[k + 2]!), slots[k + 3]!];
    }
  }
}

/** FNV-1a of bytes (the same hash `FreqScanner` computes on the fly). */
export function hashBytes(buf: Uint8Array, start = 0, end = buf.length): number {
  let h = FNV_OFFSET;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, FNV_PRIME);
  return h;
}

/**
 * Scans pieces of text into a FreqTable while counting words, lines and bytes. A word cut by
 * the end of a piece is carried (copied) into the next call, so pieces may split words.
 */
export class FreqScanner {
  readonly table = new FreqTable();
  readonly counts: Counts = { words: 0, lines: 0, bytes: 0 };
  private partial: Uint8Array = new Uint8Array(256);
  private partialLen = 0;

  update(buf: Uint8Array): void {
    const n = buf.length;
    this.counts.bytes += n;
    let i = 0;
    let lines = 0;
    // Finish a word carried over from the previous piece.
    if (this.partialLen > 0) {
      while (i < n && WHITESPACE[buf[i]!] === 0) i++;
      this.appendPartial(buf, 0, i);
      if (i === n) return;
      this.table.add(this.partial, 0, this.partialLen, hashBytes(this.partial, 0, this.partialLen), 1);
      this.counts.words++;
      this.partialLen = 0;
    }
    const table = this.table;
    let words = 0;
    while (i < n) {
      let b = buf[i]!;
      if (WHITESPACE[b] === 1) {
        if (b === 0x0a) lines++;
        i++;
        continue;
      }
      const start = i;
      let h = FNV_OFFSET;
      do {
        h = Math.imul(h ^ b, FNV_PRIME);
        if (++i === n) break;
        b = buf[i]!;
      } while (WHITESPACE[b] === 0);
      if (i === n) {
        this.appendPartial(buf, start, n);
        break;
      }
      table.add(buf, start, i, h, 1);
      words++;
    }
    this.counts.words += words;
    this.counts.lines += lines;
  }

  /** Call after the last piece: counts a word that ran to the end. */
  finish(): void {
    if (this.partialLen > 0) {
      this.table.add(this.partial, 0, this.partialLen, hashBytes(this.partial, 0, this.partialLen), 1);
      this.counts.words++;
      this.partialLen = 0;
    }
  }

  private appendPartial(buf: Uint8Array, start: number, end: number): void {
    const need = this.partialLen + end - start;
    if (need > this.partial.length) {
      const grown = new Uint8Array(Math.max(need, this.partial.length * 2));
      grown.set(this.partial.subarray(0, this.partialLen));
      this.partial = grown;
    }
    this.partial.set(buf.subarray(start, end), this.partialLen);
    this.partialLen = need;
  }
}

function varintSize(n: number): number {
  let s = 1;
  while (n >= 0x80) { n = Math.floor(n / 0x80); s++; }
  return s;
}

function putVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[at++] = n;
  return at;
}

/** The wire form of a table: deflate(varint len, bytes, varint count)*. */
export function encodeTable(table: FreqTable): Uint8Array {
  let size = 0;
  for (const [key, count] of table.entries()) size += varintSize(key.length) + key.length + varintSize(count);
  const raw = new Uint8Array(size);
  let at = 0;
  for (const [key, count] of table.entries()) {
    at = putVarint(raw, at, key.length);
    raw.set(key, at);
    at = putVarint(raw, key.length + at, count);
  }
  return deflateRawSync(raw, { level: 1 });
}

/** Decodes a table's wire form, calling `each(key as latin1 string, count)`. */
export function decodeTable(bytes: Uint8Array, each: (key: string, count: number) => void): void {
  const raw = inflateRawSync(bytes);
  let i = 0;
  const varint = (): number => {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (i >= raw.length) throw new Error('truncated frequency map');
      const b = raw[i++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 0x80;
    }
  };
  while (i < raw.length) {
    const len = varint();
    if (i + len > raw.length) throw new Error('truncated frequency map');
    const key = raw.toString('latin1', i, i + len);
    i += len;
    each(key, varint());
  }
}

/** One entry of a top-K list: the word as UTF-8 text, and its count. */
export interface TopWord {
  word: string;
  count: number;
}

/**
 * The K most frequent words of a merged map keyed by latin1 strings (one char per byte, so keys
 * compare as bytes): count descending, then bytes ascending.
 */
export function topK(merged: Map<string, number>, k: number): TopWord[] {
  if (k <= 0) return [];
  const all = [...merged.entries()];
  all.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return all.slice(0, k).map(([key, count]) => ({ word: Buffer.from(key, 'latin1').toString('utf8'), count }));
}

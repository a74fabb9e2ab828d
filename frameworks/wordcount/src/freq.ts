/**
 * Word frequencies for `--top`: a byte-keyed open-addressing hash table (no string per word —
 * decoding every word to a JS string would cost more than the whole scan), its compact wire
 * form, the scheduler-side merge (into the same kind of table) and the top K.
 *
 * Exactness: each count task sends its chunk's *complete* frequency map (varint length, key
 * bytes, varint count), so the merged map is the exact frequency of every word and the top K
 * taken from it is exact — no top-K-candidates approximation.
 */
import { WHITESPACE, type Counts } from './counter.js';

/** Keys up to this many bytes live inside their slot (nearly all words): a probe reads one line. */
const INLINE = 12;
/** The tag (low 4 bits of a slot's meta) of a key longer than INLINE bytes; 0 is an empty slot. */
const LONG = 15;
/** Words a scanner collects before adding them (see FreqTable.touch). */
const BATCH = 256;
/** A slot's count stays below this (it shares an int with the tag); the rest goes to the spill map. */
const SPILL_UNIT = 2 ** 27;
const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 16777619;

/** murmur3's finaliser: spreads the key bits over the bits the slot index comes from. */
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The hash of a short key packed into (a, b, c) little-endian, and its length. */
function shortHash(a: number, b: number, c: number, len: number): number {
  return fmix(a ^ Math.imul(b ^ len, 0x9e3779b1) ^ Math.imul(c, 0x85ebca6b));
}

/** The hash of a key longer than INLINE bytes: FNV-1a, finalised. */
function longHash(buf: Uint8Array, start: number, end: number): number {
  let h = FNV_OFFSET;
  for (let j = start; j < end; j++) h = Math.imul(h ^ buf[j]!, FNV_PRIME);
  return fmix(h);
}

/**
 * A growable table of byte strings → counts. One Int32Array holds four ints per slot:
 * `[a, b, c, meta]`, meta = count << 4 | tag. For a key of ≤ 12 bytes (tag = its length), a, b
 * and c are its bytes (little-endian, zero padded), so a lookup compares ints and touches one
 * cache line; for a longer key (tag 15), a is its hash, b its offset in the arena of key bytes
 * and c its length. Tag 0 marks an empty slot. Linear probing, at most half full. Counts past
 * 2^27 keep their low part in the slot and the rest in a small map, so no count overflows (a
 * merged map of a huge input).
 */
export class FreqTable {
  private mask: number;
  /** 32 - log2(capacity): slots come from the top bits of the hash. */
  private shift: number;
  private slots: Int32Array;
  private arena: Uint8Array;
  private arenaUsed = 0;
  /** Key id → count above the slot's part (only counts ≥ 2^27). */
  private readonly spill = new Map<string, number>();
  /**
   * Mixed into every slot index, different per table. Why: a map arrives in its sender's slot
   * order, i.e. sorted by hash; inserted into a smaller table with the same slot function, keys
   * with one home would come in runs and linear probing would turn quadratic (seconds per map).
   */
  private readonly seed = (Math.random() * 2 ** 32) | 0;
  size = 0;

  constructor(capacity = 1 << 16) {
    this.mask = capacity - 1;
    this.shift = 32 - Math.log2(capacity);
    this.slots = new Int32Array(capacity * 4);
    this.arena = new Uint8Array(1 << 16);
  }

  /** Empties the table, keeping its memory (a count task reuses it for the next chunk). */
  clear(): void {
    this.slots.fill(0);
    this.spill.clear();
    this.arenaUsed = 0;
    this.size = 0;
  }

  /** Adds `n` to the count of buf[start, end) (1 ≤ length). */
  add(buf: Uint8Array, start: number, end: number, n: number): void {
    const len = end - start;
    if (len > INLINE) { this.addLong(buf, start, end, n); return; }
    let a = 0;
    let b = 0;
    let c = 0;
    for (let j = 0; j < len; j++) {
      const byte = buf[start + j]!;
      if (j < 4) a |= byte << (j << 3);
      else if (j < 8) b |= byte << ((j - 4) << 3);
      else c |= byte << ((j - 8) << 3);
    }
    this.addShort(a, b, c, len, n);
  }

  /** The home slot of hash h. */
  private home(h: number): number {
    return Math.imul(h ^ this.seed, 0x9e3779b1) >>> this.shift;
  }

  /** Adds `n` to the count of the key of `len` (1–12) bytes packed into a, b, c (`h`: its shortHash). */
  addShort(a: number, b: number, c: number, len: number, n: number, h = shortHash(a, b, c, len)): void {
    const slots = this.slots;
    let i = this.home(h);
    for (;;) {
      const at = i << 2;
      const meta = slots[at + 3]!;
      const tag = meta & 15;
      if (tag === 0) {
        slots[at] = a;
        slots[at + 1] = b;
        slots[at + 2] = c;
        slots[at + 3] = len;
        this.bump(at, n);
        if (++this.size * 2 > this.mask) this.grow();
        return;
      }
      if (tag === len && slots[at] === a && slots[at + 1] === b && slots[at + 2] === c) {
        if ((meta >>> 4) + n < SPILL_UNIT) slots[at + 3] = meta + (n << 4);
        else this.bump(at, n);
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** Adds `n` to the count of buf[start, end), a key longer than 12 bytes (`h`: its longHash). */
  addLong(buf: Uint8Array, start: number, end: number, n: number, h = longHash(buf, start, end)): void {
    const len = end - start;
    const slots = this.slots;
    let i = this.home(h);
    for (;;) {
      const at = i << 2;
      const meta = slots[at + 3]!;
      const tag = meta & 15;
      if (tag === 0) break;
      if (tag === LONG && slots[at] === h && slots[at + 2] === len) {
        const a = this.arena;
        const off = slots[at + 1]!;
        let j = 0;
        while (j < len && a[off + j] === buf[start + j]) j++;
        if (j === len) {
          if ((meta >>> 4) + n < SPILL_UNIT) slots[at + 3] = meta + (n << 4);
          else this.bump(at, n);
          return;
        }
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
    slots[at + 3] = LONG;
    this.arenaUsed += len;
    this.bump(at, n);
    if (++this.size * 2 > this.mask) this.grow();
  }

  /** Adds n to the count of the key at slot offset `at`, spilling what passes 2^27. */
  private bump(at: number, n: number): void {
    const meta = this.slots[at + 3]!;
    const c = (meta >>> 4) + n;
    if (c < SPILL_UNIT) { this.slots[at + 3] = (c << 4) | (meta & 15); return; }
    const low = c % SPILL_UNIT;
    const id = this.keyId(at);
    this.spill.set(id, (this.spill.get(id) ?? 0) + (c - low));
    this.slots[at + 3] = (low << 4) | (meta & 15);
  }

  /** A key's identity that survives growing: its packed bytes, or its arena offset. */
  private keyId(at: number): string {
    const s = this.slots;
    const tag = s[at + 3]! & 15;
    return tag === LONG ? `L${s[at + 1]}` : `${s[at]}:${s[at + 1]}:${s[at + 2]}:${tag}`;
  }

  private countAt(at: number): number {
    const c = this.slots[at + 3]! >>> 4;
    return this.spill.size === 0 ? c : c + (this.spill.get(this.keyId(at)) ?? 0);
  }

  /**
   * Reads the home slot of each of `hashes[0, n)` and returns a meaningless sum. Why: these
   * loads do not depend on each other, so the CPU overlaps their cache misses; the inserts that
   * follow then find their slots in cache. With 10^5–10^6 distinct words the table is bigger
   * than the caches and a miss per rare word would dominate the scan.
   */
  touch(hashes: Int32Array, n: number): number {
    const slots = this.slots;
    let sum = 0;
    for (let k = 0; k < n; k++) sum += slots[(this.home(hashes[k]!) << 2) + 3]!;
    return sum;
  }

  private grow(): void {
    const old = this.slots;
    const cap = (this.mask + 1) * 2;
    this.mask = cap - 1;
    this.shift = 32 - Math.log2(cap);
    const slots = new Int32Array(cap * 4);
    for (let k = 0; k < old.length; k += 4) {
      const tag = old[k + 3]! & 15;
      if (tag === 0) continue;
      const h = tag === LONG ? old[k]! : shortHash(old[k]!, old[k + 1]!, old[k + 2]!, tag);
      let i = this.home(h);
      while ((slots[(i << 2) + 3]! & 15) !== 0) i = (i + 1) & this.mask;
      slots.set(old.subarray(k, k + 4), i << 2);
    }
    this.slots = slots;
  }

  /**
   * Calls `each(bytes, start, end, count)` for every key; the bytes are a view valid only
   * during the call (short keys are unpacked into a scratch buffer).
   */
  forEach(each: (bytes: Uint8Array, start: number, end: number, count: number) => void): void {
    const slots = this.slots;
    const scratch = new Uint8Array(INLINE);
    for (let k = 0; k < slots.length; k += 4) {
      const tag = slots[k + 3]! & 15;
      if (tag === 0) continue;
      if (tag === LONG) {
        const off = slots[k + 1]!;
        each(this.arena, off, off + slots[k + 2]!, this.countAt(k));
        continue;
      }
      for (let j = 0; j < tag; j++) scratch[j] = (slots[k + (j >> 2)]! >>> ((j & 3) << 3)) & 0xff;
      each(scratch, 0, tag, this.countAt(k));
    }
  }

  /** Every (key bytes, count), the key copied. */
  *entries(): IterableIterator<[Uint8Array, number]> {
    const out: [Uint8Array, number][] = [];
    this.forEach((bytes, start, end, count) => out.push([bytes.slice(start, end), count]));
    yield* out;
  }
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
  // Words found but not yet added (see FreqTable.touch): packed key (or start), length, hash.
  private readonly bA = new Int32Array(BATCH);
  private readonly bB = new Int32Array(BATCH);
  private readonly bC = new Int32Array(BATCH);
  private readonly bLen = new Int32Array(BATCH);
  private readonly bH = new Int32Array(BATCH);
  private touched = 0;

  /** Starts over, keeping the table's memory. */
  reset(): void {
    this.table.clear();
    this.counts.words = 0;
    this.counts.lines = 0;
    this.counts.bytes = 0;
    this.partialLen = 0;
  }

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
      this.table.add(this.partial, 0, this.partialLen, 1);
      this.counts.words++;
      this.partialLen = 0;
    }
    const { bA, bB, bC, bLen, bH } = this;
    let nb = 0;
    let words = 0;
    while (i < n) {
      const c = buf[i]!;
      if (WHITESPACE[c] === 1) {
        if (c === 0x0a) lines++;
        i++;
        continue;
      }
      const start = i;
      // A word: pack its first 12 bytes while looking for its end.
      let a = c;
      let b = 0;
      let cc = 0;
      i++;
      while (i < n) {
        const d = buf[i]!;
        if (WHITESPACE[d] === 1) break;
        const j = i - start;
        if (j < 4) a |= d << (j << 3);
        else if (j < 8) b |= d << ((j - 4) << 3);
        else if (j < INLINE) cc |= d << ((j - 8) << 3);
        i++;
      }
      if (i === n) {
        this.appendPartial(buf, start, n);
        break;
      }
      const len = i - start;
      if (len <= INLINE) {
        bA[nb] = a;
        bB[nb] = b;
        bC[nb] = cc;
        bH[nb] = shortHash(a, b, cc, len);
      } else {
        bA[nb] = start;
        bH[nb] = longHash(buf, start, i);
      }
      bLen[nb] = len;
      if (++nb === BATCH) {
        this.flush(buf, nb);
        nb = 0;
      }
      words++;
    }
    this.flush(buf, nb);
    this.counts.words += words;
    this.counts.lines += lines;
  }

  /** Adds the batched words (their home slots touched first, all at once). */
  private flush(buf: Uint8Array, nb: number): void {
    const { bA, bB, bC, bLen, bH, table } = this;
    this.touched += table.touch(bH, nb);
    for (let k = 0; k < nb; k++) {
      const len = bLen[k]!;
      if (len <= INLINE) table.addShort(bA[k]!, bB[k]!, bC[k]!, len, 1, bH[k]!);
      else table.addLong(buf, bA[k]!, bA[k]! + len, 1, bH[k]!);
    }
  }

  /** Call after the last piece: counts a word that ran to the end. */
  finish(): void {
    if (this.partialLen > 0) {
      this.table.add(this.partial, 0, this.partialLen, 1);
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

/** The wire form of a table: (varint len, bytes, varint count)* — uncompressed. */
export function encodeTable(table: FreqTable): Uint8Array {
  let size = 0;
  table.forEach((_b, start, end, count) => { size += varintSize(end - start) + end - start + varintSize(count); });
  const raw = new Uint8Array(size);
  let at = 0;
  table.forEach((bytes, start, end, count) => {
    at = putVarint(raw, at, end - start);
    for (let j = start; j < end; j++) raw[at++] = bytes[j]!;
    at = putVarint(raw, at, count);
  });
  return raw;
}

/** Walks a table's wire form, calling `each(raw, keyStart, keyEnd, count)`. */
function walkTable(raw: Uint8Array, each: (raw: Uint8Array, start: number, end: number, count: number) => void): void {
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
    if (len === 0 || i + len > raw.length) throw new Error('bad frequency map');
    const start = i;
    i += len;
    each(raw, start, i, varint());
  }
}

/**
 * Adds a table's wire form into `into` (the scheduler's merge: bytes in, no strings). The map
 * is checked whole first, so a damaged one throws before anything of it is merged.
 */
export function mergeTable(into: FreqTable, raw: Uint8Array): void {
  walkTable(raw, () => undefined);
  walkTable(raw, (bytes, start, end, count) => into.add(bytes, start, end, count));
}

/** Decodes a table's wire form, calling `each(key as latin1 string, count)`. */
export function decodeTable(raw: Uint8Array, each: (key: string, count: number) => void): void {
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  walkTable(raw, (_b, start, end, count) => each(buf.toString('latin1', start, end), count));
}

/** One entry of a top-K list: the word as UTF-8 text, and its count. */
export interface TopWord {
  word: string;
  count: number;
}

/** Count descending, then bytes ascending (latin1 keys compare as bytes). */
function byCountThenBytes(a: [string, number], b: [string, number]): number {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/**
 * The K most frequent words of a merged map keyed by latin1 strings (one char per byte, so keys
 * compare as bytes): count descending, then bytes ascending.
 */
export function topK(merged: Map<string, number>, k: number): TopWord[] {
  if (k <= 0) return [];
  const all = [...merged.entries()];
  all.sort(byCountThenBytes);
  return all.slice(0, k).map(([key, count]) => ({ word: Buffer.from(key, 'latin1').toString('utf8'), count }));
}

/**
 * The K most frequent words of a table, ordered as `topK`. Only keys that can make the list
 * (count ≥ the K-th largest count) become strings.
 */
export function topKOfTable(table: FreqTable, k: number): TopWord[] {
  if (k <= 0 || table.size === 0) return [];
  const counts = new Float64Array(table.size);
  let n = 0;
  table.forEach((_b, _s, _e, count) => { counts[n++] = count; });
  counts.sort();
  const threshold = counts[Math.max(0, counts.length - k)]!;
  const candidates: [string, number][] = [];
  table.forEach((bytes, start, end, count) => {
    if (count >= threshold) candidates.push([Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1', start, end), count]);
  });
  candidates.sort(byCountThenBytes);
  return candidates.slice(0, k).map(([key, count]) => ({ word: Buffer.from(key, 'latin1').toString('utf8'), count }));
}

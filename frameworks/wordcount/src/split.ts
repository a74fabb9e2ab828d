/**
 * Splitting the input into byte ranges without copying it: nominal boundaries every
 * size/chunks bytes, each moved forward to the next whitespace byte. Then every chunk but the
 * first starts on a whitespace byte and every word lies inside exactly one chunk, so per-chunk
 * counts add up to the one-piece count — and a boundary that falls inside a multi-byte UTF-8
 * character moves past it too (UTF-8 continuation and lead bytes are never ASCII whitespace).
 */
import { WHITESPACE } from './counter.js';

/** A byte range [start, end) of the input. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Reads up to `len` bytes at `pos` (fewer only at the end of the input). */
export type ReadAt = (pos: number, len: number) => Promise<Uint8Array>;

/** How many chunks: `chunks` wins; else ceil(size / chunkSize); at least 1. */
export function chunkCount(size: number, opts: { chunks?: number; chunkSize?: number }): number {
  if (opts.chunks !== undefined) {
    if (!Number.isInteger(opts.chunks) || opts.chunks < 1) throw new Error(`--chunks must be a whole number ≥ 1 (got ${opts.chunks})`);
    return opts.chunks;
  }
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isFinite(chunkSize) || chunkSize < 1) throw new Error(`--chunk-size must be ≥ 1 byte (got ${chunkSize})`);
  return Math.max(1, Math.ceil(size / chunkSize));
}

/** @default 64 MiB */
export const DEFAULT_CHUNK_SIZE = 64 << 20;

/** Auto chunking never makes chunks smaller than this… */
export const MIN_AUTO_CHUNK = 64 << 20;
/** …nor larger than this: a re-run after a failure repeats at most this much. */
export const MAX_AUTO_CHUNK = 1 << 30;

/**
 * How many chunks when the user names neither a count nor a size: one per task slot the
 * cluster offers (so every chunk starts in the first wave of launches), within chunk sizes of
 * 64 MiB to 1 GiB. Why not many small chunks: a count task reads a page-cached 64 MiB in
 * ≈20 ms, while each later wave of launches costs a round of status update → offer → launch
 * (≈150–200 ms here); more chunks than slots makes the job wait on the cluster, not on counting.
 */
export function autoChunkCount(size: number, slots: number): number {
  const fewest = Math.max(1, Math.ceil(size / MAX_AUTO_CHUNK));
  const most = Math.max(1, Math.ceil(size / MIN_AUTO_CHUNK));
  return Math.min(most, Math.max(fewest, Math.floor(slots)));
}

/** Nominal (unadjusted) boundaries: n+1 offsets from 0 to size. */
export function nominalBoundaries(size: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i <= n; i++) out.push(Math.floor((size * i) / n));
  return out;
}

/**
 * Moves each inner boundary forward to the next whitespace byte (or the end), keeping them
 * monotone; a boundary already passed by the previous one's scan is not scanned again, so a
 * single huge word costs one pass over it, not one per boundary. Empty chunks are dropped (one
 * empty chunk stays for an empty input).
 */
export async function splitRanges(size: number, n: number, readAt: ReadAt, window = 64 << 10): Promise<ByteRange[]> {
  const nominal = nominalBoundaries(size, n);
  const bounds: number[] = [0];
  let last = 0;
  for (let i = 1; i < n; i++) {
    let b = nominal[i]!;
    if (b <= last) continue;
    b = await nextWhitespace(b, size, readAt, window);
    if (b > last && b < size) bounds.push(b);
    last = Math.max(last, b);
  }
  bounds.push(size);
  const ranges: ByteRange[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) if (bounds[i + 1]! > bounds[i]!) ranges.push({ start: bounds[i]!, end: bounds[i + 1]! });
  return ranges.length > 0 ? ranges : [{ start: 0, end: size }];
}

async function nextWhitespace(from: number, size: number, readAt: ReadAt, window: number): Promise<number> {
  let pos = from;
  while (pos < size) {
    const bytes = await readAt(pos, Math.min(window, size - pos));
    if (bytes.length === 0) return size;
    for (let j = 0; j < bytes.length; j++) if (WHITESPACE[bytes[j]!] === 1) return pos + j;
    pos += bytes.length;
    window = Math.min(window * 2, 8 << 20);
  }
  return size;
}

/** Parses a size such as `64MiB`, `1GiB`, `512k`, `1000` (bytes). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$/i.exec(text);
  if (!m) throw new Error(`'${text}' is not a size (e.g. 64MiB, 1GiB, 500000)`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const n = Math.floor(Number(m[1]) * unit);
  if (n < 1) throw new Error(`'${text}' is less than one byte`);
  return n;
}

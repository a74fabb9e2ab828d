/**
 * Exact word, line and byte counts over a stream of byte pieces.
 *
 * Word = maximal run of non-whitespace bytes; whitespace = ASCII space, \t, \n, \v, \f, \r
 * (Python's `bytes.split()`, `wc -w` on ordinary text). UTF-8 multi-byte sequences never
 * contain these bytes, so the count is the same whatever the encoding of the rest.
 *
 * The only state between pieces is one bit: was the last byte non-whitespace? So any split of
 * the input into pieces gives the same counts as one piece (property-tested).
 */
import { createWasmKernel, wasmSimdAvailable, type WasmKernel } from './kernel-wasm.js';

/** 1 for the six whitespace bytes, 0 otherwise. */
export const WHITESPACE = (() => {
  const t = new Uint8Array(256);
  for (const b of [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]) t[b] = 1;
  return t;
})();

export function isWhitespace(byte: number): boolean {
  return WHITESPACE[byte] === 1;
}

/** Counts of a piece of text. */
export interface Counts {
  words: number;
  lines: number;
  bytes: number;
}

/** The scalar loop (tails, and the fallback when WebAssembly SIMD is missing). Returns the new carry. */
function countScalar(buf: Uint8Array, from: number, to: number, carry: number, acc: Counts): number {
  let words = 0;
  let lines = 0;
  let inWord = carry;
  for (let i = from; i < to; i++) {
    const b = buf[i]!;
    if (WHITESPACE[b] === 1) {
      inWord = 0;
      if (b === 0x0a) lines++;
    } else if (inWord === 0) {
      inWord = 1;
      words++;
    }
  }
  acc.words += words;
  acc.lines += lines;
  acc.bytes += to - from;
  return inWord;
}

export type KernelKind = 'wasm-simd' | 'js';

/**
 * A streaming counter. Either hand it pieces (`update(bytes)`, copied into the kernel's memory
 * when SIMD is used), or read straight into `buffer()` and call `updateInPlace(from, len)` —
 * the zero-copy path the file reader uses.
 */
export class WordCounter {
  readonly counts: Counts = { words: 0, lines: 0, bytes: 0 };
  readonly kind: KernelKind;
  private carry = 0;
  private readonly kernel: WasmKernel | undefined;
  private readonly own: Uint8Array;

  /** `capacity`: bytes of the in-place buffer. `kind` forces a kernel (tests compare both). */
  constructor(capacity = 8 << 20, kind?: KernelKind) {
    const useWasm = kind ? kind === 'wasm-simd' : wasmSimdAvailable();
    this.kind = useWasm ? 'wasm-simd' : 'js';
    this.kernel = useWasm ? createWasmKernel(capacity) : undefined;
    this.own = this.kernel ? this.kernel.view : new Uint8Array(capacity);
  }

  /** The reusable buffer to read into (inside WebAssembly memory for the SIMD kernel). */
  buffer(): Uint8Array {
    return this.own;
  }

  /** Counts buffer()[from, from + len). */
  updateInPlace(from: number, len: number): void {
    if (!this.kernel) {
      this.carry = countScalar(this.own, from, from + len, this.carry, this.counts);
      return;
    }
    const bulk = len & ~63;
    if (bulk > 0) {
      const [w, l, c] = this.kernel.count(from, bulk, this.carry);
      this.counts.words += w;
      this.counts.lines += l;
      this.counts.bytes += bulk;
      this.carry = c;
    }
    if (bulk < len) this.carry = countScalar(this.own, from + bulk, from + len, this.carry, this.counts);
  }

  /**
   * Starts a new count, keeping the buffer: an executor reuses one counter for every task, so
   * the buffer's pages are faulted in once per process, not once per chunk (on this VM the
   * first touch of 16 MiB costs more than counting 64 MiB).
   */
  reset(): void {
    this.counts.words = 0;
    this.counts.lines = 0;
    this.counts.bytes = 0;
    this.carry = 0;
  }

  /** Counts a piece given from outside (an HTTP body chunk). */
  update(piece: Uint8Array): void {
    for (let off = 0; off < piece.length; off += this.own.length) {
      const part = piece.subarray(off, Math.min(piece.length, off + this.own.length));
      this.own.set(part, 0);
      this.updateInPlace(0, part.length);
    }
  }
}

/** One-shot count of a byte string (tests, small inputs). */
export function countBytes(bytes: Uint8Array, kind?: KernelKind): Counts {
  const c = new WordCounter(Math.max(64, Math.min(bytes.length, 8 << 20)), kind);
  c.update(bytes);
  return { ...c.counts };
}

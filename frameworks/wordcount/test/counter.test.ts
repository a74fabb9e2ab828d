// Unit tests of the counter, the frequency scanner and the splitter: any split of any byte
// string gives the same counts as a one-piece count, and both kernels agree with a reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WordCounter, countBytes } from '../src/counter.js';
import { wasmSimdAvailable } from '../src/kernel-wasm.js';
import { FreqScanner, decodeTable, encodeTable, topK } from '../src/freq.js';
import { parseSize, splitRanges } from '../src/split.js';

/** Reference: Python's bytes.split() semantics, byte by byte. */
function reference(bytes: Uint8Array): { words: number; lines: number; freq: Map<string, number> } {
  const ws = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);
  const freq = new Map<string, number>();
  let words = 0;
  let lines = 0;
  let start = -1;
  for (let i = 0; i <= bytes.length; i++) {
    const isWs = i === bytes.length || ws.has(bytes[i]!);
    if (i < bytes.length && bytes[i] === 0x0a) lines++;
    if (isWs && start >= 0) {
      words++;
      const k = Buffer.from(bytes.subarray(start, i)).toString('latin1');
      freq.set(k, (freq.get(k) ?? 0) + 1);
      start = -1;
    } else if (!isWs && start < 0) start = i;
  }
  return { words, lines, freq };
}

// Bytes biased towards whitespace, ASCII letters and UTF-8 lead/continuation bytes.
const byteArb = fc.oneof(fc.constantFrom(0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d), fc.integer({ min: 0x61, max: 0x63 }), fc.integer({ min: 0x80, max: 0xff }), fc.integer({ min: 0, max: 255 }));
const textArb = fc.array(byteArb, { maxLength: 700 }).map((a) => Uint8Array.from(a));

test('WebAssembly SIMD is available here (the fast kernel)', () => {
  assert.equal(wasmSimdAvailable(), true);
});

test('both kernels equal the reference on any bytes', () => {
  fc.assert(fc.property(textArb, (bytes) => {
    const ref = reference(bytes);
    for (const kind of ['wasm-simd', 'js'] as const) {
      const c = countBytes(bytes, kind);
      assert.deepEqual(c, { words: ref.words, lines: ref.lines, bytes: bytes.length }, kind);
    }
  }), { numRuns: 300 });
});

test('any split into pieces gives the one-piece counts and frequencies', () => {
  fc.assert(fc.property(textArb, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const edges = [0, ...points, bytes.length];
    const counter = new WordCounter(128, 'wasm-simd');
    const scanner = new FreqScanner();
    for (let i = 0; i + 1 < edges.length; i++) {
      counter.update(bytes.subarray(edges[i], edges[i + 1]));
      scanner.update(bytes.subarray(edges[i], edges[i + 1]));
    }
    scanner.finish();
    const ref = reference(bytes);
    assert.deepEqual(counter.counts, { words: ref.words, lines: ref.lines, bytes: bytes.length });
    assert.deepEqual(scanner.counts, counter.counts);
    const got = new Map<string, number>();
    decodeTable(encodeTable(scanner.table), (k, n) => got.set(k, n));
    assert.deepEqual(got, ref.freq);
  }), { numRuns: 300 });
});

test('split ranges tile the input, start on whitespace, and their counts add up', async () => {
  await fc.assert(fc.asyncProperty(textArb, fc.integer({ min: 1, max: 70 }), async (bytes, n) => {
    const readAt = async (pos: number, len: number) => bytes.subarray(pos, pos + len);
    const ranges = await splitRanges(bytes.length, n, readAt, 3);
    assert.ok(ranges.length >= 1 && ranges.length <= n);
    let at = 0;
    let words = 0;
    for (const r of ranges) {
      assert.equal(r.start, at);
      if (r.start > 0) assert.ok([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d].includes(bytes[r.start]!), 'starts on whitespace');
      words += countBytes(bytes.subarray(r.start, r.end)).words;
      at = r.end;
    }
    assert.equal(at, bytes.length);
    assert.equal(words, reference(bytes).words);
  }), { numRuns: 300 });
});

test('large buffers: SIMD and JS kernels agree on 20 MB of mixed text', () => {
  const unit = Buffer.from('héllo  wörld\tfoo\r\nbar\v\fbaz 中文 字\n');
  const big = Buffer.alloc(20_000_003);
  for (let o = 0; o < big.length; o += unit.length) unit.copy(big, o);
  assert.deepEqual(countBytes(big, 'wasm-simd'), countBytes(big, 'js'));
});

test('topK orders by count, then bytes; keys come back as UTF-8', () => {
  const m = new Map([[Buffer.from('b').toString('latin1'), 2], [Buffer.from('中').toString('latin1'), 3], [Buffer.from('a').toString('latin1'), 2]]);
  assert.deepEqual(topK(m, 2), [{ word: '中', count: 3 }, { word: 'a', count: 2 }]);
});

test('parseSize', () => {
  assert.equal(parseSize('64MiB'), 64 << 20);
  assert.equal(parseSize('512k'), 512 << 10);
  assert.equal(parseSize('1000'), 1000);
  assert.throws(() => parseSize('lots'), /not a size/);
});

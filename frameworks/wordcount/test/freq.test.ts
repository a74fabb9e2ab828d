// Unit tests of the frequency table behind --top: the scheduler's byte-keyed merge and top K
// equal a plain Map count, counts never overflow, and a reused scanner forgets the last chunk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FreqScanner, FreqTable, decodeTable, encodeTable, mergeTable, topK, topKOfTable } from '../src/freq.js';

/** Words of 1–20 bytes (inline and arena keys), ASCII and UTF-8, separated by whitespace. */
const wordArb = fc.oneof(
  fc.constantFrom('a', 'the', 'The', 'über', '中文', 'naïve', 'résumé', 'abcdefgh', 'abcdefghi', 'x'.repeat(20)),
  fc.stringMatching(/^[a-e]{1,12}$/),
);
const chunkArb = fc.array(wordArb, { maxLength: 200 }).map((ws) => Buffer.from(ws.join(' ')));

function scan(bytes: Uint8Array, scanner = new FreqScanner()): FreqScanner {
  scanner.update(bytes);
  scanner.finish();
  return scanner;
}

test('merging chunk maps gives the counts and the top K of one Map over all chunks', () => {
  fc.assert(fc.property(fc.array(chunkArb, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 15 }), (chunks, k) => {
    const expected = new Map<string, number>();
    const merged = new FreqTable(4);
    for (const chunk of chunks) {
      for (const w of chunk.toString('latin1').split(' ')) if (w) expected.set(w, (expected.get(w) ?? 0) + 1);
      mergeTable(merged, encodeTable(scan(chunk).table));
    }
    const got = new Map<string, number>();
    decodeTable(encodeTable(merged), (key, n) => got.set(key, n));
    assert.deepEqual(got, expected);
    assert.equal(merged.size, expected.size);
    assert.deepEqual(topKOfTable(merged, k), topK(expected, k));
  }), { numRuns: 200 });
});

test('a table grows past many distinct keys, short and long, and keeps every count', () => {
  const t = new FreqTable(2);
  const want = new Map<string, number>();
  for (let i = 0; i < 50_000; i++) {
    const key = Buffer.from(i % 3 === 0 ? `long-key-number-${i}` : `k${i % 20_000}`);
    t.add(key, 0, key.length, 1 + (i % 5));
    want.set(key.toString('latin1'), (want.get(key.toString('latin1')) ?? 0) + 1 + (i % 5));
  }
  const got = new Map<string, number>();
  t.forEach((b, s, e, n) => got.set(Buffer.from(b.subarray(s, e)).toString('latin1'), n));
  assert.deepEqual(got, want);
});

test('counts past 2^31 stay exact (merged maps of huge inputs)', () => {
  const t = new FreqTable(4);
  const the = Buffer.from('the');
  const long = Buffer.from('extraordinarily');
  for (let i = 0; i < 5; i++) {
    t.add(the, 0, the.length, 2 ** 31 - 1);
    t.add(long, 0, long.length, 2 ** 31 + 7);
  }
  for (let i = 0; i < 100; i++) t.add(Buffer.from(`w${i}`), 0, `w${i}`.length, 1); // grow with big counts inside
  const top = topKOfTable(t, 2);
  assert.deepEqual(top, [{ word: 'extraordinarily', count: 5 * (2 ** 31 + 7) }, { word: 'the', count: 5 * (2 ** 31 - 1) }]);
  const back = new FreqTable();
  mergeTable(back, encodeTable(t));
  assert.deepEqual(topKOfTable(back, 2), top);
});

test('a reset scanner counts the next chunk alone', () => {
  const s = scan(Buffer.from('a b c a über-long-word-here'));
  s.reset();
  scan(Buffer.from('b b'), s);
  const got = new Map<string, number>();
  decodeTable(encodeTable(s.table), (k, n) => got.set(k, n));
  assert.deepEqual(got, new Map([['b', 2]]));
  assert.deepEqual(s.counts, { words: 2, lines: 0, bytes: 3 });
});

test('a damaged map is refused before anything of it is merged', () => {
  const t = new FreqTable();
  const raw = encodeTable(scan(Buffer.from('one two three')).table);
  assert.throws(() => mergeTable(t, raw.subarray(0, raw.length - 3)), /frequency map/);
  assert.equal(t.size, 0);
});

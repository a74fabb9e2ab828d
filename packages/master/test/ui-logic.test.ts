// The web UI's pure parts (packages/master/ui/src): utilisation plot columns, the file tail's
// offsets, word count progress from tasks, and formatting. The pages themselves are driven in a
// real browser by test/ui.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Task, UtilizationSample } from '../ui/src/api-types.js';
import { addSample, plotColumns } from '../ui/src/utilization.js';
import { EMPTY_TAIL, applyChunk, nextRead } from '../ui/src/tail.js';
import { chunkOf, wordcountProgress } from '../ui/src/wordcount-progress.js';
import { formatBytes, formatMem, toMillis } from '../ui/src/format.js';

const sample = (t: number, cpus: number, byRole: Record<string, number> = {}): UtilizationSample => ({
  t,
  total: { cpus: 4, mem: 4096, disk: 0 },
  allocated: { cpus, mem: cpus * 100, disk: 0 },
  byRole: Object.fromEntries(Object.entries(byRole).map(([r, c]) => [r, { cpus: c, mem: c * 100, disk: 0 }])),
});

test('utilisation samples stay in time order, replace a repeated time, and keep a window', () => {
  let s: UtilizationSample[] = [];
  s = addSample(s, sample(2000, 1));
  s = addSample(s, sample(6000, 3));
  s = addSample(s, sample(4000, 2)); // late
  s = addSample(s, sample(6000, 3.5)); // same time again: replaces
  assert.deepEqual(s.map((x) => [x.t, x.allocated.cpus]), [[2000, 1], [4000, 2], [6000, 3.5]]);
  s = addSample(s, sample(20_000, 1), 10_000);
  assert.deepEqual(s.map((x) => x.t), [20_000], 'older than the window dropped');
});

test('plot columns: total, allocated, then one line per role with gaps where it had nothing', () => {
  const cols = plotColumns([sample(1000, 1, { web: 1 }), sample(3000, 2, { batch: 2 })], 'cpus');
  assert.deepEqual(cols.x, [1, 3]);
  assert.deepEqual(cols.series.map((s) => s.label), ['total', 'allocated', 'role batch', 'role web']);
  assert.deepEqual(cols.series.map((s) => s.values), [[4, 4], [1, 2], [null, 2], [1, null]]);
  assert.deepEqual(plotColumns([sample(1000, 1)], 'mem').series[1]!.values, [100]);
});

test('the tail reads the end first, then from where it stopped, and restarts on a shrunk file', () => {
  assert.deepEqual(nextRead(EMPTY_TAIL, 100), { offset: -1, length: 100 });
  let t = applyChunk(EMPTY_TAIL, { data: 'line 9\n', offset: 70, length: 7, eof: true, size: 77 });
  assert.equal(t.text, 'line 9\n');
  assert.equal(t.truncated, true);
  assert.deepEqual(nextRead(t, 100), { offset: 77, length: 100 });
  t = applyChunk(t, { data: 'line 10\n', offset: 77, length: 8, eof: true, size: 85 });
  assert.equal(t.text, 'line 9\nline 10\n');
  assert.equal(t.next, 85);
  t = applyChunk(t, { data: '', offset: 85, length: 0, eof: true, size: 85 });
  assert.equal(t.next, 85, 'nothing new: same offset');
  assert.equal(applyChunk(t, { data: '', offset: 85, length: 0, eof: true, size: 3 }).next, undefined, 'truncated file: read its tail again');
  const small = applyChunk(EMPTY_TAIL, { data: 'abcdef', offset: 0, length: 6, eof: true, size: 6 }, 4);
  assert.equal(small.text, 'cdef');
  assert.equal(small.truncated, true);
});

const task = (id: string, state: string, labels?: Record<string, string>, updatedAt = 1): Task => ({
  id, name: id.startsWith('wordcount.') ? `wordcount chunk ${id.split('.')[1]}` : id, frameworkId: 'f', agentId: 'a', state, statuses: [], resources: {}, labels, updatedAt,
});

test('word count progress from labelled tasks: chunks and bytes, a re-run chunk counted once', () => {
  const l = (chunk: number): Record<string, string> => ({ 'wordcount.chunk': String(chunk), 'wordcount.chunks': '4', 'wordcount.bytes': String(100 + chunk), 'wordcount.size': '406' });
  const p = wordcountProgress([
    task('wordcount.0.1.aa', 'TASK_FINISHED', l(0)),
    task('wordcount.1.1.bb', 'TASK_FAILED', l(1), 1),
    task('wordcount.1.2.cc', 'TASK_FINISHED', l(1), 2),
    task('wordcount.2.1.dd', 'TASK_RUNNING', l(2)),
    task('other', 'TASK_RUNNING'),
  ]);
  assert.deepEqual(p, { chunksDone: 2, chunksRunning: 1, chunksFailed: 0, chunksTotal: 4, exact: true, bytesDone: 201, bytesTotal: 406, tasks: 4 });
});

test('word count progress from names only: totals are a lower bound, failed chunks awaiting a re-run show', () => {
  const p = wordcountProgress([task('wordcount.0.1.aa', 'TASK_FINISHED'), task('wordcount.3.1.bb', 'TASK_LOST')]);
  assert.equal(p.chunksTotal, 4);
  assert.equal(p.exact, false);
  assert.equal(p.chunksFailed, 1);
  assert.equal(p.bytesDone, undefined);
  assert.equal(chunkOf({ id: 'x', name: 'wordcount chunk 12' }), 12);
  assert.equal(chunkOf({ id: 'web.1', name: 'web' }), undefined);
});

test('formatting: sizes, memory, and timestamps in seconds or milliseconds', () => {
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatMem(2048), '2 GiB');
  assert.equal(formatMem(64), '64 MiB');
  assert.equal(toMillis(1_700_000_000), 1_700_000_000_000);
  assert.equal(toMillis(1_700_000_000_123), 1_700_000_000_123);
  assert.equal(toMillis('2026-01-01T00:00:00Z'), Date.parse('2026-01-01T00:00:00Z'));
  assert.equal(toMillis(undefined), undefined);
});

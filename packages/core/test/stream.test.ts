import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { BatchWriter } from '@agora/core';
import { approxBytes } from '../src/stream.js';

/** A transport that accepts `room` frames before it reports itself full. */
class FakeStream extends EventEmitter {
  frames: number[][] = [];
  constructor(private room = Infinity) { super(); }
  write(chunk: { items: number[] }): boolean {
    this.frames.push(chunk.items);
    return this.frames.length < this.room;
  }
}

const tick = () => new Promise((r) => setImmediate(r));

test('messages sent in one turn leave as one frame', async () => {
  const s = new FakeStream();
  const w = new BatchWriter<number, { items: number[] }>(s, (items) => ({ items }));
  for (let i = 0; i < 5; i++) w.send(i);
  await tick();
  assert.deepEqual(s.frames, [[0, 1, 2, 3, 4]]);
});

test('a full transport holds messages until drain, then sends them together', async () => {
  const s = new FakeStream(1);
  const w = new BatchWriter<number, { items: number[] }>(s, (items) => ({ items }));
  w.send(1);
  await tick();
  w.send(2); w.send(3);
  await tick();
  assert.deepEqual(s.frames, [[1]]);
  assert.equal(w.backlog, 2);
  s.emit('drain');
  await tick();
  assert.deepEqual(s.frames, [[1], [2, 3]]);
});

test('frames close before maxBatchBytes when sizes are known; a lone oversized message still goes', async () => {
  const s = new FakeStream();
  const w = new BatchWriter<number, { items: number[] }>(s, (items) => ({ items }), { sizeOf: (n) => n, maxBatchBytes: 10 });
  for (const n of [4, 4, 4, 20, 1]) w.send(n);
  await tick();
  assert.deepEqual(s.frames, [[4, 4], [4], [20], [1]]);
});

test('maxBatch bounds the count per frame', async () => {
  const s = new FakeStream();
  const w = new BatchWriter<number, { items: number[] }>(s, (items) => ({ items }), { maxBatch: 2 });
  for (let i = 0; i < 5; i++) w.send(i);
  await tick();
  assert.deepEqual(s.frames, [[0, 1], [2, 3], [4]]);
});

test('by default, bulky data fields close frames early so no frame nears the gRPC limit', async () => {
  const s = new FakeStream();
  const w = new BatchWriter<object, { items: number[] }>(s, (items) => ({ items: items.map(() => 0) }));
  const big = () => ({ type: 6, update: { status: { data: new Uint8Array(5 << 20) } } });
  w.send(big()); w.send(big()); w.send({ type: 10 });
  await tick();
  assert.deepEqual(s.frames.map((f) => f.length), [1, 2]);
  assert.ok(approxBytes(big()) > 5 << 20);
  assert.ok(approxBytes({ type: 10 }) < 1024);
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../src/backoff.js';
import { EventChannel } from '../src/event-channel.js';

describe('Backoff', () => {
  it('doubles from min to max, with jitter between half and the full delay', () => {
    const top = new Backoff(100, 1000, () => 0.999999);
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => top.next()), [100, 200, 400, 800, 1000, 1000]);
    const bottom = new Backoff(100, 1000, () => 0);
    assert.deepEqual([1, 2, 3].map(() => bottom.next()), [50, 100, 200]);
    bottom.reset();
    assert.equal(bottom.next(), 50);
  });
});

describe('EventChannel', () => {
  it('gives each iterator every event from its creation on, and ends them on close', async () => {
    const ch = new EventChannel<number>();
    ch.push(0);
    const a = ch.iterator();
    ch.push(1);
    const b = ch.iterator();
    ch.push(2);
    const pending = a.next();
    ch.close();
    assert.deepEqual(await pending, { value: 1, done: false });
    assert.deepEqual(await a.next(), { value: 2, done: false });
    assert.equal((await a.next()).done, true);
    assert.deepEqual(await b.next(), { value: 2, done: false });
    assert.equal((await b.next()).done, true);
    assert.equal((await ch.iterator().next()).done, true, 'iterators made after close end at once');
  });

  it('lets a consumer leave early with break', async () => {
    const ch = new EventChannel<number>();
    const it = ch.iterator();
    ch.push(1);
    ch.push(2);
    for await (const v of it) { assert.equal(v, 1); break; }
    ch.push(3);
    assert.equal((await it.next()).done, true);
  });
});

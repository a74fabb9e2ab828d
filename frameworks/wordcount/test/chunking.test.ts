import assert from 'node:assert/strict';
import { test } from 'node:test';
import { autoChunkCount } from '../src/split.js';
import { taskCpus } from '../src/scheduler.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

test('auto chunking: one chunk per task slot, within 64 MiB to 1 GiB per chunk', () => {
  assert.equal(autoChunkCount(GiB, 2), 2, '1 GiB on two slots: two chunks, one wave');
  assert.equal(autoChunkCount(GiB, 64), 16, 'never below 64 MiB a chunk');
  assert.equal(autoChunkCount(10 * GiB, 2), 10, 'never above 1 GiB a chunk');
  assert.equal(autoChunkCount(100 * MiB, 8), 2);
  assert.equal(autoChunkCount(0, 4), 1, 'an empty input is one chunk');
  assert.equal(autoChunkCount(GiB, 0), 1, 'no slot seen: as few chunks as the 1 GiB cap allows');
});

test('a count task takes its cpus, or what an offer has left when that is at least half', () => {
  assert.equal(taskCpus(2, 1), 1);
  assert.equal(taskCpus(0.9, 1), 0.9, 'an agent with 1.9 free cpus runs a second task at 0.9');
  assert.equal(taskCpus(0.5, 1), 0.5);
  assert.equal(taskCpus(0.4, 1), 0, 'less than half a task is left for others');
  assert.equal(taskCpus(0.3, 0.25), 0.25);
});

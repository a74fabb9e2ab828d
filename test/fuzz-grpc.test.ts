// Security acceptance: property-based fuzzing of every gRPC service (random messages built from
// the protos, mutated valid messages, random bytes), bounded here and longer in
// `npm run bench:fuzz`. Nothing crashes or hangs, a rejected request changes nothing, and the
// Files service never serves a byte from outside a sandbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzRuns } from './helpers/fuzz.js';
import { runGrpcFuzz } from './helpers/fuzz-grpc.js';

test('every gRPC method survives random, mutated and garbage requests', { timeout: 240_000 }, async (t) => {
  const tally = await runGrpcFuzz({ runs: fuzzRuns(40), log: (line) => t.diagnostic(line) });
  // Every service and method was reached: 12 operator methods, 3 streams, 2 file methods.
  assert.ok(tally.counts.size >= 17, `methods fuzzed: ${[...tally.counts.keys()].join(', ')}`);
  t.diagnostic(`fuzz total: ${tally.total()} gRPC cases`);
});

// Security acceptance: property-based fuzzing of the bundled frameworks' REST APIs with mutated
// JSON, bounded here and longer in `npm run bench:fuzz`: never a 5xx or a hang, always an error
// message, and a rejected request changes no app or job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzRuns } from './helpers/fuzz.js';
import { runRestFuzz } from './helpers/fuzz-rest.js';

test('the long-running and cron REST APIs survive mutated JSON', { timeout: 240_000 }, async (t) => {
  const tally = await runRestFuzz({ runs: fuzzRuns(40), log: (line) => t.diagnostic(line) });
  assert.ok(tally.counts.size >= 9, `routes fuzzed: ${[...tally.counts.keys()].join(', ')}`);
  t.diagnostic(`fuzz total: ${tally.total()} REST cases`);
});

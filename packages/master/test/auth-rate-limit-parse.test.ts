// Rate limits: the file format (Mesos --rate_limits) and the token bucket's arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, TokenBucket, parseRateLimits } from '../src/auth/rate-limit.js';

test('rate limit files: listed principals, unlimited ones, the aggregate default, and errors', () => {
  const limits = parseRateLimits(JSON.stringify({ limits: [{ principal: 'web', qps: 10 }, { principal: 'ops' }], aggregate_default_qps: 2 }));
  const now = 0;
  const limiter = new RateLimiter(limits, () => now);
  assert.equal(limiter.bucketOf('web')?.qps, 10);
  assert.equal(limiter.bucketOf('ops'), null, 'listed without qps: unlimited');
  assert.equal(limiter.bucketOf('someone'), limiter.bucketOf(''), 'unlisted principals and anonymous share the aggregate');
  assert.match(limiter.describe('someone'), /aggregate default .* limited to 2 calls\/s/);
  assert.throws(() => parseRateLimits('{"limits": [{"principal": "web", "qps": 0}]}'), /limits\[0\]\.qps must be a number > 0/);
  assert.throws(() => parseRateLimits('{"limits": [{"principal": "a"}, {"principal": "a"}]}'), /listed twice/);
  assert.throws(() => parseRateLimits('{"limit": []}'), /unknown field 'limit'/);
});

test('token bucket: a burst of `capacity`, then `qps` a second; debt turns into a wait', () => {
  let now = 0;
  const b = new TokenBucket(10, 5, () => now);
  for (let i = 0; i < 5; i++) assert.equal(b.tryTake(), true);
  assert.equal(b.tryTake(), false, 'the burst is spent');
  now += 100; // one token back
  assert.equal(b.tryTake(), true);
  assert.equal(b.tryTake(), false);
  now += 1_000; // full again (capped at capacity)
  assert.equal(b.takeOrWait(5), 0);
  assert.equal(b.takeOrWait(10), 1_000, 'ten more calls at 10/s: wait a second');
});

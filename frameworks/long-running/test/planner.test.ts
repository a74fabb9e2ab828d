import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, launchDelaySeconds, type PlanApp, type PlanInstance } from '../src/planner.js';

const app = (instances: number, min = 1, over = 1, checks = true): PlanApp => ({
  configVersion: 'v2',
  spec: {
    instances, killSelection: 'YOUNGEST_FIRST', readinessChecks: [],
    upgradeStrategy: { minimumHealthCapacity: min, maximumOverCapacity: over },
    healthChecks: checks ? [{ protocol: 'HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 1, intervalSeconds: 1, timeoutSeconds: 1, maxConsecutiveFailures: 3 }] : [],
  },
});
let seq = 0;
const inst = (configVersion: string, extra: Partial<PlanInstance> = {}): PlanInstance => ({
  taskId: `t${seq++}`, configVersion, state: 'running', launchedAt: seq, healthy: true, everHealthy: true, ...extra,
});

test('a new app launches every instance', () => {
  const p = plan(app(5), []);
  assert.equal(p.launch, 5);
  assert.equal(p.kill.length, 0);
  assert.equal(p.done, false);
  assert.match(p.waitingFor, /0 of 5/);
});

test('done when the count, version and health are right', () => {
  const p = plan(app(2), [inst('v2'), inst('v2')]);
  assert.equal(p.done, true);
  assert.equal(p.waitingFor, '');
});

test('scaling down kills the youngest first', () => {
  const a = inst('v2'); const b = inst('v2'); const c = inst('v2');
  const p = plan(app(1), [a, b, c]);
  assert.deepEqual(p.kill.map((k) => k.taskId).sort(), [b.taskId, c.taskId].sort());
});

test('rolling upgrade with minimumHealthCapacity 0.5, no over-capacity: kill 2 old first, then launch', () => {
  const old = [1, 2, 3, 4, 5].map(() => inst('v1'));
  const p = plan(app(5, 0.5, 0), old);
  assert.equal(p.kill.length, 2); // 5 healthy, keep ≥ 3
  assert.equal(p.launch, 2);      // back to 5 in all
});

test('minimumHealthCapacity 1 with over-capacity: launch first, kill nothing healthy', () => {
  const old = [1, 2, 3, 4].map(() => inst('v1'));
  const p = plan(app(4, 1, 0.25), old);
  assert.equal(p.kill.length, 0);
  assert.equal(p.launch, 1);
  // The new one is healthy: one old can go, one more new may start.
  const p2 = plan(app(4, 1, 0.25), [...old, inst('v2')]);
  assert.equal(p2.kill.length, 1);
  assert.equal(p2.launch, 1);
});

test('a new version that never gets healthy keeps the old ones', () => {
  const old = [1, 2, 3, 4].map(() => inst('v1'));
  const fresh = [1, 2].map(() => inst('v2', { healthy: false, everHealthy: false }));
  const p = plan(app(4, 0.5, 0), [...old.slice(0, 2), ...fresh]);
  assert.equal(p.kill.filter((k) => k.reason.includes('new version')).length, 0, 'healthy old ones stay while new are unhealthy');
  assert.equal(p.done, false);
});

test('circuit breaker: a health outage kills at most the allowed number at once', () => {
  const all = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(() => inst('v2', { healthy: false, failing: true }));
  const p = plan(app(10, 0.8, 0), all);
  assert.equal(p.kill.length, 2, 'budget: 10 - ceil(10 × 0.8)');
  assert.equal(p.breakerOpen, true);
  assert.match(p.waitingFor, /circuit breaker/);
  // With those two being killed, nothing more is killed.
  const killing = all.map((i, k) => (k < 2 ? { ...i, killReason: 'health checks failed' } : i));
  assert.equal(plan(app(10, 0.8, 0), killing).kill.length, 0);
});

test('a failing instance is replaced when the budget allows', () => {
  const p = plan(app(3), [inst('v2'), inst('v2'), inst('v2', { healthy: false, failing: true })]);
  assert.equal(p.kill.length, 1);
  assert.equal(p.launch, 1, 'the replacement starts at once (over-capacity allows it)');
});

test('backoff grows by the factor up to the max', () => {
  const s = { backoffSeconds: 1, backoffFactor: 2, maxLaunchDelaySeconds: 5 };
  assert.deepEqual([0, 1, 2, 3, 4].map((f) => launchDelaySeconds(s, f)), [0, 1, 2, 4, 5]);
});

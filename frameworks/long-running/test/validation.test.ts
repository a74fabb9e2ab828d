import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateApp, capacityBounds, configKey } from '../src/app.js';

test('a minimal app gets Marathon defaults', () => {
  const v = validateApp({ id: 'shop/web', cmd: 'sleep 1' });
  assert.ok(v.ok);
  assert.equal(v.value.id, '/shop/web');
  assert.equal(v.value.cpus, 1);
  assert.equal(v.value.mem, 128);
  assert.equal(v.value.instances, 1);
  assert.deepEqual(v.value.upgradeStrategy, { minimumHealthCapacity: 1, maximumOverCapacity: 1 });
  assert.equal(v.value.killSelection, 'YOUNGEST_FIRST');
  assert.equal(v.value.role, '*');
});

test('every problem is named, with its field', () => {
  const v = validateApp({
    id: '/Bad_ID', cpus: -1, mem: 'x', instances: 1.5, bogus: 1,
    constraints: [['hostname', 'NEAR'], ['rack', 'MAX_PER'], ['x', 'LIKE', '(']],
    healthChecks: [{ protocol: 'HTTP', portIndex: 0 }, { protocol: 'COMMAND' }],
    upgradeStrategy: { minimumHealthCapacity: 2 }, killSelection: 'RANDOM', role: 'web',
  });
  assert.ok(!v.ok);
  const paths = v.errors.map((e) => e.path);
  for (const p of ['/id', '/cmd', '/cpus', '/mem', '/instances', '/bogus', '/constraints/0/1', '/constraints/1/2', '/constraints/2/2',
    '/healthChecks/0/portIndex', '/healthChecks/1/command', '/upgradeStrategy/minimumHealthCapacity', '/killSelection', '/role']) {
    assert.ok(paths.includes(p), `missing ${p} in ${JSON.stringify(paths)}`);
  }
});

test('cmd and args are exclusive; args must be strings', () => {
  assert.ok(!validateApp({ id: '/a', cmd: 'x', args: ['y'] }).ok);
  assert.ok(!validateApp({ id: '/a', args: [1] }).ok);
  assert.ok(validateApp({ id: '/a', args: ['sleep', '1'] }).ok);
});

test('roles are checked against the framework roles', () => {
  assert.ok(validateApp({ id: '/a', cmd: 'x', role: 'web' }, { roles: ['*', 'web'] }).ok);
});

test('capacity bounds', () => {
  const s = (n: number, min: number, over: number) => capacityBounds({ instances: n, upgradeStrategy: { minimumHealthCapacity: min, maximumOverCapacity: over } });
  assert.deepEqual(s(5, 0.5, 0), { minHealthy: 3, maxTotal: 5 });
  assert.deepEqual(s(4, 1, 0.25), { minHealthy: 4, maxTotal: 5 });
  assert.deepEqual(s(4, 1, 0), { minHealthy: 4, maxTotal: 5 }); // would never move otherwise
  assert.deepEqual(s(10, 0, 1), { minHealthy: 0, maxTotal: 20 });
});

test('configKey ignores instances (scaling does not restart)', () => {
  const a = validateApp({ id: '/a', cmd: 'x', instances: 1 });
  const b = validateApp({ id: '/a', cmd: 'x', instances: 9 });
  const c = validateApp({ id: '/a', cmd: 'y', instances: 9 });
  assert.ok(a.ok && b.ok && c.ok);
  assert.equal(configKey(a.value), configKey(b.value));
  assert.notEqual(configKey(b.value), configKey(c.value));
});

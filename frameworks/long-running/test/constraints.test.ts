import { test } from 'node:test';
import assert from 'node:assert/strict';
import { violation, type Placement } from '../src/constraints.js';
import type { Constraint } from '../src/app.js';

const at = (hostname: string, attributes: Record<string, string> = {}): Placement => ({ hostname, attributes });

test('UNIQUE hostname', () => {
  const c: Constraint[] = [['hostname', 'UNIQUE']];
  assert.equal(violation(c, at('a'), []), undefined);
  assert.match(violation(c, at('a'), [at('a')])!, /host a already runs an instance/);
  assert.equal(violation(c, at('b'), [at('a')]), undefined);
});

test('CLUSTER with and without a value', () => {
  assert.match(violation([['rack', 'CLUSTER', 'r1']], at('a', { rack: 'r2' }), [])!, /rack=r2/);
  assert.equal(violation([['rack', 'CLUSTER', 'r1']], at('a', { rack: 'r1' }), []), undefined);
  assert.equal(violation([['rack', 'CLUSTER']], at('a', { rack: 'r2' }), []), undefined);
  assert.match(violation([['rack', 'CLUSTER']], at('a', { rack: 'r2' }), [at('b', { rack: 'r1' })])!, /must run where rack=r1/);
});

test('IS, LIKE, UNLIKE', () => {
  assert.equal(violation([['zone', 'IS', 'a']], at('h', { zone: 'a' }), []), undefined);
  assert.ok(violation([['zone', 'IS', 'a']], at('h', { zone: 'b' }), []));
  assert.equal(violation([['hostname', 'LIKE', 'web-[0-9]+']], at('web-12'), []), undefined);
  assert.ok(violation([['hostname', 'LIKE', 'web-[0-9]+']], at('db-1'), []));
  assert.ok(violation([['hostname', 'UNLIKE', 'db-.*']], at('db-1'), []));
  assert.equal(violation([['rack', 'UNLIKE', 'r1']], at('h'), []), undefined, 'UNLIKE holds without the attribute');
  assert.match(violation([['rack', 'LIKE', 'r1']], at('h'), [])!, /has no attribute 'rack'/);
});

test('MAX_PER', () => {
  const c: Constraint[] = [['rack', 'MAX_PER', '2']];
  const placed = [at('a', { rack: 'r1' }), at('b', { rack: 'r1' })];
  assert.match(violation(c, at('c', { rack: 'r1' }), placed)!, /at most 2/);
  assert.equal(violation(c, at('c', { rack: 'r2' }), placed), undefined);
});

test('GROUP_BY spreads evenly', () => {
  const c: Constraint[] = [['zone', 'GROUP_BY', '2']];
  assert.equal(violation(c, at('a', { zone: 'z1' }), []), undefined);
  assert.match(violation(c, at('a', { zone: 'z1' }), [at('x', { zone: 'z1' })])!, /spreading over 2/);
  assert.equal(violation(c, at('a', { zone: 'z2' }), [at('x', { zone: 'z1' })]), undefined);
  const two = [at('x', { zone: 'z1' }), at('y', { zone: 'z2' }), at('z', { zone: 'z1' })];
  assert.ok(violation(c, at('a', { zone: 'z1' }), two));
  assert.equal(violation(c, at('a', { zone: 'z2' }), two), undefined);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resources as R } from '@agora/core';

test('parseResources reads scalars, ranges, sets and static roles', () => {
  const r = R.parseResources('cpus:4;mem:8192;disk:20000;ports:[31000-32000];cpus(eng):2;zones:{a,b}');
  assert.equal(R.scalarOf(r, 'cpus'), 6);
  assert.equal(R.scalarOf(r, 'mem'), 8192);
  assert.deepEqual(R.rangesOfName(r, 'ports'), [[31000, 32000]]);
  assert.equal(R.formatResources(r), 'cpus:4;mem:8192;disk:20000;ports:[31000-32000];cpus(eng):2;zones:{a,b}');
});

test('parseResources rejects bad input with a message naming the part', () => {
  assert.throws(() => R.parseResources('cpus:abc'), /cpus.*not a number/);
  assert.throws(() => R.parseResources('cpus:-1'), /negative/);
  assert.throws(() => R.parseResources('ports:[5-1]'), /ends before it begins/);
  assert.throws(() => R.parseResources('garbage'), /expected name:value/);
});

test('add and subtract are exact on decimals and ranges', () => {
  const a = R.parseResources('cpus:0.1;ports:[100-200]');
  const b = R.parseResources('cpus:0.2;ports:[150-160]');
  const sum = R.add(a, b);
  assert.equal(R.scalarOf(sum, 'cpus'), 0.3);
  const back = R.subtract(sum, R.parseResources('cpus:0.3;ports:[100-149]'));
  assert.equal(R.scalarOf(back, 'cpus'), 0);
  assert.deepEqual(R.rangesOfName(back, 'ports'), [[150, 200]]);
});

test('contains respects roles, ranges and amounts', () => {
  const offer = R.parseResources('cpus:2;mem:512;ports:[31000-31010]');
  assert.ok(R.contains(offer, R.parseResources('cpus:2;mem:512;ports:[31005-31006]')));
  assert.ok(!R.contains(offer, R.parseResources('cpus:2.001')));
  assert.ok(!R.contains(offer, R.parseResources('ports:[31010-31011]')));
  assert.ok(!R.contains(offer, R.parseResources('cpus(eng):1')));
});

test('pickPorts takes the lowest ports and refuses when too few', () => {
  const offer = R.parseResources('ports:[31000-31001,31005-31005]');
  const got = R.pickPorts(offer, 3);
  assert.deepEqual(got?.ports, [31000, 31001, 31005]);
  assert.equal(R.pickPorts(offer, 4), undefined);
});

test('validateResource names non-finite, negative and absurd values', () => {
  assert.match(R.validateResource(R.scalar('cpus', Number.NaN)) ?? '', /non-finite/);
  assert.match(R.validateResource({ name: 'cpus', type: 1, scalar: { value: -2 } }) ?? '', /negative/);
  assert.match(R.validateResource(R.scalar('mem', 1e300)) ?? '', /impossibly large/);
  assert.equal(R.validateResource(R.scalar('mem', 128)), undefined);
});

test('dominantShare picks the largest fraction', () => {
  const total = R.parseResources('cpus:10;mem:1000');
  assert.equal(R.dominantShare(R.parseResources('cpus:1;mem:500'), total), 0.5);
});

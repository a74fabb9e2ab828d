import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commandOf, compileJob, constraintsMatch, validateGraph, validateJobSpec } from '../src/job.js';

const fields = (raw: unknown): string[] => validateJobSpec(raw).map((e) => e.field).sort();

test('a good job has no errors and compiles with defaults', () => {
  assert.deepEqual(validateJobSpec({ name: 'a', command: 'true', schedule: '*/5 * * * *' }), []);
  const j = compileJob({ name: 'a', command: 'true', schedule: '*/5 * * * *' }, 1000);
  assert.equal(j.cpus, 0.1);
  assert.equal(j.concurrencyPolicy, 'allow');
  assert.equal(j.missedRunPolicy, 'run-once');
  assert.equal(j.timezone, 'UTC');
  assert.equal(j.createdAt, 1000);
});

test('every bad field is named at once', () => {
  assert.deepEqual(fields({ name: 'bad name', command: '', schedule: 'nope', retries: -1, cpus: -2, concurrencyPolicy: 'sometimes', bogus: 1 }),
    ['bogus', 'command', 'concurrencyPolicy', 'cpus', 'name', 'retries', 'schedule']);
  assert.deepEqual(fields({ name: 'x', command: 'true', schedule: '0 2 * * *', timezone: 'Nowhere/City' }), ['timezone']);
  assert.deepEqual(fields({ name: 'x', command: 'true' }), ['schedule']);
  assert.deepEqual(fields({ name: 'x', command: 'true', schedule: '* * * * *', parents: ['y'] }), ['schedule']);
  assert.deepEqual(fields({ name: 'x', command: 'true', parents: ['x'] }), ['parents']);
  assert.deepEqual(fields({ name: 'x', command: 'true', schedule: '* * * * *', constraints: [['hostname', 'NEAR', 'a']] }), ['constraints[0]']);
  assert.deepEqual(fields([]), ['(body)']);
});

test('the DAG: unknown parents and cycles', () => {
  const g = new Map<string, string[]>([['a', []], ['b', ['a']], ['c', ['b']]]);
  assert.deepEqual(validateGraph(g, 'c'), []);
  assert.match(validateGraph(new Map([...g, ['d', ['zzz']]]), 'd')[0]!.message, /unknown parent 'zzz'/);
  const cyc = validateGraph(new Map([...g, ['a', ['c']]]), 'a');
  assert.equal(cyc[0]!.field, 'parents');
  assert.match(cyc[0]!.message, /cycle: a → b → c → a|cycle: .*a.*b.*c/);
});

test('constraints: hostname / attribute EQUALS LIKE UNLIKE', () => {
  assert.ok(constraintsMatch([['hostname', 'EQUALS', 'h1']], 'h1', {}));
  assert.ok(!constraintsMatch([['hostname', 'EQUALS', 'h1']], 'h2', {}));
  assert.ok(constraintsMatch([['rack', 'LIKE', 'r[12]']], 'h', { rack: 'r2' }));
  assert.ok(!constraintsMatch([['rack', 'LIKE', 'r[12]']], 'h', {}));
  assert.ok(constraintsMatch([['rack', 'UNLIKE', 'r1']], 'h', { rack: 'r2' }));
});

test('commands: shell line with quoted extra arguments, or argv', () => {
  const j = compileJob({ name: 'a', command: 'echo', schedule: '* * * * *', arguments: ['x'] }, 0);
  assert.deepEqual(commandOf(j, ["it's", 'b']), { value: `echo x 'it'\\''s' b`, shell: true });
  const k = compileJob({ name: 'a', command: '/bin/echo', shell: false, schedule: '* * * * *' }, 0);
  assert.deepEqual(commandOf(k, ['y']), { value: '/bin/echo', arguments: ['/bin/echo', 'y'], shell: false });
});

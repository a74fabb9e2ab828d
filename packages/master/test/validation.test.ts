import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resources, type TaskInfo } from '@agora/core';
import { validateAgentInfo, validateFrameworkInfo, validateOffers, validateTask, refuseSecondsOf, type TaskContext } from '../src/validation.js';

const R = resources.parseResources;

function ctx(extra: Partial<TaskContext> = {}): TaskContext {
  return {
    frameworkId: 'fw-1',
    agentId: 'agent-1',
    offerLabel: 'offer o-17',
    remaining: R('cpus:1.5;mem:1024;disk:100;ports:[31000-31009]'),
    taskIdInUse: (id) => id === 'taken',
    executorRunning: () => false,
    ...extra,
  };
}

function task(extra: Partial<TaskInfo> = {}): TaskInfo {
  return { name: 'web', taskId: { value: 'web.3' }, resources: R('cpus:1;mem:128'), command: { value: 'sleep 1' }, ...extra };
}

const scalarRes = (name: string, value: number) => [{ name, type: 1, scalar: { value } }];

test('a good task passes', () => {
  assert.equal(validateTask(task(), ctx()), undefined);
});

test('task_id: empty, unsafe characters, already in use', () => {
  assert.match(validateTask(task({ taskId: { value: '' } }), ctx()) ?? '', /task_id is empty/);
  assert.match(validateTask(task({ taskId: undefined }), ctx()) ?? '', /task_id is empty/);
  assert.match(validateTask(task({ taskId: { value: '../etc' } }), ctx()) ?? '', /task_id '\.\.\/etc' may only contain/);
  assert.match(validateTask(task({ taskId: { value: '..' } }), ctx()) ?? '', /task_id '\.\.' is not allowed/);
  assert.match(validateTask(task({ taskId: { value: 'taken' } }), ctx()) ?? '', /task 'taken': task_id is already used/);
});

test('resources beyond the offer name the resource, the ask and the offer', () => {
  assert.equal(validateTask(task({ resources: R('cpus:2;mem:128') }), ctx()), "task 'web.3' asks for cpus:2 but offer o-17 holds cpus:1.5");
  assert.match(validateTask(task({ resources: R('gpus:1') }), ctx()) ?? '', /asks for gpus:1 but offer o-17 holds gpus:0/);
  assert.match(validateTask(task({ resources: R('cpus(eng):1') }), ctx()) ?? '', /does not hold/);
});

test('negative, NaN, infinite and absurd quantities are refused by field', () => {
  assert.match(validateTask(task({ resources: scalarRes('cpus', -1) }), ctx()) ?? '', /task 'web.3' resources\[0\]: resource 'cpus' is negative/);
  assert.match(validateTask(task({ resources: scalarRes('cpus', NaN) }), ctx()) ?? '', /resources\[0\]: resource 'cpus' has a non-finite value \(NaN\)/);
  assert.match(validateTask(task({ resources: scalarRes('mem', Infinity) }), ctx()) ?? '', /non-finite/);
  assert.match(validateTask(task({ resources: scalarRes('mem', 1e300) }), ctx()) ?? '', /impossibly large/);
  assert.match(validateTask(task({ resources: [{ name: 'ports', type: 2, ranges: { range: [{ begin: 5, end: 1 }] } }] }), ctx()) ?? '', /invalid range/);
  assert.match(validateTask(task({ resources: [{ name: 'cpus', type: 2 }] }), ctx()) ?? '', /'cpus' must be SCALAR/);
  assert.match(validateTask(task({ resources: [{ name: '', type: 1, scalar: { value: 1 } }] }), ctx()) ?? '', /has no name/);
  assert.match(validateTask(task({ resources: [] }), ctx()) ?? '', /asks for no resources/);
});

test('ports must be inside the offered ranges', () => {
  assert.equal(validateTask(task({ resources: R('cpus:1;ports:[31000-31001]') }), ctx()), undefined);
  assert.equal(validateTask(task({ resources: R('cpus:1;ports:[80]') }), ctx()), "task 'web.3' asks for ports [80] outside the offered ranges [31000-31009] of offer o-17");
});

test('exactly one of command and executor; command has a value; executor is complete', () => {
  assert.match(validateTask(task({ command: undefined }), ctx()) ?? '', /exactly one of command and executor \(it sets neither\)/);
  assert.match(validateTask(task({ executor: { executorId: { value: 'e1' }, command: { value: 'x' } } }), ctx()) ?? '', /\(it sets both\)/);
  assert.match(validateTask(task({ command: { value: '' } }), ctx()) ?? '', /command.value is empty/);
  assert.match(validateTask(task({ command: undefined, executor: { executorId: { value: '' } } }), ctx()) ?? '', /executor.executor_id is empty/);
  assert.match(validateTask(task({ command: undefined, executor: { executorId: { value: 'e1' } } }), ctx()) ?? '', /executor.command.value is empty/);
  assert.match(validateTask(task({ command: undefined, executor: { executorId: { value: 'e1' }, frameworkId: { value: 'other' }, command: { value: 'x' } } }), ctx()) ?? '', /executor.framework_id 'other' is not this framework/);
  assert.equal(validateTask(task({ command: undefined, executor: { executorId: { value: 'e1' }, command: { value: './exec' } } }), ctx()), undefined);
});

test('executor resources count when the executor is new, not when it runs already', () => {
  const t = task({ command: undefined, resources: R('cpus:1'), executor: { executorId: { value: 'e1' }, command: { value: './exec' }, resources: R('cpus:1') } });
  assert.match(validateTask(t, ctx()) ?? '', /asks for cpus:2 but offer o-17 holds cpus:1.5/);
  assert.equal(validateTask(t, ctx({ executorRunning: () => true })), undefined);
});

test('agent_id must match the offers; kill policy grace must be sane', () => {
  assert.match(validateTask(task({ agentId: { value: 'agent-2' } }), ctx()) ?? '', /names agent_id 'agent-2' but the offers are on agent 'agent-1'/);
  assert.match(validateTask(task({ killPolicy: { gracePeriodSeconds: -3 } }), ctx()) ?? '', /kill_policy.grace_period_seconds must be a finite number/);
});

test('offers: present, once, outstanding, ours, one agent', () => {
  const offers = new Map([['o-1', { frameworkId: 'fw-1', agentId: 'a1' }], ['o-2', { frameworkId: 'fw-1', agentId: 'a2' }], ['o-3', { frameworkId: 'fw-2', agentId: 'a1' }]]);
  const find = (id: string) => offers.get(id);
  assert.equal(validateOffers(['o-1'], find, 'fw-1'), undefined);
  assert.match(validateOffers([], find, 'fw-1') ?? '', /offer_ids is empty/);
  assert.match(validateOffers(['o-1', 'o-1'], find, 'fw-1') ?? '', /'o-1' is listed twice/);
  assert.match(validateOffers(['o-9'], find, 'fw-1') ?? '', /offer 'o-9' is not outstanding/);
  assert.match(validateOffers(['o-3'], find, 'fw-1') ?? '', /offer 'o-3' was made to another framework/);
  assert.match(validateOffers(['o-1', 'o-2'], find, 'fw-1') ?? '', /on different agents/);
});

test('framework info and agent info', () => {
  assert.equal(validateFrameworkInfo({ name: 'x' }), undefined);
  assert.match(validateFrameworkInfo(undefined) ?? '', /framework_info is missing/);
  assert.match(validateFrameworkInfo({ name: '' }) ?? '', /framework_info.name is empty/);
  assert.match(validateFrameworkInfo({ name: 'x', failoverTimeoutSeconds: -1 }) ?? '', /failover_timeout_seconds/);
  assert.match(validateFrameworkInfo({ name: 'x', roles: ['a b'] }) ?? '', /roles\[0\] 'a b'/);
  assert.equal(validateAgentInfo({ hostname: 'h', resources: R('cpus:1') }), undefined);
  assert.match(validateAgentInfo({ resources: scalarRes('mem', -5) }) ?? '', /agent_info resources\[0\]: resource 'mem' is negative/);
  assert.match(validateAgentInfo({ id: { value: 'a/b' } }) ?? '', /agent_info.id 'a\/b'/);
});

test('refuse_seconds', () => {
  assert.equal(refuseSecondsOf(undefined, 5), 5);
  assert.equal(refuseSecondsOf({ refuseSeconds: 0 }, 5), 0);
  assert.equal(refuseSecondsOf({ refuseSeconds: 2 }, 5), 2);
  assert.match(String(refuseSecondsOf({ refuseSeconds: -1 }, 5)), /refuse_seconds must be a finite number/);
  assert.match(String(refuseSecondsOf({ refuseSeconds: NaN }, 5)), /refuse_seconds/);
});

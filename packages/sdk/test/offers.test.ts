import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandTask, executorTask, offerFits, newTaskId, resources, type Offer } from '../src/index.js';

function makeOffer(text = 'cpus:2;mem:1024;disk:500;ports:[31000-31002]', role = 'web'): Offer {
  return {
    id: { value: 'o-17' },
    frameworkId: { value: 'fw-1' },
    agentId: { value: 'agent-1' },
    hostname: 'h1',
    resources: resources.allocateTo(resources.parseResources(text), role),
    allocationInfo: { role },
  };
}

describe('commandTask', () => {
  it('builds a TaskInfo whose resources the offer contains, with the offer\'s allocation role', () => {
    const offer = makeOffer();
    const t = commandTask(offer, {
      name: 'web server', command: 'python -m http.server $PORT0', cpus: 0.5, mem: 128, ports: 2,
      env: { MODE: 'prod' }, labels: { app: 'web' }, killGracePeriodSeconds: 7, uris: [{ value: 'https://example.com/x.tgz', extract: true }],
    });
    assert.equal(t.name, 'web server');
    assert.match(t.taskId?.value ?? '', /^web-server\.[0-9a-f]{8}$/);
    assert.equal(t.agentId?.value, 'agent-1');
    assert.equal(resources.formatResources(t.resources ?? []), 'cpus:0.5;mem:128;ports:[31000-31001]');
    for (const r of t.resources ?? []) assert.equal(r.allocationInfo?.role, 'web');
    assert.ok(resources.contains(offer.resources ?? [], t.resources ?? []), 'offer contains the task');
    assert.equal(t.command?.value, 'python -m http.server $PORT0');
    assert.equal(t.command?.shell, true);
    assert.deepEqual(t.command?.environment?.variables, [{ name: 'MODE', type: 1, value: 'prod' }]);
    assert.equal(t.command?.uris?.[0]?.extract, true);
    assert.deepEqual(t.labels?.labels, [{ key: 'app', value: 'web' }]);
    assert.equal(t.killPolicy?.gracePeriodSeconds, 7);
    assert.equal(t.executor, undefined);
  });

  it('defaults to 0.1 cpus and 32 MiB, and takes argv commands and a given task ID', () => {
    const t = commandTask(makeOffer(), { name: 'x', taskId: 'x-1', command: { value: '/bin/echo', arguments: ['echo', 'hi'], shell: false } });
    assert.equal(t.taskId?.value, 'x-1');
    assert.equal(resources.formatResources(t.resources ?? []), 'cpus:0.1;mem:32');
    assert.deepEqual(t.command?.arguments, ['echo', 'hi']);
    assert.equal(t.command?.shell, false);
    assert.notEqual(newTaskId('a'), newTaskId('a'));
  });

  it('carves reserved resources first and keeps their reservation', () => {
    const offer = makeOffer('cpus(web):0.5;cpus:2;mem:256', 'web');
    const t = commandTask(offer, { name: 'r', command: 'true', cpus: 1, mem: 64 });
    assert.equal(resources.formatResources(t.resources ?? []), 'cpus(web):0.5;cpus:0.5;mem:64');
    assert.ok(resources.contains(offer.resources ?? [], t.resources ?? []));
  });

  it('throws naming the shortfall when the offer is too small', () => {
    assert.throws(() => commandTask(makeOffer(), { name: 'big', taskId: 'big', command: 'true', cpus: 3 }), /offer o-17 holds cpus:2 but task 'big' asks for cpus:3/);
    assert.throws(() => commandTask(makeOffer(), { name: 'p', taskId: 'p', command: 'true', ports: 4 }), /holds 3 ports but task 'p' asks for 4/);
    assert.throws(() => commandTask(makeOffer(), { name: 'n', command: 'true', mem: -1 }), /mem:-1/);
    assert.throws(() => commandTask(makeOffer(), { name: 'e', command: '' }), /command/);
  });

  it('packs several tasks into one offer with `from`', () => {
    const offer = makeOffer();
    let left = offer.resources ?? [];
    const tasks = [];
    for (let i = 0; i < 3; i++) {
      const t = commandTask(offer, { name: `w${i}`, command: 'true', cpus: 0.5, ports: 1, from: left });
      left = resources.subtract(left, t.resources ?? []);
      tasks.push(t);
    }
    assert.deepEqual(tasks.map((t) => resources.rangesOfName(t.resources ?? [], 'ports')[0]?.[0]), [31000, 31001, 31002]);
    assert.equal(resources.scalarOf(left, 'cpus'), 0.5);
  });
});

describe('executorTask', () => {
  it('names a custom executor and sends env to it', () => {
    const t = executorTask(makeOffer(), { name: 'job', executor: { command: 'node exec.js', env: { A: '1' } }, data: Buffer.from('x') });
    assert.equal(t.executor?.type, 2 /* CUSTOM */);
    assert.equal(t.executor?.executorId?.value, 'job-executor');
    assert.equal(t.executor?.frameworkId?.value, 'fw-1');
    assert.equal(t.executor?.command?.value, 'node exec.js');
    assert.deepEqual(t.executor?.command?.environment?.variables?.map((v) => v.name), ['A']);
    assert.equal(t.command, undefined);
    assert.equal(Buffer.from(t.data ?? []).toString(), 'x');
    assert.equal(t.executor?.resources, undefined, 'no executor resources unless asked: the agent gives its default');
  });

  it('declares the executor\'s own resources with the offer\'s role, and refuses impossible ones', () => {
    const offer = makeOffer();
    const t = executorTask(offer, { name: 'job', cpus: 0.1, mem: 16, executor: { command: 'node exec.js', resources: { cpus: 0.25, mem: 128 } } });
    assert.equal(resources.formatResources(t.executor?.resources ?? []), 'cpus:0.25;mem:128');
    for (const r of t.executor?.resources ?? []) assert.equal(r.allocationInfo?.role, 'web');
    assert.equal(resources.formatResources(t.resources ?? []), 'cpus:0.1;mem:16', 'the task keeps only its own');
    assert.throws(() => executorTask(offer, { name: 'job', executor: { command: 'x', resources: { cpus: -1 } } }), /executor 'job-executor' asks for cpus:-1/);
    assert.throws(() => executorTask(offer, { name: 'job', executor: { command: 'x', resources: { mem: Number.NaN } } }), /mem:NaN/);
  });
});

describe('offerFits', () => {
  it('checks amounts across roles and ports', () => {
    const offer = makeOffer();
    assert.equal(offerFits(offer, { cpus: 2, mem: 1024, disk: 500, ports: 3 }), true);
    assert.equal(offerFits(offer, { cpus: 2.5 }), false);
    assert.equal(offerFits(offer, { ports: 4 }), false);
    assert.equal(offerFits(offer, {}), true);
  });

  it('checks exact resources, with or without allocation roles', () => {
    const offer = makeOffer();
    assert.equal(offerFits(offer, resources.parseResources('cpus:1;ports:[31001-31002]')), true);
    assert.equal(offerFits(offer, resources.parseResources('ports:[31002-31003]')), false);
    assert.equal(offerFits(offer, resources.parseResources('cpus(eng):1')), false);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resources as R, ValueType } from '@agora/core';
import { detectResources, diskAfterReserve, memAfterReserve, parseAttributes, Agent } from '@agora/agent';
import { commandArgv, taskEnvironment } from '../src/sandbox.js';
import { decodeDataUrl, outputName } from '../src/fetcher.js';

test('bad --resources strings give one clear sentence', async () => {
  await assert.rejects(detectResources({ resources: 'cpus:x' }), /^Error: invalid resources "cpus:x": resource 'cpus' has a value 'x' that is not a number$/);
  await assert.rejects(detectResources({ resources: 'cpus' }), /invalid resources "cpus": cannot parse resource 'cpus': expected name:value/);
  await assert.rejects(detectResources({ resources: 'ports:[5-1]' }), /ends before it begins/);
  await assert.rejects(detectResources({ resources: 'ports:100' }), /'ports' must be ranges, e\.g\. ports:\[31000-32000\]/);
  await assert.rejects(detectResources({ resources: 'mem:[1-2]' }), /'mem' must be a number/);
  await assert.rejects(detectResources({ resources: 'cpus:-2' }), /negative/);
});

test('detectResources measures the machine and --resources overrides per name', async () => {
  const all = await detectResources({ workDir: '/tmp' });
  assert.ok(R.scalarOf(all, 'cpus') >= 1);
  assert.ok(R.scalarOf(all, 'mem') > 0);
  assert.ok(R.scalarOf(all, 'disk') >= 0);
  assert.deepEqual(R.rangesOfName(all, 'ports'), [[31000, 32000]]);
  const some = await detectResources({ workDir: '/tmp', resources: 'cpus:4;mem:8192;gpus:1' });
  assert.equal(R.scalarOf(some, 'cpus'), 4);
  assert.equal(R.scalarOf(some, 'mem'), 8192);
  assert.equal(R.scalarOf(some, 'gpus'), 1);
  assert.deepEqual(R.rangesOfName(some, 'ports'), [[31000, 32000]]);
  assert.equal(R.formatResources(await detectResources({ resources: 'cpus:4;mem:8192;disk:20000;ports:[31000-32000]' })), 'cpus:4;mem:8192;disk:20000;ports:[31000-32000]');
});

test('system reserves follow Mesos: 1 GiB of memory (half when small), 5 GiB of disk (half when small)', () => {
  assert.equal(memAfterReserve(16384), 15360);
  assert.equal(memAfterReserve(1024), 512);
  assert.equal(diskAfterReserve(100_000), 94_880);
  assert.equal(diskAfterReserve(4000), 2000);
});

test('parseAttributes reads text, scalars, ranges and sets, and rejects bad input clearly', () => {
  const a = parseAttributes('rack:r1; zone:a;level:3;ids:[1-4];tags:{x,y}');
  assert.deepEqual(a.map((x) => [x.name, x.type]), [['rack', ValueType.TEXT], ['zone', ValueType.TEXT], ['level', ValueType.SCALAR], ['ids', ValueType.RANGES], ['tags', ValueType.SET]]);
  assert.equal(a[0]?.text?.value, 'r1');
  assert.equal(a[2]?.scalar?.value, 3);
  assert.throws(() => parseAttributes('rack'), /invalid attributes "rack": cannot parse 'rack', expected name:value/);
  assert.throws(() => parseAttributes('rack:a;rack:b'), /'rack' is given twice/);
  assert.throws(() => parseAttributes('ra ck:a'), /name 'ra ck'/);
  assert.throws(() => new Agent({ master: '127.0.0.1:1', attributes: 'zone' }), /invalid attributes/);
  assert.throws(() => new Agent({ master: 'localhost:notaport' }), /not HOST:PORT|no valid port/);
});

test('task environment: identity, HOST, PORTn, PORTS and the command environment', () => {
  const env = taskEnvironment({
    taskId: 't', frameworkId: 'f', agentId: 'a', executorId: 'e', sandbox: '/s', hostname: 'h',
    resources: R.parseResources('ports:[31000-31001,31005-31005]'),
    command: { environment: { variables: [{ name: 'X', value: '1' }, { name: 'S', type: 2, value: 'secret' }] } },
  });
  assert.equal(env.AGORA_TASK_ID, 't');
  assert.equal(env.AGORA_FRAMEWORK_ID, 'f');
  assert.equal(env.AGORA_AGENT_ID, 'a');
  assert.equal(env.AGORA_EXECUTOR_ID, 'e');
  assert.equal(env.AGORA_SANDBOX, '/s');
  assert.equal(env.HOST, 'h');
  assert.equal(env.PORT0, '31000');
  assert.equal(env.PORT2, '31005');
  assert.equal(env.PORTS, '31000,31001,31005');
  assert.equal(env.X, '1');
  assert.equal(env.S, 'secret');
  assert.deepEqual(commandArgv({ value: 'echo hi' }), { file: '/bin/sh', args: ['-c', 'echo hi'] });
  assert.deepEqual(commandArgv({ value: '/bin/echo', shell: false, arguments: ['echo', 'a', 'b'] }), { file: '/bin/echo', args: ['a', 'b'], argv0: 'echo' });
});

test('data: URLs decode (base64 and percent-encoded) and name their output', () => {
  assert.equal(decodeDataUrl('data:text/plain;base64,aGVsbG8=').toString(), 'hello');
  assert.equal(decodeDataUrl('data:,a%20b').toString(), 'a b');
  assert.throws(() => decodeDataUrl('data:nocomma'), /not a data: URL/);
  assert.equal(outputName({ value: 'https://x.org/a/b.tgz?x=1' }), 'b.tgz');
  assert.equal(outputName({ value: '/opt/x/run.sh' }), 'run.sh');
  assert.equal(outputName({ value: 'data:,x', outputFile: 'cfg.json' }), 'cfg.json');
});

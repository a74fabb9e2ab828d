/**
 * `agora state|agents|frameworks|tasks` against a fake Operator service (canned answers), so
 * tables and JSON are checked without a cluster.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OperatorService, TaskState, ValueType, bindServer, grpc, newServer, resources, stopServer, type Task } from '@agora/core';
import { agora } from './helpers.js';

const now = Date.now() / 1000;
const agentInfo = {
  id: { value: 'agent-1' }, hostname: 'node-a', address: '127.0.0.1:5060',
  resources: resources.parseResources('cpus:4;mem:8192;ports:[31000-32000]'),
  attributes: [{ name: 'rack', type: ValueType.TEXT, text: { value: 'r1' } }],
};
const agentState = { agentInfo, active: true, totalResources: agentInfo.resources, allocatedResources: resources.parseResources('cpus:1;mem:64'), taskCount: 1, registeredTime: now - 100, lastHeartbeat: now - 2 };
const framework = { frameworkInfo: { id: { value: 'fw-1' }, name: 'agora task run (splitter)', roles: ['*'] }, active: true, connected: true, allocatedResources: resources.parseResources('cpus:1;mem:64'), taskCount: 1, dominantShare: 0.25, registeredTime: now - 50 };
const running: Task = {
  name: 'splitter', taskId: { value: 'splitter.1' }, frameworkId: { value: 'fw-1' }, agentId: { value: 'agent-1' }, executorId: { value: 'splitter.1' },
  state: TaskState.TASK_RUNNING, resources: resources.parseResources('cpus:1;mem:64'), launchedAt: now - 10,
  statuses: [{ taskId: { value: 'splitter.1' }, state: TaskState.TASK_RUNNING, uuid: new Uint8Array([1, 2, 3]) }],
};
const finished: Task = { ...running, name: 'old', taskId: { value: 'old.1' }, state: TaskState.TASK_FINISHED, statuses: [] };
const masterInfo = { id: 'master-1', address: '', version: '0.1.0', leader: true, startTime: now - 3600 };
let lastTasksRequest: Record<string, unknown> = {};

const server = newServer();
let address = '';

before(async () => {
  type Cb = (err: null, res: unknown) => void;
  server.addService(OperatorService as unknown as grpc.ServiceDefinition, {
    getHealth: (_c: unknown, cb: Cb) => cb(null, { healthy: true, masterInfo }),
    getState: (_c: unknown, cb: Cb) => cb(null, { masterInfo, agents: [agentState], frameworks: [framework], tasks: [running], completedTasks: [finished], offers: [] }),
    getAgents: (_c: unknown, cb: Cb) => cb(null, { agents: [agentState] }),
    getFrameworks: (_c: unknown, cb: Cb) => cb(null, { frameworks: [framework] }),
    getTasks: (call: { request: Record<string, unknown> }, cb: Cb) => {
      lastTasksRequest = call.request;
      const tasks = (call.request.includeCompleted ? [running, finished] : [running]);
      cb(null, { tasks, total: tasks.length });
    },
    getMetrics: (_c: unknown, cb: Cb) => cb(null, { metrics: [] }),
    teardown: (_c: unknown, cb: Cb) => cb(null, {}),
  });
  const port = await bindServer(server, '127.0.0.1', 0);
  address = `127.0.0.1:${port}`;
  masterInfo.address = address;
});

after(() => stopServer(server, 100));

test('agents: a table and JSON', async () => {
  const t = await agora(['agents', '--master', address]);
  assert.equal(t.code, 0, t.stderr);
  for (const s of ['agent-1', 'node-a', '127.0.0.1:5060', 'cpus:4;mem:8192;ports:[31000-32000]', 'rack:r1']) assert.ok(t.stdout.includes(s), `${s} in\n${t.stdout}`);
  const j = JSON.parse((await agora(['agents', '--json', '--master', address])).stdout);
  assert.equal(j[0].agentInfo.id.value, 'agent-1');
  assert.equal(j[0].agentInfo.resources[0].type, 'SCALAR');
  assert.equal(j[0].agentInfo.attributes[0].text.value, 'r1');
});

test('tables fit $COLUMNS, and do not wrap in a pipe without it', async () => {
  const t = await agora(['agents', '--master', address], { COLUMNS: '80' });
  assert.equal(t.code, 0, t.stderr);
  for (const line of t.stdout.split('\n')) assert.ok(line.length <= 80, `line of ${line.length} chars:\n${t.stdout}`);
  const wide = await agora(['agents', '--master', address]);
  assert.match(wide.stdout, /cpus:4;mem:8192;ports:\[31000-32000\]/);
});

test('frameworks: a table and JSON', async () => {
  const t = await agora(['frameworks', '--master', address]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /fw-1/);
  assert.match(t.stdout, /connected/);
  assert.match(t.stdout, /25%/);
  const j = JSON.parse((await agora(['frameworks', '--json', '--master', address])).stdout);
  assert.equal(j[0].frameworkInfo.name, 'agora task run (splitter)');
});

test('tasks: filters go to the master; enums and bytes are readable in JSON', async () => {
  const t = await agora(['tasks', '--master', address]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /splitter\.1/);
  assert.match(t.stdout, /RUNNING/);
  assert.doesNotMatch(t.stdout, /old\.1/);

  const f = await agora(['tasks', '--state', 'finished', '--framework', 'fw-1', '--json', '--master', address]);
  assert.equal(f.code, 0, f.stderr);
  assert.deepEqual(lastTasksRequest.states, [TaskState.TASK_FINISHED]);
  assert.equal(lastTasksRequest.includeCompleted, true);
  assert.equal((lastTasksRequest.frameworkId as { value: string }).value, 'fw-1');
  const j = JSON.parse(f.stdout);
  assert.equal(j.total, 2);
  assert.equal(j.tasks[0].state, 'TASK_RUNNING');
  assert.equal(j.tasks[0].statuses[0].uuid, Buffer.from([1, 2, 3]).toString('base64'));
});

test('state: a summary and JSON', async () => {
  const t = await agora(['state', '--master', address]);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stdout, /1 active, 1 known/);
  assert.match(t.stdout, /1 RUNNING/);
  assert.match(t.stdout, /\(leader\)/);
  const j = JSON.parse((await agora(['state', '--json', '--master', address])).stdout);
  assert.equal(j.masterInfo.address, address);
  assert.equal(j.completedTasks[0].state, 'TASK_FINISHED');
});

// Unit tests of the HTTP operator surface's pieces: parameter checks, sandbox path refusals,
// the proxy's URL building, the utilization ring, the change feed (watched maps, entry
// setters, the task table's observer) and the SSE hub dropping a slow client while a fast one
// keeps receiving; plus an in-process master answering over HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { resources, silentLogger, TaskState, VERSION, type MasterInfo } from '@agora/core';
import { startMaster, MemoryRegistry } from '@agora/master';
import { AgentEntry } from '../src/agents.js';
import type { MasterEvent } from '../src/events.js';
import { FrameworkEntry } from '../src/frameworks.js';
import type { HttpContext } from '../src/http/context.js';
import { badRequest, int, taskStates } from '../src/http/query.js';
import { EventHub } from '../src/http/routes-events.js';
import { checkSandboxPath } from '../src/http/routes-files.js';
import { proxyTarget } from '../src/http/routes-proxy.js';
import { MasterState } from '../src/master-state.js';
import { compileOptions } from '../src/options.js';
import { createMasterRegistry } from '../src/prometheus.js';
import { TaskHistory } from '../src/task-history.js';
import { TaskTable, type TaskRecord } from '../src/tasks.js';
import { sampleUtilization, UtilizationRing } from '../src/utilization.js';

function books(): { m: MasterState; info: MasterInfo } {
  const info: MasterInfo = { id: 'm1', address: '127.0.0.1:1', hostname: 'h', version: VERSION, startTime: 0, leader: true, leaderAddress: '', httpAddress: '' };
  const m = new MasterState(compileOptions({ registry: new MemoryRegistry(), logger: silentLogger(), port: 0 }), info, 'ab12');
  return { m, info };
}

function task(id: string, agentId = 'a1'): TaskRecord {
  const res = resources.parseResources('cpus:0.5;mem:64');
  return {
    key: TaskTable.key('fw1', id), frameworkId: 'fw1', taskId: id, agentId, executorId: id, executorKey: undefined, resources: res,
    state: TaskState.TASK_STAGING, latest: undefined, command: 'sleep 1',
    task: { name: id, taskId: { value: id }, frameworkId: { value: 'fw1' }, agentId: { value: agentId }, executorId: { value: id }, state: TaskState.TASK_STAGING, resources: res, statuses: [] },
  };
}

test('query readers name the parameter and the reason', () => {
  assert.equal(int({}, 'limit', { min: 0, max: 10, dflt: 5 }), 5);
  assert.equal(int({ limit: '7' }, 'limit', { min: 0, max: 10, dflt: 5 }), 7);
  assert.throws(() => int({ limit: '11' }, 'limit', { min: 0, max: 10, dflt: 5 }), /limit must be between 0 and 10, got 11/);
  assert.throws(() => int({ limit: '1.5' }, 'limit', { min: 0, max: 10, dflt: 5 }), /limit must be a whole number, got '1\.5'/);
  assert.throws(() => int({ limit: ['1', '2'] }, 'limit', { min: 0, max: 10, dflt: 5 }), /limit is given 2 times/);
  assert.deepEqual([...taskStates({ s: 'running,TASK_FAILED, finished' }, 's')!], [TaskState.TASK_RUNNING, TaskState.TASK_FAILED, TaskState.TASK_FINISHED]);
  assert.throws(() => taskStates({ s: 'running,sleepy' }, 's'), /s: 'sleepy' is not a task state/);
  assert.equal(badRequest('x').status, 400);
});

test('sandbox paths: .., absolute paths and NUL are refused by their text', () => {
  assert.equal(checkSandboxPath(''), '');
  assert.equal(checkSandboxPath('./sub/f.txt'), 'sub/f.txt');
  assert.equal(checkSandboxPath('sub/'), 'sub');
  assert.equal(checkSandboxPath('a..b'), 'a..b', 'dots inside a name are fine');
  for (const p of ['..', '../x', 'sub/../../x', 'sub/..', 'a\\..\\b']) assert.throws(() => checkSandboxPath(p), (e: { status: number }) => e.status === 403, p);
  for (const p of ['/etc/passwd', '\\x', 'C:\\x']) assert.throws(() => checkSandboxPath(p), (e: { status: number; message: string }) => e.status === 403 && /absolute/.test(e.message), p);
  assert.throws(() => checkSandboxPath('a\u0000b'), (e: { status: number }) => e.status === 400);
});

test('proxy URLs stay under the framework\'s webuiUrl', () => {
  assert.equal(proxyTarget('http://127.0.0.1:8080', 'v2/apps', '?embed=x').href, 'http://127.0.0.1:8080/v2/apps?embed=x');
  assert.equal(proxyTarget('http://127.0.0.1:8080/base/', 'v1/jobs/a%20b', '').href, 'http://127.0.0.1:8080/base/v1/jobs/a%20b');
  assert.throws(() => proxyTarget('http://h:1', 'v2/../../admin', ''), (e: { status: number }) => e.status === 400);
  assert.throws(() => proxyTarget('file:///etc', 'passwd', ''), (e: { status: number }) => e.status === 502);
  assert.throws(() => proxyTarget('not a url', 'x', ''), (e: { status: number }) => e.status === 502);
});

test('the utilization ring keeps the newest samples in order', () => {
  const ring = new UtilizationRing(3);
  const s = (t: number) => ({ t, total: { cpus: t, mem: 0, disk: 0 }, allocated: { cpus: 0, mem: 0, disk: 0 }, byRole: {} });
  for (const t of [1, 2, 3, 4, 5]) ring.push(s(t));
  assert.deepEqual(ring.since().map((x) => x.t), [3, 4, 5]);
  assert.deepEqual(ring.since(4).map((x) => x.t), [4, 5]);
  assert.equal(ring.size, 3);
  assert.throws(() => new UtilizationRing(0), /capacity/);
});

test('the books report agents, frameworks and tasks on the change feed', () => {
  const { m } = books();
  const seen: string[] = [];
  m.events.on((e: MasterEvent) => {
    if (e.type === 'task_updated') seen.push(`${e.type}:${e.task.taskId}:${e.previous === undefined ? '-' : TaskState[e.previous]}>${TaskState[e.task.state]}`);
    else seen.push(`${e.type}:${'agent' in e ? e.agent.id : e.framework.id}`);
  });
  const agent = new AgentEntry('a1', { hostname: 'h', address: '127.0.0.1:2' }, 0);
  m.agents.set('a1', agent);
  agent.active = true;
  agent.active = true; // no change, no event
  const fw = new FrameworkEntry('fw1', { name: 'f', roles: ['*'] }, 0);
  m.frameworks.set('fw1', fw);
  fw.connected = true;
  const rec = task('t1');
  m.trackTask(rec);
  m.setTaskState(rec, { taskId: { value: 't1' }, state: TaskState.TASK_RUNNING });
  m.agents.delete('a1');
  agent.active = false; // no longer in the books: silent
  assert.deepEqual(seen, [
    'agent_added:a1', 'agent_updated:a1', 'framework_added:fw1', 'framework_updated:fw1',
    'task_updated:t1:->TASK_STAGING', 'task_updated:t1:TASK_STAGING>TASK_RUNNING', 'agent_removed:a1',
  ]);
});

test('metrics count transitions and launch latency from the feed', async () => {
  const { m } = books();
  const reg = createMasterRegistry(m, m.events, { isLeader: () => true });
  const rec = task('t1');
  m.trackTask(rec);
  m.setTaskState(rec, { taskId: { value: 't1' }, state: TaskState.TASK_RUNNING });
  m.setTaskState(rec, { taskId: { value: 't1' }, state: TaskState.TASK_FINISHED });
  const text = await reg.metrics();
  assert.match(text, /agora_master_task_state_transitions_total\{from="TASK_STAGING",to="TASK_RUNNING"\} 1/);
  assert.match(text, /agora_master_task_state_transitions_total\{from="TASK_RUNNING",to="TASK_FINISHED"\} 1/);
  assert.match(text, /agora_master_task_launch_latency_seconds_count 1/);
  assert.match(text, /agora_master_is_leader 1/);
  // A second registry for a second master in the same process does not clash.
  const other = books();
  assert.doesNotThrow(() => createMasterRegistry(other.m, other.m.events, { isLeader: () => false }));
});

test('utilization: allocated per role excludes outstanding offers', () => {
  const { m } = books();
  const fw = new FrameworkEntry('fw1', { name: 'f', roles: ['web'] }, 0);
  m.frameworks.set('fw1', fw);
  fw.charge('web', resources.parseResources('cpus:1;mem:100'), 1); // a task
  fw.charge('web', resources.parseResources('cpus:3;mem:300'), 1); // an offer
  m.offers.add({ id: 'o1', frameworkId: 'fw1', agentId: 'a1', role: 'web', resources: resources.parseResources('cpus:3;mem:300'), wire: {}, createdAt: 0 });
  const s = sampleUtilization(m);
  assert.deepEqual(s.byRole, { web: { cpus: 1, mem: 100, disk: 0 } });
  assert.deepEqual(s.allocated, { cpus: 1, mem: 100, disk: 0 });
});

/** A response stand-in whose socket never drains (or always does). */
class FakeResponse extends EventEmitter {
  writableLength = 0;
  written: string[] = [];
  destroyed = false;
  constructor(private readonly drains: boolean) { super(); }
  writeHead(): this { return this; }
  write(chunk: string): boolean {
    this.written.push(chunk);
    if (!this.drains) this.writableLength += chunk.length;
    return this.drains;
  }
  end(): void { this.emit('close'); }
  destroy(): void { this.destroyed = true; this.emit('close'); }
}

test('the SSE hub drops a slow client and keeps serving a fast one', async () => {
  const { m, info } = books();
  const ctx: HttpContext = {
    state: m, history: new TaskHistory(m.events, m.clock, m.tasks), utilization: new UtilizationRing(10), sampleIntervalSeconds: 2,
    metrics: createMasterRegistry(m, m.events, { isLeader: () => true }), info, log: silentLogger(), role: () => 'leader',
    leaderHttpAddress: async () => undefined, uiDir: '/nonexistent',
  };
  const hub = new EventHub(ctx, 4096);
  const slow = new FakeResponse(false);
  const fast = new FakeResponse(true);
  hub.attach(slow as never);
  hub.attach(fast as never);
  assert.equal(hub.size, 2);
  assert.match(fast.written[0]!, /^retry: 2000\n\nevent: snapshot\ndata: \{"master"/);
  for (let round = 0; round < 10 && !slow.destroyed; round++) {
    for (let i = 0; i < 20; i++) m.agents.set(`a${round}-${i}`, new AgentEntry(`a${round}-${i}`, { hostname: 'h', address: '127.0.0.1:2' }, 0));
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.equal(slow.destroyed, true, 'the slow client was cut off');
  assert.equal(hub.dropped, 1);
  assert.equal(hub.size, 1);
  const fastEvents = fast.written.join('').match(/event: agent_added/g)?.length ?? 0;
  assert.ok(fastEvents >= 20, `the fast client got every addition so far (${fastEvents})`);
  hub.close();
});

test('an in-process master serves the HTTP API on an ephemeral port when its gRPC port is 0', async () => {
  const master = await startMaster({ port: 0, registry: new MemoryRegistry(), logger: silentLogger() });
  try {
    assert.match(master.httpAddress, /^127\.0\.0\.1:\d+$/);
    const h = (await (await fetch(`http://${master.httpAddress}/health`)).json()) as { healthy: boolean; leader: boolean };
    assert.deepEqual([h.healthy, h.leader], [true, true]);
    const s = (await (await fetch(`http://${master.httpAddress}/state`)).json()) as { master: { httpAddress: string } };
    assert.equal(s.master.httpAddress, master.httpAddress);
  } finally {
    await master.stop();
  }
  const off = await startMaster({ port: 0, httpPort: false, registry: new MemoryRegistry(), logger: silentLogger() });
  assert.equal(off.httpAddress, '');
  await off.stop();
});

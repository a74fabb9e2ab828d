/**
 * The `task run` state machine in-process, with a fake SDK driver and a fake master/agent gRPC
 * server (Operator + Files): offers, launch, states, streamed output, exit codes, Ctrl-C.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FilesService, OperatorService, TaskState, bindServer, grpc, newServer, resources, stopServer,
  type Offer, type TaskInfo, type TaskStatus,
} from '@agora/core';
import { runTask } from '../src/task-runner.js';
import type { SchedulerDriverLike, SchedulerEvent, SdkLike } from '../src/peers.js';
import type { TaskSpec } from '../src/task-spec.js';

const files = new Map<string, Buffer>();
const server = newServer();
let address = '';

before(async () => {
  type Cb = grpc.sendUnaryData<unknown>;
  server.addService(OperatorService as unknown as grpc.ServiceDefinition, {
    getHealth: (_c: unknown, cb: Cb) => cb(null, { healthy: true }),
    getAgents: (_c: unknown, cb: Cb) => cb(null, { agents: [{ agentInfo: { id: { value: 'agent-1' }, address, hostname: 'node-a' }, active: true }] }),
  });
  server.addService(FilesService as unknown as grpc.ServiceDefinition, {
    read: (call: { request: { path: string; offset: number; length: number; executorId: { value: string } } }, cb: Cb) => {
      const data = files.get(`${call.request.executorId.value}/${call.request.path}`);
      if (!data) return cb({ code: grpc.status.NOT_FOUND, details: 'no such file' } as grpc.ServiceError);
      const start = call.request.offset ?? 0;
      cb(null, { data: data.subarray(start, start + (call.request.length || 1 << 20)), offset: start, size: data.length });
    },
  });
  address = `127.0.0.1:${await bindServer(server, '127.0.0.1', 0)}`;
});
after(() => stopServer(server, 100));

/** A SchedulerDriver double: events are pushed by the test's script. */
class FakeDriver implements SchedulerDriverLike {
  frameworkId: string | undefined;
  launched: { offerIds: string | string[]; tasks: TaskInfo[] }[] = [];
  declined: string[] = [];
  killed: string[] = [];
  stopped = false;
  private queue: SchedulerEvent[] = [];
  private wake: (() => void) | undefined;
  onLaunch: (task: TaskInfo) => void = () => {};
  onKill: (taskId: string) => void = () => {};

  push(ev: SchedulerEvent): void { this.queue.push(ev); this.wake?.(); }
  async start(): Promise<string> { this.frameworkId = 'fw-1'; return 'fw-1'; }
  async stop(): Promise<void> { this.stopped = true; this.wake?.(); }
  async *events(): AsyncIterable<SchedulerEvent> {
    while (!this.stopped) {
      const ev = this.queue.shift();
      if (ev) { yield ev; continue; }
      await new Promise<void>((r) => { this.wake = r; });
    }
  }
  launch(offerIds: string | string[], tasks: TaskInfo[]): void { this.launched.push({ offerIds, tasks }); for (const t of tasks) this.onLaunch(t); }
  decline(offerIds: string | string[]): void { this.declined.push(...[offerIds].flat()); }
  revive(): void {}
  kill(taskId: string): void { this.killed.push(taskId); this.onKill(taskId); }
}

function fakeSdk(driver: FakeDriver): SdkLike {
  return {
    SchedulerDriver: function () { return driver; } as unknown as SdkLike['SchedulerDriver'],
    commandTask: (offer, spec) => ({ name: spec.name, taskId: { value: spec.taskId ?? 'x' }, agentId: offer.agentId, command: { value: String(typeof spec.command === 'string' ? spec.command : spec.command.value) } }),
    offerFits: (offer, need) => {
      const n = need as { cpus?: number; mem?: number };
      return resources.scalarOf(offer.resources ?? [], 'cpus') >= (n.cpus ?? 0) && resources.scalarOf(offer.resources ?? [], 'mem') >= (n.mem ?? 0);
    },
  };
}

const offer = (id: string, text: string): Offer => ({ id: { value: id }, agentId: { value: 'agent-1' }, hostname: 'node-a', resources: resources.parseResources(text) });
const status = (taskId: string, state: TaskState, extra: Partial<TaskStatus> = {}): SchedulerEvent => ({ type: 'update', status: { taskId: { value: taskId }, agentId: { value: 'agent-1' }, state, ...extra } });
const spec = (taskId: string): TaskSpec => ({ taskId, name: 'splitter', role: '*', command: { value: 'echo out', shell: true }, cpus: 1, mem: 64, env: {}, uris: [] });

function capture(): { io: { stdout: { write(d: string | Uint8Array): boolean }; stderr: { write(d: string | Uint8Array): boolean } }; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    io: { stdout: { write: (d) => { out += Buffer.from(d).toString(); return true; } }, stderr: { write: (d) => { err += Buffer.from(d).toString(); return true; } } },
    out: () => out, err: () => err,
  };
}

test('declines what does not fit, launches on what fits, streams stdout, exits with the task\'s code', async () => {
  const driver = new FakeDriver();
  const c = capture();
  driver.onLaunch = (task) => {
    const id = task.taskId?.value as string;
    setTimeout(() => {
      driver.push(status(id, TaskState.TASK_STARTING));
      driver.push(status(id, TaskState.TASK_RUNNING));
      files.set(`${id}/stdout`, Buffer.from('out\n'));
      files.set(`${id}/stderr`, Buffer.from('err\n'));
      setTimeout(() => driver.push(status(id, TaskState.TASK_FAILED, { message: 'exited with code 3', exitCode: 3 })), 300);
    }, 10);
  };
  setTimeout(() => driver.push({ type: 'offers', offers: [offer('o-small', 'cpus:0.5;mem:1024'), offer('o-big', 'cpus:2;mem:1024')] }), 20);
  const code = await runTask({ masters: [address], spec: spec('splitter.1'), json: false, sdk: fakeSdk(driver), io: c.io });
  assert.equal(code, 3, c.err());
  assert.deepEqual(driver.declined, ['o-small']);
  assert.equal(driver.launched.length, 1);
  assert.equal(driver.launched[0]?.offerIds, 'o-big');
  assert.equal(c.out(), 'out\n');
  assert.match(c.err(), /^err$/m);
  assert.match(c.err(), /task splitter: TASK_RUNNING on agent-1 \(node-a\)/);
  assert.match(c.err(), /task splitter: TASK_FAILED on agent-1 \(node-a\): exited with code 3/);
  assert.ok(driver.stopped, 'the framework is torn down at the end');
});

test('a task the master rejects exits 1 with its message', async () => {
  const driver = new FakeDriver();
  const c = capture();
  driver.onLaunch = (task) => setTimeout(() => driver.push(status(task.taskId?.value as string, TaskState.TASK_ERROR, { message: "task 'x' asks for cpus:2" })), 5);
  setTimeout(() => driver.push({ type: 'offers', offers: [offer('o-1', 'cpus:2;mem:1024')] }), 5);
  const code = await runTask({ masters: [address], spec: spec('bad.1'), json: true, sdk: fakeSdk(driver), io: c.io });
  assert.equal(code, 1);
  const events = c.out().trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(events.at(-1), { event: 'exit', taskId: 'bad.1', state: 'TASK_ERROR', code: 1 });
  assert.ok(events.some((e) => e.event === 'status' && e.message === "task 'x' asks for cpus:2"));
});

test('Ctrl-C kills the running task and exits 130', async () => {
  const driver = new FakeDriver();
  const c = capture();
  driver.onLaunch = (task) => setTimeout(() => {
    driver.push(status(task.taskId?.value as string, TaskState.TASK_RUNNING));
    setTimeout(() => process.emit('SIGINT'), 100);
  }, 5);
  driver.onKill = (id) => setTimeout(() => driver.push(status(id, TaskState.TASK_KILLED)), 20);
  setTimeout(() => driver.push({ type: 'offers', offers: [offer('o-1', 'cpus:2;mem:1024')] }), 5);
  const code = await runTask({ masters: [address], spec: spec('long.1'), json: false, sdk: fakeSdk(driver), io: c.io });
  assert.equal(code, 130);
  assert.deepEqual(driver.killed, ['long.1']);
  assert.match(c.err(), /interrupted: killing long\.1/);
  assert.match(c.err(), /TASK_KILLED/);
});

test('waiting for an offer that never fits says why', async () => {
  const driver = new FakeDriver();
  const c = capture();
  setTimeout(() => driver.push({ type: 'offers', offers: [offer('o-1', 'cpus:0.5;mem:32')] }), 5);
  await assert.rejects(
    runTask({ masters: [address], spec: spec('wait.1'), json: false, offerTimeoutSeconds: 1, waitNoticeMs: 200, sdk: fakeSdk(driver), io: c.io }),
    /no offer with cpus:1;mem:64 came within 1 s \(no offer fits cpus:1;mem:64: node-a offers cpus:0.5;mem:32\)/,
  );
  assert.match(c.err(), /waiting: no offer fits/);
});

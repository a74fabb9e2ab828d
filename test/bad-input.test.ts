// Acceptance: bad input gets a clear error and the master and agent keep serving — resources
// not in the offer, negative/NaN/huge quantities, duplicate task IDs, unknown offer IDs, another
// framework's offer, and truncated or garbage protobuf bytes on every stream.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallType, EventType, grpc, OperatorClient, schedulerClient, ValueType, type Call, type Event, type Offer, type TaskInfo, type TaskStatus } from '@agora/core';
import { SchedulerDriver, commandTask, startCluster, taskStateName, type TestCluster } from '@agora/sdk';

let cluster: TestCluster;
after(() => cluster?.stop());

/** A framework that keeps the offers it gets and the updates, for hand-made calls. */
class Probe {
  offers: Offer[] = [];
  updates: TaskStatus[] = [];
  errors: string[] = [];
  wanting = false;
  driver: SchedulerDriver;
  private wake = new Set<() => void>();
  constructor(name: string) {
    this.driver = new SchedulerDriver({
      master: cluster.masterAddress,
      framework: { name, failoverTimeoutSeconds: 0 },
      callbacks: {
        resourceOffers: (d, offers) => {
          // Hold offers only while a test waits for one; hand the rest back so the other
          // framework is not starved.
          for (const o of offers) {
            if (this.wanting) { this.offers.push(o); this.wanting = false; } else d.decline(o.id!.value!, { refuseSeconds: 0.2 });
          }
          this.poke();
        },
        offerRescinded: (_d, id) => { this.offers = this.offers.filter((o) => o.id?.value !== id); },
        statusUpdate: (_d, s) => { this.updates.push(s); this.poke(); },
        error: (_d, m) => { this.errors.push(m); this.poke(); },
      },
    });
  }
  private poke() { for (const w of [...this.wake]) w(); }
  async until<T>(get: () => T | undefined, what: string, ms = 15_000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => { const v = get(); if (v !== undefined) { done(); resolve(v); } };
      const t = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}`)); }, ms);
      const done = () => { clearTimeout(t); this.wake.delete(check); };
      this.wake.add(check);
      check();
    });
  }
  /** Takes an offer (waiting for one). */
  async offer(): Promise<Offer> {
    this.wanting = true;
    this.driver.revive();
    const o = await this.until(() => this.offers[0], 'an offer');
    this.offers.shift();
    return o;
  }
  update(taskId: string, state?: string): Promise<TaskStatus> {
    return this.until(() => this.updates.find((u) => u.taskId?.value === taskId && (!state || taskStateName(u.state) === state)), `${state ?? 'an update'} for ${taskId}`);
  }
}

let a: Probe;
let b: Probe;
before(async () => {
  cluster = await startCluster({ agents: 1, agentResources: 'cpus:4;mem:4096;disk:1000;ports:[31000-31100]' });
  a = new Probe('bad-input-a');
  b = new Probe('bad-input-b');
  await a.driver.start();
  await b.driver.start();
});
after(async () => { await a?.driver.stop(); await b?.driver.stop(); });

function withScalar(task: TaskInfo, name: string, value: number): TaskInfo {
  return { ...task, resources: [...(task.resources ?? []).filter((r) => r.name !== name), { name, type: ValueType.SCALAR, scalar: { value } }] };
}

test('a task asking for more than the offer holds gets TASK_ERROR naming the resource', async () => {
  const offer = await a.offer();
  // Built by hand: the SDK's commandTask itself refuses a task larger than its offer.
  const task = withScalar(commandTask(offer, { name: 'greedy', taskId: 'greedy', command: 'true', cpus: 0.1, mem: 16 }), 'cpus', 400);
  a.driver.launch(offer.id!.value!, [task]);
  const u = await a.update('greedy');
  assert.equal(taskStateName(u.state), 'TASK_ERROR');
  assert.match(u.message ?? '', /cpus/);
});

for (const [label, value] of [['negative', -1], ['NaN', Number.NaN], ['huge', 1e300], ['infinite', Number.POSITIVE_INFINITY]] as const) {
  test(`a ${label} quantity gets TASK_ERROR`, async () => {
    const offer = await a.offer();
    const id = `q-${label}`;
    const task = withScalar(commandTask(offer, { name: id, taskId: id, command: 'true', cpus: 0.1, mem: 16 }), 'mem', value);
    a.driver.launch(offer.id!.value!, [task]);
    const u = await a.update(id);
    assert.equal(taskStateName(u.state), 'TASK_ERROR');
    assert.match(u.message ?? '', /mem/);
  });
}

test('a duplicate task ID gets TASK_ERROR and the first task is untouched', async () => {
  let offer = await a.offer();
  a.driver.launch(offer.id!.value!, [commandTask(offer, { name: 'dup', taskId: 'dup', command: 'sleep 60', cpus: 0.1, mem: 16 })]);
  await a.update('dup', 'TASK_RUNNING');
  offer = await a.offer();
  a.driver.launch(offer.id!.value!, [commandTask(offer, { name: 'dup', taskId: 'dup', command: 'true', cpus: 0.1, mem: 16 })]);
  const u = await a.update('dup', 'TASK_ERROR');
  assert.match(u.message ?? '', /dup/);
  const op = new OperatorClient(cluster.masterAddress);
  const { tasks } = await op.getTasks({});
  op.close();
  assert.equal(taskStateName(tasks.find((t) => t.taskId?.value === 'dup')?.state), 'TASK_RUNNING');
  a.driver.kill('dup');
});

test('an unknown offer ID drops the task with a reason', async () => {
  const offer = await a.offer();
  const task = commandTask(offer, { name: 'ghost', taskId: 'ghost', command: 'true', cpus: 0.1, mem: 16 });
  a.driver.decline(offer.id!.value!, { refuseSeconds: 0 });
  a.driver.launch('no-such-offer', [task]);
  const u = await a.update('ghost');
  assert.equal(taskStateName(u.state), 'TASK_DROPPED');
  assert.match(u.message ?? '', /no-such-offer/);
});

test("a framework using another framework's offer is refused", async () => {
  const offer = await a.offer();
  b.driver.launch(offer.id!.value!, [commandTask(offer, { name: 'thief', taskId: 'thief', command: 'true', cpus: 0.1, mem: 16 })]);
  const u = await b.update('thief');
  assert.equal(taskStateName(u.state), 'TASK_DROPPED');
  a.driver.decline(offer.id!.value!, { refuseSeconds: 0 });
});

/** Sends raw bytes on a streaming method, as a broken or hostile peer would. */
function sendGarbage(address: string, path: string, frames: Buffer[]): Promise<string> {
  const Client = grpc.makeGenericClientConstructor({}, 'Raw');
  const client = new Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    const call = client.makeBidiStreamRequest(path, (b: Buffer) => b, (b: Buffer) => b, new grpc.Metadata(), { deadline: Date.now() + 5000 });
    call.on('data', () => {});
    call.on('error', (e: grpc.ServiceError) => { client.close(); resolve(`${grpc.status[e.code]}: ${e.details}`); });
    call.on('end', () => { client.close(); resolve('ended'); });
    for (const f of frames) call.write(f);
    call.end();
  });
}

function sendGarbageUnary(address: string, path: string, frame: Buffer): Promise<string> {
  const Client = grpc.makeGenericClientConstructor({}, 'Raw');
  const client = new Client(address, grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, frame, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null) => {
      client.close();
      resolve(err ? `${grpc.status[err.code]}: ${err.details}` : 'ok');
    });
  });
}

test('garbage and truncated protobuf on every endpoint is refused and nothing falls over', async () => {
  const garbage = Buffer.from('\xff\xff\xff\xff garbage that is not protobuf \x00\x01', 'latin1');
  const truncated = Buffer.from([0x0a, 0x40, 0x08, 0x01]); // a length-delimited field cut short
  const master = cluster.masterAddress;
  const agent = cluster.agents[0]!.address;
  const results = await Promise.all([
    sendGarbage(master, '/agora.v1.Scheduler/Connect', [garbage]),
    sendGarbage(master, '/agora.v1.Scheduler/Connect', [truncated]),
    sendGarbage(master, '/agora.v1.AgentLink/Connect', [garbage]),
    sendGarbage(master, '/agora.v1.AgentLink/Connect', [truncated]),
    sendGarbageUnary(master, '/agora.v1.Operator/GetTasks', garbage),
    sendGarbage(agent, '/agora.v1.Executor/Connect', [garbage]),
    sendGarbage(agent, '/agora.v1.Executor/Connect', [truncated]),
    sendGarbageUnary(agent, '/agora.v1.Files/Read', truncated),
  ]);
  for (const r of results) assert.notEqual(r, 'ok', 'garbage was not accepted as a valid request');
  // Both services keep serving: a real task still runs end to end.
  const offer = await a.offer();
  a.driver.launch(offer.id!.value!, [commandTask(offer, { name: 'after-garbage', taskId: 'after-garbage', command: 'echo fine', cpus: 0.1, mem: 16 })]);
  const u = await a.update('after-garbage', 'TASK_FINISHED');
  assert.equal(taskStateName(u.state), 'TASK_FINISHED');
  const op = new OperatorClient(master);
  assert.equal((await op.getHealth()).healthy, true);
  op.close();
});

/** Opens a raw scheduler stream, sends calls, and returns the first event batch's events. */
async function rawScheduler(calls: Call[]): Promise<Event[]> {
  const client = schedulerClient(cluster.masterAddress);
  const stream = client.connect();
  try {
    return await new Promise<Event[]>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no answer from the master')), 5000);
      stream.on('data', (batch: { events: Event[] }) => { clearTimeout(t); resolve(batch.events); });
      stream.on('error', (e: Error) => { clearTimeout(t); reject(e); });
      stream.write({ calls });
    });
  } finally {
    stream.cancel();
    client.close();
  }
}

test('calls before SUBSCRIBE, and SUBSCRIBE without a framework, get an ERROR event', async () => {
  const early = await rawScheduler([{ type: CallType.ACCEPT, frameworkId: { value: 'fw-nobody' }, accept: { offerIds: [{ value: 'x' }] } }]);
  assert.equal(early[0]?.type, EventType.ERROR);
  assert.match(early[0]?.error?.message ?? '', /SUBSCRIBE/);
  const empty = await rawScheduler([{ type: CallType.SUBSCRIBE, subscribe: {} }]);
  assert.equal(empty[0]?.type, EventType.ERROR);
  assert.match(empty[0]?.error?.message ?? '', /framework_info|frameworkInfo|name/);
  const unknown = await rawScheduler([{ type: CallType.SUBSCRIBE, subscribe: { frameworkInfo: { name: 'x', id: { value: 'fw-never-seen' } } } }]);
  assert.equal(unknown[0]?.type, EventType.ERROR);
  assert.match(unknown[0]?.error?.message ?? '', /fw-never-seen/);
});

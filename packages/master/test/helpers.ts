/** Raw gRPC clients that speak to a master the way schedulers and agents do, for tests. */
import {
  agora, agentLinkClient, schedulerClient, grpc, resources, newUuidBytes, AgentCallType, CallType, EventType, AgentEventType, type FakeClock,
  type AgentCall, type Call,
} from '@agora/core';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `pred` holds, advancing a fake clock (if given) a little each time. */
export async function until<T>(what: string, pred: () => T | undefined | false, clock?: FakeClock, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    clock?.advance(5);
    await sleep(3);
  }
}

class Inbox<E extends { type?: number | null }> {
  readonly events: E[] = [];
  ended = false;
  error: Error | undefined;

  /** Waits for (and removes) the first event matching. */
  take(what: string, pred: (e: E) => boolean, clock?: FakeClock): Promise<E> {
    return until(what, () => {
      const i = this.events.findIndex(pred);
      if (i < 0) return undefined;
      return this.events.splice(i, 1)[0];
    }, clock);
  }

  has(pred: (e: E) => boolean): boolean {
    return this.events.some(pred);
  }
}

export class TestScheduler extends Inbox<agora.v1.Event> {
  readonly client: ReturnType<typeof schedulerClient>;
  readonly call: ReturnType<ReturnType<typeof schedulerClient>['connect']>;
  frameworkId = '';

  constructor(readonly address: string) {
    super();
    this.client = schedulerClient(address);
    this.call = this.client.connect();
    this.call.on('data', (b: agora.v1.EventBatch) => this.events.push(...b.events as agora.v1.Event[]));
    this.call.on('error', (e: Error) => { this.error = e; });
    this.call.on('end', () => { this.ended = true; });
  }

  send(...calls: Call[]): void {
    this.call.write({ calls });
  }

  /** Sends a call stamped with this framework's ID. */
  do(call: Call): void {
    this.send({ frameworkId: { value: this.frameworkId }, ...call });
  }

  async subscribe(info: agora.v1.FrameworkInfo.$Properties = { name: 'test' }, clock?: FakeClock): Promise<string> {
    this.send({ type: CallType.SUBSCRIBE, subscribe: { frameworkInfo: info } });
    const e = await this.take('SUBSCRIBED', (x) => x.type === EventType.SUBSCRIBED || x.type === EventType.ERROR, clock);
    if (e.type === EventType.ERROR) throw new Error(e.error?.message ?? 'error');
    this.frameworkId = e.subscribed?.frameworkId?.value ?? '';
    return this.frameworkId;
  }

  async offers(clock?: FakeClock): Promise<agora.v1.Offer[]> {
    const e = await this.take('OFFERS', (x) => x.type === EventType.OFFERS, clock);
    return (e.offers?.offers ?? []) as agora.v1.Offer[];
  }

  update(pred: (s: agora.v1.TaskStatus) => boolean, clock?: FakeClock): Promise<agora.v1.TaskStatus> {
    return this.take('UPDATE', (x) => x.type === EventType.UPDATE && pred(x.update?.status as agora.v1.TaskStatus), clock).then((e) => e.update?.status as agora.v1.TaskStatus);
  }

  errorEvent(pattern: RegExp, clock?: FakeClock): Promise<string> {
    return this.take(`ERROR ${pattern}`, (x) => x.type === EventType.ERROR && pattern.test(x.error?.message ?? ''), clock).then((e) => e.error?.message ?? '');
  }

  launch(offerIds: string[], tasks: agora.v1.TaskInfo.$Properties[], refuseSeconds = 0): void {
    this.do({ type: CallType.ACCEPT, accept: { offerIds: offerIds.map((value) => ({ value })), operations: [{ type: 1, launch: { taskInfos: tasks } }], filters: { refuseSeconds } } });
  }

  close(): void {
    try { this.call.end(); } catch { /* gone */ }
    this.client.close();
  }
}

export class TestAgent extends Inbox<agora.v1.AgentEvent> {
  readonly client: ReturnType<typeof agentLinkClient>;
  call: ReturnType<ReturnType<typeof agentLinkClient>['connect']>;
  agentId = '';

  constructor(readonly address: string) {
    super();
    this.client = agentLinkClient(address);
    this.call = this.client.connect();
    this.wire();
  }

  private wire(): void {
    this.call.on('data', (b: agora.v1.AgentEventBatch) => this.events.push(...b.events as agora.v1.AgentEvent[]));
    this.call.on('error', (e: Error) => { this.error = e; });
    this.call.on('end', () => { this.ended = true; });
  }

  send(...calls: AgentCall[]): void {
    this.call.write({ calls });
  }

  async register(res = 'cpus:4;mem:1024;ports:[31000-31009]', extra: Partial<agora.v1.AgentCall.Register.$Properties> = {}, id?: string, clock?: FakeClock): Promise<string> {
    this.send({ type: AgentCallType.REGISTER, register: { agentInfo: { hostname: 'h', address: '127.0.0.1:1', resources: resources.parseResources(res), ...(id ? { id: { value: id } } : {}) }, ...extra } });
    const e = await this.take('REGISTERED', (x) => x.type === AgentEventType.REGISTERED || x.type === AgentEventType.ERROR, clock);
    if (e.type === AgentEventType.ERROR) throw new Error(e.error?.message ?? 'error');
    this.agentId = e.registered?.agentId?.value ?? '';
    return this.agentId;
  }

  status(frameworkId: string, taskId: string, state: number, uuid = newUuidBytes()): Uint8Array {
    this.send({ type: AgentCallType.STATUS_UPDATE, statusUpdate: { frameworkId: { value: frameworkId }, status: { taskId: { value: taskId }, state, uuid, source: 2, agentId: { value: this.agentId }, timestamp: Date.now() / 1000 } } });
    return uuid;
  }

  close(): void {
    try { this.call.end(); } catch { /* gone */ }
    this.client.close();
  }
}

/** A raw stream that sends arbitrary bytes to a method (garbage on the wire). */
export function rawStream(address: string, method: string): { call: grpc.ClientDuplexStream<Buffer, Buffer>; status: Promise<grpc.StatusObject>; client: grpc.Client } {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const call = client.makeBidiStreamRequest(method, (b: Buffer) => b, (b: Buffer) => b);
  call.on('data', () => {});
  call.on('error', () => {});
  const status = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  return { call, status, client };
}

/**
 * Small fake master (Scheduler service) and fake agent (Executor service) for the drivers' unit
 * tests. They speak the real wire protocol over real loopback gRPC, but hold no logic beyond
 * what a test tells them to do.
 */
import {
  EventType,
  ExecutorEventType,
  ExecutorService,
  SchedulerService,
  bindServer,
  grpc,
  newServer,
  stopServer,
  type Call,
  type Event,
  type ExecutorCall,
  type ExecutorEvent,
  type agora,
} from '@agora/core';

type SchedStream = grpc.ServerDuplexStream<agora.v1.CallBatch, agora.v1.EventBatch.$Properties>;
type ExecStream = grpc.ServerDuplexStream<agora.v1.ExecutorCallBatch, agora.v1.ExecutorEventBatch.$Properties>;

/** Resolves when `pred` holds, polling; rejects after `ms` with `what` in the message. */
export async function until<T>(what: string, fn: () => T | undefined | false, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A free loopback port nobody listens on (bound, then released). */
export async function deadAddress(): Promise<string> {
  const s = newServer();
  s.addService(SchedulerService, { connect: () => undefined });
  const port = await bindServer(s, '127.0.0.1', 0);
  await stopServer(s, 0);
  return `127.0.0.1:${port}`;
}

export interface FakeMasterOptions {
  /** Reply to SUBSCRIBE: undefined = accept; a string = ERROR with it, then close. */
  refuse?: (call: Call) => string | undefined;
  heartbeatSeconds?: number;
  /** Send HEARTBEAT events every heartbeatSeconds. @default true */
  heartbeats?: boolean;
}

/** A master that accepts subscriptions (framework ID `fw-1` unless re-subscribing) and records every call. */
export class FakeMaster {
  readonly server = newServer();
  address = '';
  readonly streams: SchedStream[] = [];
  /** Every call received, with the index of the stream it came on and when (ms). */
  readonly calls: { stream: number; call: Call; at: number }[] = [];
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly options: FakeMasterOptions = {}) {
    this.server.addService(SchedulerService, {
      connect: (stream: SchedStream) => {
        const index = this.streams.push(stream) - 1;
        stream.on('error', () => undefined);
        stream.on('data', (batch: agora.v1.CallBatch) => {
          for (const call of batch.calls) this.onCall(index, stream, call);
        });
        stream.on('end', () => stream.end());
      },
    });
  }

  async start(): Promise<this> {
    const port = await bindServer(this.server, '127.0.0.1', 0);
    this.address = `127.0.0.1:${port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await stopServer(this.server, 0);
  }

  private onCall(index: number, stream: SchedStream, call: Call): void {
    this.calls.push({ stream: index, call, at: Date.now() });
    if (call.type === 2 /* TEARDOWN */) stream.end();
    if (call.type !== 1 /* SUBSCRIBE */) return;
    const refusal = this.options.refuse?.(call);
    if (refusal) {
      stream.write({ events: [{ type: EventType.ERROR, error: { message: refusal } }] });
      stream.end();
      return;
    }
    const id = call.subscribe?.frameworkInfo?.id?.value || 'fw-1';
    const hb = this.options.heartbeatSeconds ?? 5;
    stream.write({ events: [{ type: EventType.SUBSCRIBED, subscribed: { frameworkId: { value: id }, heartbeatIntervalSeconds: hb, masterInfo: { id: 'm-1', address: this.address, leader: true } } }] });
    if (this.options.heartbeats ?? true) {
      const t = setInterval(() => { if (!stream.destroyed && stream.writable) stream.write({ events: [{ type: EventType.HEARTBEAT }] }); }, hb * 1000);
      this.timers.push(t);
      stream.on('close', () => clearInterval(t));
    }
  }

  /** Sends events on the latest stream. */
  send(...events: Event[]): void {
    const s = this.streams[this.streams.length - 1];
    if (!s) throw new Error('no stream');
    s.write({ events });
  }

  /** Ends the latest stream (as a master that lost the connection would). */
  drop(): void {
    this.streams[this.streams.length - 1]?.end();
  }

  /** Calls of one type, in order. */
  callsOf(type: number): Call[] {
    return this.calls.filter((c) => c.call.type === type).map((c) => c.call);
  }
}

/** An agent's Executor service: answers SUBSCRIBE, acknowledges updates unless told not to. */
export class FakeAgent {
  readonly server = newServer();
  address = '';
  readonly streams: ExecStream[] = [];
  readonly calls: { stream: number; call: ExecutorCall }[] = [];
  autoAck = true;

  constructor() {
    this.server.addService(ExecutorService, {
      connect: (stream: ExecStream) => {
        const index = this.streams.push(stream) - 1;
        stream.on('error', () => undefined);
        stream.on('data', (batch: agora.v1.ExecutorCallBatch) => {
          for (const call of batch.calls) this.onCall(index, stream, call);
        });
        stream.on('end', () => stream.end());
      },
    });
  }

  async start(): Promise<this> {
    const port = await bindServer(this.server, '127.0.0.1', 0);
    this.address = `127.0.0.1:${port}`;
    return this;
  }

  stop(): Promise<void> {
    return stopServer(this.server, 0);
  }

  private onCall(index: number, stream: ExecStream, call: ExecutorCall): void {
    this.calls.push({ stream: index, call });
    if (call.type === 1 /* SUBSCRIBE */) {
      stream.write({ events: [{ type: ExecutorEventType.SUBSCRIBED, subscribed: {
        executorInfo: { executorId: call.executorId ?? {} }, frameworkInfo: { id: call.frameworkId ?? {}, name: 'fw' }, agentInfo: { id: { value: 'agent-1' }, hostname: 'h' },
      } }] });
    } else if (call.type === 2 /* UPDATE */ && this.autoAck) {
      const st = call.update?.status;
      stream.write({ events: [{ type: ExecutorEventType.ACKNOWLEDGED, acknowledged: { taskId: st?.taskId ?? {}, uuid: st?.uuid ?? new Uint8Array() } }] });
    }
  }

  send(...events: ExecutorEvent[]): void {
    this.streams[this.streams.length - 1]?.write({ events });
  }

  drop(): void {
    this.streams[this.streams.length - 1]?.end();
  }

  callsOf(type: number): ExecutorCall[] {
    return this.calls.filter((c) => c.call.type === type).map((c) => c.call);
  }
}

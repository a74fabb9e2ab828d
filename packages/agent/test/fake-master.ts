/**
 * A tiny fake master for the agent's unit tests: serves AgentLink, records every call, answers
 * REGISTER with REGISTERED, and lets the test push events (RUN_TASK, KILL_TASK, ACKNOWLEDGE …).
 * Fakes live in tests only (CONVENTIONS §8).
 */
import {
  AgentCallType,
  AgentEventType,
  AgentLinkService,
  BatchWriter,
  TaskState,
  bindServer,
  newServer,
  stopServer,
  taskStateName,
  uuidHex,
  type AgentEvent,
  type TaskInfo,
  type TaskStatus,
  type agora,
  type grpc,
} from '@agora/core';

type Stream = grpc.ServerDuplexStream<agora.v1.AgentCallBatch, agora.v1.AgentEventBatch.$Properties>;
export type Call = agora.v1.AgentCall.$Properties;

export interface Update { frameworkId: string; status: TaskStatus }

export class FakeMaster {
  readonly calls: Call[] = [];
  readonly registrations: agora.v1.AgentCall.Register.$Properties[] = [];
  readonly updates: Update[] = [];
  address = '';
  /** Acknowledge every update with a uuid at once. */
  autoAck = true;
  /** ID handed to agents registering without one. */
  nextId = 'agent-fake-1';
  heartbeatIntervalSeconds = 5;
  /** Answer REGISTER as a master does for an agent it marked gone: SHUTDOWN, then ERROR. */
  refuseAsGone = false;
  private server = newServer();
  private stream: Stream | undefined;
  private writer: BatchWriter<AgentEvent, agora.v1.AgentEventBatch.$Properties> | undefined;
  private waiters: Array<() => void> = [];

  async start(port = 0): Promise<this> {
    this.server = newServer();
    this.server.addService(AgentLinkService, { connect: (s: Stream) => this.onStream(s) });
    const bound = await bindServer(this.server, '127.0.0.1', port);
    this.address = `127.0.0.1:${bound}`;
    return this;
  }

  private onStream(s: Stream): void {
    this.stream = s;
    const writer = new BatchWriter<AgentEvent, agora.v1.AgentEventBatch.$Properties>(s, (events) => ({ events }));
    this.writer = writer;
    s.on('data', (batch: agora.v1.AgentCallBatch) => {
      for (const c of batch.calls) {
        this.calls.push(c);
        if (c.type === AgentCallType.REGISTER) {
          this.registrations.push(c.register ?? {});
          if (this.refuseAsGone) {
            writer.send({ type: AgentEventType.SHUTDOWN });
            writer.send({ type: AgentEventType.ERROR, error: { message: 'agent was marked gone' } });
            continue;
          }
          const id = c.register?.agentInfo?.id?.value || this.nextId;
          writer.send({ type: AgentEventType.REGISTERED, registered: { agentId: { value: id }, masterInfo: { id: 'm', address: this.address }, heartbeatIntervalSeconds: this.heartbeatIntervalSeconds } });
        } else if (c.type === AgentCallType.STATUS_UPDATE) {
          const u = { frameworkId: c.statusUpdate?.frameworkId?.value ?? '', status: c.statusUpdate?.status ?? {} };
          this.updates.push(u);
          if (this.autoAck && u.status.uuid && u.status.uuid.length > 0) this.ack(u.frameworkId, u.status);
        }
      }
      this.notify();
    });
    s.on('error', () => {});
    s.on('end', () => { if (this.stream === s) { this.stream = undefined; } s.end(); this.notify(); });
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves when `pred` holds (checked after every received batch). */
  async waitFor<T>(what: string, pred: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred();
      if (v) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; updates: ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  describe(): string {
    return this.updates.map((u) => `${u.status.taskId?.value}:${taskStateName(u.status.state)}`).join(', ');
  }

  /** States of a task's updates, in arrival order. */
  states(taskId: string): string[] {
    return this.updates.filter((u) => u.status.taskId?.value === taskId).map((u) => taskStateName(u.status.state).replace('TASK_', ''));
  }

  /** The first update of a task in the given state. */
  waitState(taskId: string, state: TaskState, timeoutMs = 5000): Promise<TaskStatus> {
    return this.waitFor(`${taskId} ${taskStateName(state)}`, () => this.updates.find((u) => u.status.taskId?.value === taskId && u.status.state === state)?.status, timeoutMs);
  }

  send(ev: AgentEvent): void {
    if (!this.writer) throw new Error('no agent connected');
    this.writer.send(ev);
  }

  ack(frameworkId: string, status: TaskStatus): void {
    this.send({ type: AgentEventType.ACKNOWLEDGE, acknowledge: { frameworkId: { value: frameworkId }, taskId: status.taskId ?? {}, uuid: status.uuid ?? new Uint8Array() } });
  }

  run(task: TaskInfo, frameworkId = 'fw-1', capabilities: number[] = []): void {
    this.send({ type: AgentEventType.RUN_TASK, runTask: { framework: { id: { value: frameworkId }, name: 'test', capabilities }, task } });
  }

  kill(taskId: string, gracePeriodSeconds?: number, frameworkId = 'fw-1'): void {
    this.send({ type: AgentEventType.KILL_TASK, killTask: { frameworkId: { value: frameworkId }, taskId: { value: taskId }, ...(gracePeriodSeconds !== undefined ? { killPolicy: { gracePeriodSeconds } } : {}) } });
  }

  get connected(): boolean {
    return this.stream !== undefined;
  }

  /** Cuts the agent's stream (as a master crash would). */
  dropStream(): void {
    const s = this.stream;
    this.stream = undefined;
    this.writer?.close();
    s?.end();
  }

  async stop(): Promise<void> {
    this.writer?.close();
    this.server.forceShutdown();
    await stopServer(this.server, 10);
  }

  uuidsOf(taskId: string): string[] {
    return this.updates.filter((u) => u.status.taskId?.value === taskId).map((u) => uuidHex(u.status.uuid));
  }
}

/** A command task (shell by default). */
export function commandTask(taskId: string, command: string, extra: Partial<TaskInfo> = {}): TaskInfo {
  return { name: taskId, taskId: { value: taskId }, agentId: { value: 'agent-fake-1' }, command: { value: command }, resources: [], ...extra };
}

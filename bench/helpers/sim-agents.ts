/**
 * Simulated agents for the failover bench: raw AgentLink streams in this process (as in
 * bench/launch.ts, no forking), one per agent, that behave like the real agent's MasterLink
 * (packages/agent/src/master-link.ts) where failover is concerned:
 *
 *  - they know every master and follow a standby's refusal `not leader; leader is HOST:PORT`
 *    (else go on to the next master of the list);
 *  - they reconnect with the same backoff as the agent: DEFAULTS.reconnectMinMs doubling to
 *    DEFAULTS.reconnectMaxMs with ±20 % jitter, reset by a REGISTERED; while standbys refuse,
 *    a named leader is tried at once (the next redirect in a row waits for the backoff) and
 *    otherwise the delay stays capped at 500 ms;
 *  - every attempt sends REGISTER with agent_info.id (once known) and every task they run, with
 *    its latest state and status uuid, and the frameworks of those tasks;
 *  - they heartbeat at the interval REGISTERED names and answer PING.
 *
 * `policy: 'sdk'` changes one thing, as a what-if: every standby refusal resets the backoff to
 * its minimum, as the SDK's SchedulerDriver does (packages/sdk/src/scheduler-driver.ts).
 *
 * A RUN_TASK is answered at once with TASK_RUNNING (nothing is forked); KILL_TASK with TASK_KILLED.
 * Streams share a few gRPC channels per master (one HTTP/2 connection per ≤ STREAMS_PER_CHANNEL
 * agents) so that 10k agents do not open 30k sockets.
 */
import {
  AgentCallType, AgentEventType, BatchWriter, DEFAULTS, TaskState, VERSION, agentLinkClient, grpc, newUuidBytes, resources as R,
  type AgentCall, type AgentEvent, type AgentLinkClient, type agora,
} from '@agora/core';

const STREAMS_PER_CHANNEL = 1000;
const REGISTRATION_TIMEOUT_MS = 10_000;

type Stream = ReturnType<AgentLinkClient['connect']>;
type Task = agora.v1.Task.$Properties;
type FrameworkInfo = agora.v1.FrameworkInfo.$Properties;

export interface SimFleetOptions {
  /** Every master (host:port); agents start with the first and walk the list. */
  masters: string[];
  /** Resources of each agent, e.g. 'cpus:8;mem:16384'. */
  resources: string;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /**
   * 'agent' (default): exactly the agent's MasterLink — a refusal naming a leader resets the
   * backoff, one naming none caps it at 500 ms. 'sdk': what the SDK's SchedulerDriver does —
   * any `not leader` refusal resets the backoff to its minimum.
   */
  policy?: 'agent' | 'sdk';
}

/** What the agents saw. */
export interface SimFleetStats {
  registered: number;
  /** REGISTERED received (first registrations and re-registrations). */
  registrations: number;
  /** Connect attempts refused by a standby (with or without a leader named). */
  refusals: number;
  /** Refusals that named a leader, followed next. */
  redirects: number;
}

class SimAgent {
  id = '';
  readonly tasks = new Map<string, Task>();
  readonly frameworks = new Map<string, FrameworkInfo>();
  stream: Stream | undefined;
  writer: BatchWriter<AgentCall, agora.v1.AgentCallBatch.$Properties> | undefined;
  registeredOn: string | undefined;
  /** performance.now() of the latest REGISTERED. */
  registeredAt = 0;
  backoffMs: number;
  next = 0;
  redirect: string | undefined;
  /** The current attempt follows a redirect (MasterLink's `following`). */
  following = false;
  timers = new Set<NodeJS.Timeout>();

  constructor(readonly index: number, readonly hostname: string, readonly address: string, min: number) {
    this.backoffMs = min;
  }
}

export class SimFleet {
  readonly agents: SimAgent[] = [];
  readonly stats: SimFleetStats = { registered: 0, registrations: 0, refusals: 0, redirects: 0 };
  private readonly channels = new Map<string, AgentLinkClient[]>();
  private readonly res: agora.v1.Resource.$Properties[];
  private readonly min: number;
  private readonly max: number;
  private stopped = false;
  private waiters = new Set<() => void>();

  constructor(private readonly o: SimFleetOptions) {
    this.res = R.parseResources(o.resources);
    this.min = o.reconnectMinMs ?? DEFAULTS.reconnectMinMs;
    this.max = o.reconnectMaxMs ?? DEFAULTS.reconnectMaxMs;
  }

  /** Adds and connects `count` agents in waves of `wave`, each wave registered before the next. */
  async add(count: number, wave = 500, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let done = 0; done < count; done += wave) {
      const n = Math.min(wave, count - done);
      const batch: SimAgent[] = [];
      for (let k = 0; k < n; k++) {
        const i = this.agents.length;
        const a = new SimAgent(i, `sim-${i}`, `127.0.0.2:${10000 + i}`, this.min);
        this.agents.push(a);
        batch.push(a);
        this.connect(a);
      }
      await this.until(() => batch.every((a) => a.registeredOn !== undefined), deadline - Date.now(), `${this.agents.length} simulated agents to register`);
    }
  }

  /** Agents registered right now. */
  registeredCount(): number {
    let n = 0;
    for (const a of this.agents) if (a.registeredOn) n++;
    return n;
  }

  /** Tasks the agents run right now. */
  taskCount(): number {
    let n = 0;
    for (const a of this.agents) n += a.tasks.size;
    return n;
  }

  /** Latest REGISTERED of every agent when all are registered with `master` (performance.now()), else undefined. */
  allRegisteredWith(master: string): number | undefined {
    let last = 0;
    for (const a of this.agents) {
      if (a.registeredOn !== master) return undefined;
      last = Math.max(last, a.registeredAt);
    }
    return last;
  }

  /** Resolves when pred holds (checked on every agent event and every 50 ms). */
  until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => { if (pred()) { done(); resolve(); } };
      const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}`)); }, Math.max(0, timeoutMs));
      const poll = setInterval(check, 50);
      const done = (): void => { clearTimeout(timer); clearInterval(poll); this.waiters.delete(check); };
      this.waiters.add(check);
      check();
    });
  }

  /** Ends every stream and closes every channel. */
  close(): void {
    this.stopped = true;
    for (const a of this.agents) {
      for (const t of a.timers) clearTimeout(t);
      a.timers.clear();
      if (a.stream) { a.stream.on('error', () => {}); try { a.stream.cancel(); } catch { /* closed */ } }
    }
    for (const list of this.channels.values()) for (const c of list) c.close();
    this.channels.clear();
  }

  private channel(address: string, index: number): AgentLinkClient {
    let list = this.channels.get(address);
    if (!list) { list = []; this.channels.set(address, list); }
    const k = Math.floor(index / STREAMS_PER_CHANNEL);
    while (list.length <= k) list.push(agentLinkClient(address));
    return list[k]!;
  }

  private later(a: SimAgent, ms: number, fn: () => void): NodeJS.Timeout {
    const t = setTimeout(() => { a.timers.delete(t); fn(); }, ms);
    a.timers.add(t);
    return t;
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }

  private registerCall(a: SimAgent): AgentCall {
    const agentInfo = { hostname: a.hostname, address: a.address, resources: this.res, ...(a.id ? { id: { value: a.id } } : {}) };
    return {
      type: AgentCallType.REGISTER,
      ...(a.id ? { agentId: { value: a.id } } : {}),
      register: { agentInfo, tasks: [...a.tasks.values()], frameworks: [...a.frameworks.values()], version: VERSION },
    };
  }

  private connect(a: SimAgent): void {
    if (this.stopped) return;
    let address: string;
    a.following = a.redirect !== undefined;
    if (a.redirect) { address = a.redirect; a.redirect = undefined; }
    else { address = this.o.masters[a.next % this.o.masters.length]!; a.next++; }
    const stream = this.channel(address, a.index).connect();
    const writer = new BatchWriter<AgentCall, agora.v1.AgentCallBatch.$Properties>(stream, (calls) => ({ calls }));
    a.stream = stream;
    a.writer = writer;
    stream.on('data', (batch: { events?: AgentEvent[] }) => {
      for (const ev of batch.events ?? []) {
        if (a.stream !== stream) return;
        this.onEvent(a, stream, address, ev);
      }
    });
    stream.on('error', (err: Error & { code?: number; details?: string }) => {
      if (a.stream !== stream) return;
      const m = err.code === grpc.status.UNAVAILABLE ? /not leader; (leader is (\S+))?/.exec(err.details ?? err.message ?? '') : null;
      if (m) {
        this.stats.refusals++;
        if (m[2]) { this.stats.redirects++; a.redirect = m[2]; }
        if (this.o.policy === 'sdk' || m[2]) a.backoffMs = this.min;
        else a.backoffMs = Math.min(a.backoffMs, 500);
      }
      this.drop(a, stream);
    });
    stream.on('end', () => this.drop(a, stream));
    const regTimer = this.later(a, REGISTRATION_TIMEOUT_MS, () => { if (a.stream === stream && !a.registeredOn) this.drop(a, stream); });
    stream.once('data', () => clearTimeout(regTimer));
    writer.send(this.registerCall(a));
  }

  private onEvent(a: SimAgent, stream: Stream, address: string, ev: AgentEvent): void {
    const out = a.writer!;
    switch (ev.type) {
      case AgentEventType.REGISTERED: {
        a.id = ev.registered?.agentId?.value ?? a.id;
        if (!a.registeredOn) this.stats.registered++;
        a.registeredOn = address;
        a.registeredAt = performance.now();
        a.backoffMs = this.min;
        this.stats.registrations++;
        const every = (ev.registered?.heartbeatIntervalSeconds ?? 5) * 1000 || 5000;
        const beat = (): void => {
          if (a.stream !== stream) return;
          out.send({ type: AgentCallType.HEARTBEAT, agentId: { value: a.id } });
          this.later(a, every, beat);
        };
        this.later(a, every, beat);
        this.notify();
        return;
      }
      case AgentEventType.PING:
        out.send({ type: AgentCallType.HEARTBEAT, agentId: { value: a.id } });
        return;
      case AgentEventType.RUN_TASK: {
        const fw = ev.runTask!.framework!;
        const info = ev.runTask!.task!;
        const fid = fw.id?.value ?? '';
        const tid = info.taskId?.value ?? '';
        const uuid = newUuidBytes();
        a.frameworks.set(fid, fw);
        a.tasks.set(`${fid}/${tid}`, {
          name: info.name ?? '', taskId: { value: tid }, frameworkId: { value: fid }, executorId: { value: tid }, agentId: { value: a.id },
          state: TaskState.TASK_RUNNING, resources: info.resources ?? [], statuses: [], statusUpdateUuid: uuid, statusUpdateState: TaskState.TASK_RUNNING,
          launchedAt: Date.now() / 1000,
        });
        this.status(a, fid, tid, TaskState.TASK_RUNNING, uuid);
        this.notify();
        return;
      }
      case AgentEventType.KILL_TASK: {
        const fid = ev.killTask?.frameworkId?.value ?? '';
        const tid = ev.killTask?.taskId?.value ?? '';
        if (a.tasks.delete(`${fid}/${tid}`)) this.status(a, fid, tid, TaskState.TASK_KILLED, newUuidBytes());
        return;
      }
      case AgentEventType.SHUTDOWN_FRAMEWORK: {
        const fid = ev.shutdownFramework?.frameworkId?.value ?? '';
        for (const [k, t] of a.tasks) if (t.frameworkId?.value === fid) a.tasks.delete(k);
        a.frameworks.delete(fid);
        return;
      }
      case AgentEventType.ERROR:
        if (!a.registeredOn) this.drop(a, stream);
        return;
      default:
        return; // ACKNOWLEDGE and the rest: nothing to do for a simulated agent.
    }
  }

  private status(a: SimAgent, fid: string, tid: string, state: TaskState, uuid: Uint8Array): void {
    a.writer?.send({
      type: AgentCallType.STATUS_UPDATE,
      agentId: { value: a.id },
      statusUpdate: { frameworkId: { value: fid }, status: { taskId: { value: tid }, state, uuid, agentId: { value: a.id }, timestamp: Date.now() / 1000, source: 2 } },
    });
  }

  /** Forgets a stream and schedules the next attempt with the agent's backoff. */
  private drop(a: SimAgent, stream: Stream): void {
    if (a.stream !== stream) return;
    a.stream = undefined;
    a.writer?.close();
    a.writer = undefined;
    stream.on('error', () => {});
    try { stream.cancel(); } catch { /* closed */ }
    for (const t of a.timers) clearTimeout(t);
    a.timers.clear();
    if (a.registeredOn) this.stats.registered--;
    a.registeredOn = undefined;
    this.notify();
    if (this.stopped) return;
    const delay = a.redirect && !a.following ? 0 : Math.round(a.backoffMs * (0.8 + Math.random() * 0.4));
    if (delay > 0) a.backoffMs = Math.min(a.backoffMs * 2, this.max);
    this.later(a, delay, () => this.connect(a));
  }
}

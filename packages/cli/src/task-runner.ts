/**
 * `agora task run`: a tiny framework that launches one command task and follows it to the end.
 *
 * It subscribes with failover timeout 0, so if this process dies the master tears the framework
 * down and kills the task: the task never outlives the command that owns it.
 */
import { hostname } from 'node:os';
import {
  FrameworkCapability, OperatorClient, TaskState, idOf, isTerminalState, resources, taskStateName, reasonName,
  type Offer, type TaskStatus,
} from '@agora/core';
import { UserError, oneLine } from './errors.js';
import { loadSdk, type SchedulerDriverLike, type SchedulerEvent, type SdkLike } from './peers.js';
import { Progress } from './progress.js';
import { SandboxFollower } from './sandbox-follower.js';
import type { TaskSpec } from './task-spec.js';

/** Exit code after Ctrl-C (128 + SIGINT), as shells report it. */
export const INTERRUPTED_EXIT_CODE = 130;

export interface RunTaskOptions {
  masters: string[];
  spec: TaskSpec;
  /** JSON lines on stdout instead of text. */
  json: boolean;
  /** Seconds to wait for a fitting offer before giving up (0: forever). @default 0 */
  offerTimeoutSeconds?: number;
  /** Say why no task runs yet after this long. @default 3000 */
  waitNoticeMs?: number;
  /** @default the real @agora/sdk (unit tests pass a fake driver) */
  sdk?: SdkLike;
  /** Where output goes. @default process.stdout / process.stderr */
  io?: { stdout: Sink; stderr: Sink };
}

/** What output is written to. */
export interface Sink { write(data: string | Uint8Array): unknown }

/** Where `task run` writes: text (task stdout → stdout, the rest → stderr) or JSON lines. */
class Output {
  private readonly stdout: Sink;
  private readonly stderr: Sink;

  constructor(private readonly json: boolean, private readonly progress: Progress, io?: { stdout: Sink; stderr: Sink }) {
    this.stdout = io?.stdout ?? process.stdout;
    this.stderr = io?.stderr ?? process.stderr;
  }

  event(kind: string, fields: Record<string, unknown>, text?: string): void {
    this.progress.clear();
    if (this.json) this.stdout.write(`${JSON.stringify({ event: kind, ...fields })}\n`);
    else if (text !== undefined) this.stderr.write(`${text}\n`);
  }

  data(stream: 'stdout' | 'stderr', data: Uint8Array): void {
    this.progress.clear();
    if (this.json) this.stdout.write(`${JSON.stringify({ event: stream, data: Buffer.from(data).toString('utf8') })}\n`);
    else (stream === 'stdout' ? this.stdout : this.stderr).write(data);
  }

  note(message: string): void {
    this.event('note', { message }, `agora: ${message}`);
  }
}

/** Exit code for a terminal status: the process's own code, else 1. */
export function exitCodeOf(status: TaskStatus): number {
  if (status.state === TaskState.TASK_FINISHED) return 0;
  const code = status.exitCode;
  if (typeof code === 'number' && code > 0 && code < 256) return code;
  return 1;
}

/** Launches the task, follows it and resolves with the exit code the command should exit with. */
export async function runTask(options: RunTaskOptions): Promise<number> {
  return new TaskRun(options, options.sdk ?? (await loadSdk())).run();
}

class TaskRun {
  private readonly spec: TaskSpec;
  private readonly progress = new Progress();
  private readonly out: Output;
  private driver!: SchedulerDriverLike;
  private frameworkId = '';
  private launched: { agentId: string; hostname: string; at: number } | undefined;
  private terminal = false;
  private interrupted = false;
  private followers: SandboxFollower[] | undefined;
  private followersReady: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  private offersSeen = 0;
  private readonly lastOfferByAgent = new Map<string, Offer>();
  private lastReason = '';
  private finishCode: ((code: number) => void) | undefined;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly options: RunTaskOptions, private readonly sdk: SdkLike) {
    this.spec = options.spec;
    this.out = new Output(options.json, this.progress, options.io);
  }

  private get need(): { cpus?: number; mem?: number; disk?: number; ports?: number } {
    const n: { cpus?: number; mem?: number; disk?: number; ports?: number } = {};
    if (this.spec.cpus > 0) n.cpus = this.spec.cpus;
    if (this.spec.mem > 0) n.mem = this.spec.mem;
    if (this.spec.disk) n.disk = this.spec.disk;
    if (this.spec.ports) n.ports = this.spec.ports;
    return n;
  }

  private get needText(): string {
    return Object.entries(this.need).map(([k, v]) => `${k}:${v}`).join(';');
  }

  async run(): Promise<number> {
    const { SchedulerDriver } = this.sdk;
    this.driver = new SchedulerDriver({
      master: this.options.masters.length === 1 ? (this.options.masters[0] as string) : this.options.masters,
      framework: {
        // No user: the agent picks one (an unprivileged user of the task's own on a root agent).
        name: `agora task run (${this.spec.name})`,
        hostname: hostname(),
        failoverTimeoutSeconds: 0,
        roles: [this.spec.role],
        capabilities: [FrameworkCapability.TASK_KILLING_STATE],
      },
      autoAcknowledge: true,
      connectTimeoutMs: 8_000,
    });
    const finished = new Promise<number>((resolve) => { this.finishCode = resolve; });
    const onSignal = (): void => this.interrupt();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let failure: unknown;
    // Consume events from before start(): offers may come right after SUBSCRIBED.
    const loop = this.consume().catch((err) => { failure = err; this.finish(1); });
    try {
      this.progress.update(`subscribing to ${this.options.masters.join(',')} …`);
      this.frameworkId = await withTimeout(this.driver.start(), 10_000, () => new UserError(`the master at ${this.options.masters.join(',')} did not accept the framework within 10 s`));
      this.out.event('subscribed', { frameworkId: this.frameworkId, taskId: this.spec.taskId });
      this.progress.update(`waiting for an offer with ${this.needText} …`);
      this.timers.push(setInterval(() => void this.explainWait(), Math.min(1000, this.options.waitNoticeMs ?? 1000)));
      if (this.options.offerTimeoutSeconds) {
        this.timers.push(setTimeout(() => {
          if (this.launched) return;
          failure = new UserError(`no offer with ${this.needText} came within ${this.options.offerTimeoutSeconds} s${this.lastReason ? ` (${this.lastReason})` : ''}`);
          this.finish(1);
        }, this.options.offerTimeoutSeconds * 1000));
      }
    } catch (err) {
      failure = err instanceof UserError ? err : new UserError(`the master refused the framework: ${oneLine(err)}`);
      this.finish(1);
    }
    const code = await finished;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await this.cleanup();
    void loop;
    if (failure) throw failure instanceof UserError ? failure : new UserError(oneLine(failure));
    return code;
  }

  private async consume(): Promise<void> {
    for await (const ev of this.driver.events()) {
      if (this.finishCode === undefined) break;
      await this.onEvent(ev);
    }
  }

  private async onEvent(ev: SchedulerEvent): Promise<void> {
    switch (ev.type) {
      case 'offers':
        this.onOffers(ev.offers);
        break;
      case 'update':
        await this.onUpdate(ev.status);
        break;
      case 'error':
        // Errors before subscription reject start(); after it, they end the run.
        if (this.frameworkId) {
          this.out.note(`the master reported: ${ev.message}`);
          if (!this.launched) this.finish(1);
        }
        break;
      case 'disconnected':
        if (!this.terminal) this.out.note('lost the connection to the master; reconnecting …');
        break;
      case 'failure':
        if (ev.executorId === this.spec.taskId) this.out.note(`the executor of ${this.spec.taskId} on ${ev.agentId} ended${ev.status !== undefined ? ` with status ${ev.status}` : ''}`);
        break;
      default:
        break;
    }
  }

  private onOffers(offers: Offer[]): void {
    const { commandTask, offerFits } = this.sdk;
    for (const offer of offers) {
      const offerId = idOf(offer.id);
      this.offersSeen++;
      this.lastOfferByAgent.set(idOf(offer.agentId), offer);
      if (!this.launched && !this.interrupted && offerFits(offer, this.need)) {
        const s = this.spec;
        const task = commandTask(offer, {
          name: s.name, taskId: s.taskId, command: s.command, cpus: s.cpus, mem: s.mem, disk: s.disk, ports: s.ports,
          env: s.env, uris: s.uris,
        });
        this.launched = { agentId: idOf(offer.agentId), hostname: offer.hostname ?? '', at: Date.now() };
        this.driver.launch(offerId, [task]);
        this.progress.update(`launching ${s.taskId} on ${this.launched.hostname || this.launched.agentId} …`);
        this.out.event('launched', { taskId: s.taskId, agentId: this.launched.agentId, hostname: this.launched.hostname, offerId });
      } else {
        // Before launching: see new offers again soon. After: leave the resources to others.
        this.driver.decline(offerId, { refuseSeconds: this.launched ? 60 : 1 });
      }
    }
  }

  /** Tells the user, once per reason, why no task is running yet. */
  private async explainWait(): Promise<void> {
    if (this.launched || this.finishCode === undefined || Date.now() - this.startedAt < (this.options.waitNoticeMs ?? 3000)) return;
    let reason: string;
    if (this.offersSeen === 0) {
      const client = new OperatorClient(this.options.masters[0] as string, 2000);
      try {
        const agents = (await client.getAgents()).agents ?? [];
        const active = agents.filter((a) => a.active).length;
        reason = active === 0 ? `no agent is registered with the master (start one: agora agent --master ${this.options.masters[0]})` : `no offers yet (${active} agent${active === 1 ? '' : 's'}, resources in use or held by other frameworks)`;
      } catch {
        reason = 'no offers yet (cannot ask the master about its agents)';
      } finally {
        client.close();
      }
    } else {
      const seen = [...this.lastOfferByAgent.values()].slice(0, 3).map((o) => `${o.hostname || idOf(o.agentId)} offers ${resources.formatResources(resources.stripAllocation(o.resources ?? []))}`);
      reason = `no offer fits ${this.needText}: ${seen.join('; ')}`;
    }
    if (this.launched || reason === this.lastReason) return;
    this.lastReason = reason;
    this.out.event('waiting', { reason }, `agora: waiting: ${reason}`);
    this.progress.update(`waiting for an offer with ${this.needText} …`);
  }

  private async onUpdate(status: TaskStatus): Promise<void> {
    if (idOf(status.taskId) !== this.spec.taskId || this.terminal) return;
    const state = status.state ?? TaskState.TASK_UNKNOWN;
    const agentId = idOf(status.agentId) || this.launched?.agentId || '';
    const where = agentId ? ` on ${agentId}${this.launched?.hostname ? ` (${this.launched.hostname})` : ''}` : '';
    const detail = status.message ? `: ${status.message}` : '';
    const fields = {
      taskId: this.spec.taskId, state: taskStateName(state), agentId, message: status.message || undefined,
      reason: status.reason ? reasonName(status.reason) : undefined, exitCode: typeof status.exitCode === 'number' ? status.exitCode : undefined,
    };
    if (!isTerminalState(state)) {
      this.out.event('status', fields, `task ${this.spec.name}: ${taskStateName(state)}${where}${detail}`);
      if (state === TaskState.TASK_STARTING || state === TaskState.TASK_RUNNING) await this.startFollowers(agentId);
      if (state === TaskState.TASK_RUNNING) this.progress.update(`${this.spec.taskId} running${where} (Ctrl-C kills it)`);
      return;
    }
    this.terminal = true;
    // The master answers invalid tasks itself; anything else ran on the agent and left output.
    if (state !== TaskState.TASK_ERROR && state !== TaskState.TASK_DROPPED) await this.startFollowers(agentId);
    await Promise.all((this.followers ?? []).map((f) => f.drainAndStop()));
    this.out.event('status', fields, `task ${this.spec.name}: ${taskStateName(state)}${where}${detail}`);
    const code = this.interrupted ? INTERRUPTED_EXIT_CODE : exitCodeOf(status);
    this.out.event('exit', { taskId: this.spec.taskId, state: taskStateName(state), code });
    this.finish(code);
  }

  /** Starts following stdout and stderr once the agent's address is known. */
  private startFollowers(agentId: string): Promise<void> {
    if (!agentId) return Promise.resolve();
    this.followersReady ??= (async () => {
      const client = new OperatorClient(this.options.masters[0] as string, 3000);
      let address = '';
      try {
        const agents = (await client.getAgents()).agents ?? [];
        address = agents.find((a) => idOf(a.agentInfo?.id) === agentId)?.agentInfo?.address ?? '';
      } catch (err) {
        this.out.note(`cannot look up the agent ${agentId} to follow the task's output: ${oneLine(err)}`);
        return;
      } finally {
        client.close();
      }
      if (!address) {
        this.out.note(`the master does not know the address of agent ${agentId}; the task's output is not shown`);
        return;
      }
      let warned = false;
      const onError = (message: string): void => { if (!warned) { warned = true; this.out.note(message); } };
      this.followers = (['stdout', 'stderr'] as const).map((path) => new SandboxFollower({
        agentAddress: address, frameworkId: this.frameworkId, executorId: this.spec.taskId, path,
        sink: (data) => this.out.data(path, data), onError,
      }));
      for (const f of this.followers) f.start();
    })();
    return this.followersReady;
  }

  /** Ctrl-C: kill the task and wait for its end; a second Ctrl-C gives up waiting. */
  private interrupt(): void {
    if (this.interrupted || !this.launched || this.terminal) {
      this.interrupted = true;
      this.finish(INTERRUPTED_EXIT_CODE);
      return;
    }
    this.interrupted = true;
    this.out.note(`interrupted: killing ${this.spec.taskId} (Ctrl-C again to stop waiting)`);
    this.driver.kill(this.spec.taskId, this.launched.agentId);
    this.timers.push(setTimeout(() => this.finish(INTERRUPTED_EXIT_CODE), 10_000));
  }

  private finish(code: number): void {
    const f = this.finishCode;
    this.finishCode = undefined;
    f?.(code);
  }

  private async cleanup(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.progress.clear();
    for (const f of this.followers ?? []) f.stop();
    // Tear the framework down: its task (if still running) is killed with it.
    await withTimeout(this.driver.stop({ failover: false }), 3000, () => new Error('timeout')).catch(() => undefined);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(onTimeout()), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (err) => { clearTimeout(t); reject(err); });
  });
}

/**
 * Follows a file of a task's sandbox (stdout, stderr) through the agent's Files service, like
 * `tail -f`: polls from the last offset and hands new bytes to a sink.
 */
import { FilesClient, grpc } from '@agora/core';
import { isGrpcError, oneLine } from './errors.js';

const CHUNK = 1 << 20;

export interface SandboxFollowerOptions {
  /** host:port of the agent. */
  agentAddress: string;
  frameworkId: string;
  /** For command tasks, the task ID. */
  executorId: string;
  /** e.g. 'stdout'. */
  path: string;
  /** Receives each new chunk, in order. */
  sink: (data: Uint8Array) => void;
  /** Told once when following fails for good (not for a sandbox that does not exist yet). */
  onError?: (message: string) => void;
  /** @default 250 */
  intervalMs?: number;
}

export class SandboxFollower {
  private readonly client: FilesClient;
  private offset = 0;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failed = false;

  constructor(private readonly options: SandboxFollowerOptions) {
    this.client = new FilesClient(options.agentAddress, 3_000);
  }

  /** Starts polling. */
  start(): void {
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped || this.failed) return;
    this.timer = setTimeout(() => {
      this.running = this.pollOnce().then((more) => this.schedule(more ? 0 : (this.options.intervalMs ?? 250)));
    }, ms);
  }

  /** Reads what is new; true when there may be more right away. */
  private async pollOnce(): Promise<boolean> {
    if (this.failed) return false;
    try {
      const res = await this.client.read({
        frameworkId: { value: this.options.frameworkId },
        executorId: { value: this.options.executorId },
        path: this.options.path,
        offset: this.offset,
        length: CHUNK,
      });
      const data = res.data ?? new Uint8Array();
      if (data.length > 0) {
        this.offset += data.length;
        this.options.sink(data);
      }
      return data.length >= CHUNK;
    } catch (err) {
      // The sandbox or the file may not exist yet while the task starts.
      if (isGrpcError(err) && err.code === grpc.status.NOT_FOUND) return false;
      this.failed = true;
      this.options.onError?.(`cannot follow the task's ${this.options.path} on the agent at ${this.options.agentAddress}: ${oneLine(isGrpcError(err) ? err.details || err.message : err)}`);
      return false;
    }
  }

  /** Stops polling after reading everything the file holds now (the task has ended). */
  async drainAndStop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    for (let i = 0; i < 64 && !this.failed; i++) {
      if (!(await this.pollOnce())) break;
    }
    this.client.close();
  }

  /** Stops at once. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.client.close();
  }
}

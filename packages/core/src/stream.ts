/**
 * Batching with back-pressure for the long-lived gRPC streams.
 *
 * Why: one protobuf frame per message costs a write syscall and a HTTP/2 frame each; a flood of
 * them without regard for `write()` returning false grows grpc-js's buffers without bound and
 * throughput collapses (measured at ~1k msgs/s). Instead every stream writes through a
 * BatchWriter: messages queued in the same turn of the event loop go out as one batch frame,
 * and while the transport is full (write() returned false) new messages wait in the queue and
 * leave in one larger batch on 'drain'. The queue is the credit window: its length is visible
 * to callers (`backlog`) so producers can slow down.
 */
export interface WritableStreamLike<B> {
  write(chunk: B): boolean;
  once(event: 'drain', listener: () => void): unknown;
  end?(): void;
}

/** Options of a BatchWriter. */
export interface BatchWriterOptions<M = unknown> {
  /** Most messages in one frame. @default 2000 */
  maxBatch?: number;
  /**
   * Estimated encoded size of a message. A frame is closed before it would pass
   * `maxBatchBytes`, so that several large messages (task results in TaskStatus.data, framework
   * messages) queued together never exceed gRPC's message limit. @default approxBytes
   */
  sizeOf?: (message: M) => number;
  /** Largest frame in bytes (estimated with `sizeOf`). @default 8 MiB */
  maxBatchBytes?: number;
}

/**
 * A cheap upper-bound-ish estimate of a message's encoded size: a fixed allowance plus the
 * bytes fields (`data`, uuids) up to three levels down, which is where bulk travels in Agora's
 * messages (Event.update.status.data, AgentEvent.runTask.task.data, …). Walking the whole
 * message would cost more than encoding it.
 */
export function approxBytes(message: unknown): number {
  let n = 256;
  if (!message || typeof message !== 'object') return n;
  for (const a of Object.values(message)) {
    if (a instanceof Uint8Array) { n += a.length; continue; }
    if (!a || typeof a !== 'object' || Array.isArray(a)) continue;
    for (const b of Object.values(a)) {
      if (b instanceof Uint8Array) { n += b.length; continue; }
      if (!b || typeof b !== 'object' || Array.isArray(b)) continue;
      for (const c of Object.values(b)) if (c instanceof Uint8Array) n += c.length;
    }
  }
  return n;
}

export class BatchWriter<M, B> {
  private queue: M[] = [];
  private scheduled = false;
  private waitingDrain = false;
  private closed = false;
  private readonly maxBatch: number;
  private readonly sizeOf: (message: M) => number;
  private readonly maxBatchBytes: number;

  constructor(
    private readonly stream: WritableStreamLike<B>,
    private readonly wrap: (items: M[]) => B,
    options: BatchWriterOptions<M> = {},
  ) {
    this.maxBatch = options.maxBatch ?? 2000;
    this.sizeOf = options.sizeOf ?? (approxBytes as (message: M) => number);
    this.maxBatchBytes = options.maxBatchBytes ?? 8 << 20;
  }

  /** Messages queued but not yet handed to the transport. */
  get backlog(): number {
    return this.queue.length;
  }

  /** Queues a message; it leaves with the next batch. */
  send(message: M): void {
    if (this.closed) return;
    this.queue.push(message);
    this.schedule();
  }

  /** Stops writing; queued messages are dropped. */
  close(): void {
    this.closed = true;
    this.queue = [];
  }

  private schedule(): void {
    if (this.scheduled || this.waitingDrain) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** How many queued messages go into the next frame (always at least one). */
  private batchLength(): number {
    const limit = Math.min(this.queue.length, this.maxBatch);
    let bytes = 0;
    for (let i = 0; i < limit; i++) {
      bytes += this.sizeOf(this.queue[i] as M);
      if (bytes > this.maxBatchBytes) return Math.max(1, i);
    }
    return limit;
  }

  private flush(): void {
    while (!this.closed && this.queue.length > 0) {
      const n = this.batchLength();
      const batch = n === this.queue.length ? this.queue : this.queue.slice(0, n);
      this.queue = batch === this.queue ? [] : this.queue.slice(n);
      let ok: boolean;
      try {
        ok = this.stream.write(this.wrap(batch));
      } catch {
        // The stream was ended or destroyed under us; the owner learns that from its events.
        this.close();
        return;
      }
      if (!ok) {
        this.waitingDrain = true;
        this.stream.once('drain', () => {
          this.waitingDrain = false;
          if (this.queue.length > 0) this.schedule();
        });
        return;
      }
    }
  }
}

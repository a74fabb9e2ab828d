/**
 * The status update manager: the agent's promise that every update of a task reaches the
 * framework, in order, at least once.
 *
 * Per task there is one stream of updates not yet acknowledged. Updates are pipelined: each is
 * sent as soon as it is queued (waiting for the previous ack would add a master round trip to
 * every STARTING → RUNNING → FINISHED chain and halve launch throughput). Whatever is still
 * unacknowledged is re-sent, oldest first, when the stream's retry timer fires (backoff from
 * statusUpdateRetryMs doubling to statusUpdateRetryMaxMs; reset whenever the oldest update is
 * acknowledged, i.e. the master is making progress) and on every re-registration.
 *
 * Checkpoint, then forward (Mesos' order): with a `persist` hook, an update is first written to
 * the agent's checkpoint and only sent once that write is durable. So whatever the master (and
 * the framework) has seen is on disk: after a crash the restarted agent re-sends exactly the
 * unacknowledged updates, with their original uuids, and never invents a second terminal
 * update for a task whose first one already went out. The checkpoint groups the writes of one
 * turn of the event loop into one fsync, so this costs latency (one fdatasync), not throughput.
 * Acknowledgements are persisted too but not waited for: losing one only means a duplicate
 * (same uuid) after a restart, which frameworks dedupe.
 */
import { uuidHex, type Clock, type Logger, type TaskStatus, type TimerHandle } from '@agora/core';

/** Options of a StatusUpdateManager. */
export interface StatusUpdateManagerOptions {
  clock: Clock;
  logger: Logger;
  retryMs: number;
  retryMaxMs: number;
  /** Hands one update to the master link (dropped there while disconnected). */
  send(frameworkId: string, status: TaskStatus): void;
  /** Called when a task's last pending update was acknowledged. */
  drained?(frameworkId: string, taskId: string): void;
  /**
   * Writes an update (or an acknowledgement) to the checkpoint; the promise resolves once it
   * is durable. @default none (nothing is persisted; updates are sent at once)
   */
  persist?(entry: PersistedEntry): Promise<void>;
}

/** What the status update manager asks the checkpoint to keep. */
export type PersistedEntry =
  | { kind: 'update'; frameworkId: string; status: TaskStatus }
  | { kind: 'ack'; frameworkId: string; taskId: string; uuid: string };

interface UpdateStream {
  frameworkId: string;
  taskId: string;
  pending: TaskStatus[];
  uuids: Set<string>;
  /** uuids of pending updates not yet durable (never sent before they are). */
  unsynced: Set<string>;
  backoffMs: number;
  timer: TimerHandle | undefined;
}

/** A checkpointable view of one task's unacknowledged updates. */
export interface UpdateStreamSnapshot {
  frameworkId: string;
  taskId: string;
  pending: TaskStatus[];
}

const keyOf = (frameworkId: string, taskId: string): string => `${frameworkId}\u0000${taskId}`;

export class StatusUpdateManager {
  private readonly streams = new Map<string, UpdateStream>();
  private connected = false;
  private closed = false;

  constructor(private readonly o: StatusUpdateManagerOptions) {}

  /**
   * Queues an update (it must carry a uuid) and sends it now when connected. Returns false for
   * a duplicate uuid (an executor re-sending), which is not queued twice.
   */
  update(frameworkId: string, status: TaskStatus): boolean {
    if (this.closed) return false;
    const s = this.stream(frameworkId, status.taskId?.value ?? '');
    const id = uuidHex(status.uuid);
    if (s.uuids.has(id)) return false;
    s.uuids.add(id);
    s.pending.push(status);
    if (this.o.persist) {
      s.unsynced.add(id);
      void this.o.persist({ kind: 'update', frameworkId, status }).then(() => {
        s.unsynced.delete(id);
        // Batches become durable in order, so every older update of the task is durable (and
        // sent) already: sending this one now keeps the order.
        if (!this.connected || this.closed || !s.uuids.has(id) || this.streams.get(keyOf(s.frameworkId, s.taskId)) !== s) return;
        this.o.send(frameworkId, status);
        this.arm(s);
      });
    } else if (this.connected) {
      this.o.send(frameworkId, status);
      this.arm(s);
    }
    return true;
  }

  /**
   * Recovery: puts back an update read from the checkpoint (already durable, maybe already
   * seen by the framework). It is sent, in order, on the next re-registration.
   */
  restore(frameworkId: string, status: TaskStatus): void {
    const s = this.stream(frameworkId, status.taskId?.value ?? '');
    const id = uuidHex(status.uuid);
    if (s.uuids.has(id)) return;
    s.uuids.add(id);
    s.pending.push(status);
  }

  private stream(frameworkId: string, taskId: string): UpdateStream {
    const key = keyOf(frameworkId, taskId);
    let s = this.streams.get(key);
    if (!s) {
      s = { frameworkId, taskId, pending: [], uuids: new Set(), unsynced: new Set(), backoffMs: this.o.retryMs, timer: undefined };
      this.streams.set(key, s);
    }
    return s;
  }

  /** Sends the durable prefix of a stream's pending updates, oldest first. */
  private sendPending(s: UpdateStream): void {
    for (const u of s.pending) {
      if (s.unsynced.size > 0 && s.unsynced.has(uuidHex(u.uuid))) break;
      this.o.send(s.frameworkId, u);
    }
  }

  /** Drops an acknowledged update. Returns false when it was not pending (late or duplicate ack). */
  acknowledge(frameworkId: string, taskId: string, uuid: Uint8Array | null | undefined): boolean {
    const key = keyOf(frameworkId, taskId);
    const s = this.streams.get(key);
    const id = uuidHex(uuid);
    if (!s || !s.uuids.has(id)) return false;
    const i = s.pending.findIndex((u) => uuidHex(u.uuid) === id);
    if (i >= 0) s.pending.splice(i, 1);
    s.uuids.delete(id);
    s.unsynced.delete(id);
    void this.o.persist?.({ kind: 'ack', frameworkId, taskId, uuid: id });
    if (s.pending.length === 0) {
      s.timer?.cancel();
      this.streams.delete(key);
      this.o.drained?.(frameworkId, taskId);
    } else if (i === 0) {
      s.backoffMs = this.o.retryMs;
      s.timer?.cancel();
      s.timer = undefined;
      if (this.connected) this.arm(s);
    }
    return true;
  }

  /** Unacknowledged updates of one task, oldest first. */
  pending(frameworkId: string, taskId: string): readonly TaskStatus[] {
    return this.streams.get(keyOf(frameworkId, taskId))?.pending ?? [];
  }

  /** Number of updates waiting for an acknowledgement. */
  get size(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.pending.length;
    return n;
  }

  /**
   * Link state. Going up re-sends every pending update (oldest first per task) with a fresh
   * backoff; going down stops the timers (nothing can be delivered meanwhile).
   */
  setConnected(connected: boolean): void {
    this.connected = connected;
    for (const s of this.streams.values()) {
      s.timer?.cancel();
      s.timer = undefined;
      s.backoffMs = this.o.retryMs;
      if (connected) {
        this.sendPending(s);
        this.arm(s);
      }
    }
  }

  /** Plain data of every stream (for checkpointing). */
  snapshot(): UpdateStreamSnapshot[] {
    return [...this.streams.values()].map((s) => ({ frameworkId: s.frameworkId, taskId: s.taskId, pending: [...s.pending] }));
  }

  /** Stops all timers; nothing is sent afterwards. */
  close(): void {
    this.closed = true;
    this.connected = false;
    for (const s of this.streams.values()) s.timer?.cancel();
  }

  private arm(s: UpdateStream): void {
    if (s.timer || s.pending.length === 0) return;
    s.timer = this.o.clock.setTimeout(() => {
      s.timer = undefined;
      if (!this.connected || s.pending.length === 0) return;
      this.o.logger.debug({ taskId: s.taskId, pending: s.pending.length, backoffMs: s.backoffMs }, 're-sending unacknowledged status updates');
      this.sendPending(s);
      s.backoffMs = Math.min(s.backoffMs * 2, this.o.retryMaxMs);
      this.arm(s);
    }, s.backoffMs);
  }
}

/**
 * Group commit for the registries: while one write is in flight, further batches queue up and
 * the next write carries all of them (up to `maxOps` operations), so durability costs one fsync
 * or one etcd transaction per burst, not per registration. Each caller's batch still succeeds or
 * fails whole: a group is written entirely or not at all.
 */
import type { RegistryOperation } from './registry.js';

interface Pending {
  ops: RegistryOperation[];
  resolve: () => void;
  reject: (e: Error) => void;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;

  /**
   * @param write writes one group (the batches in arrival order); what it throws rejects every
   *   batch of that group
   * @param maxOps most operations in one group (a single larger batch still goes alone)
   */
  constructor(
    private readonly write: (batches: RegistryOperation[][]) => Promise<void>,
    private readonly maxOps = Number.POSITIVE_INFINITY,
  ) {}

  /** Queues a batch; resolves once it is durable. */
  enqueue(ops: RegistryOperation[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      if (!this.writing) this.writing = this.drain();
    });
  }

  /** Resolves once nothing is queued or being written. */
  async idle(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const group: Pending[] = [];
        let count = 0;
        while (this.queue.length > 0) {
          const next = this.queue[0]!;
          if (group.length > 0 && count + next.ops.length > this.maxOps) break;
          group.push(this.queue.shift()!);
          count += next.ops.length;
        }
        try {
          await this.write(group.map((p) => p.ops));
          for (const p of group) p.resolve();
        } catch (e) {
          for (const p of group) p.reject(e as Error);
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}

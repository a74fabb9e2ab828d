/**
 * Disk quota enforcement, Mesos `disk/du` style: every interval the agent measures each watched
 * sandbox with `du -sk` and stops a container that uses more than its `disk` resource
 * (Mesos `--enforce_container_disk_quota`, on by default here).
 *
 * Cost is bounded: one `du` at a time (sandboxes are measured one after another, never in
 * parallel), each with a timeout, and a round starts only `intervalMs` after the previous one
 * ended — a host with many big sandboxes measures less often rather than harder.
 */
import { execa } from 'execa';
import type { Clock, Logger, TimerHandle } from '@agora/core';

interface Watched {
  sandbox: string;
  limitBytes: number;
  exceeded: (usedBytes: number) => void;
}

/** Measures `dir` in bytes (du -sk, 1 KiB blocks actually used), or undefined on failure. */
export async function diskUsage(dir: string, timeoutMs: number): Promise<number | undefined> {
  const r = await execa('du', ['-sk', '--', dir], { reject: false, timeout: timeoutMs, stdin: 'ignore' });
  // du exits 1 when a file vanished mid-walk; its total is still the best figure there is.
  const kib = Number(String(r.stdout ?? '').split('\t')[0]);
  return Number.isFinite(kib) && String(r.stdout ?? '').length > 0 ? kib * 1024 : undefined;
}

export class DiskWatcher {
  private readonly watched = new Map<string, Watched>();
  private timer: TimerHandle | undefined;
  private running = false;
  private stopped = false;

  constructor(private readonly clock: Clock, private readonly log: Logger, private readonly intervalMs: number, private readonly duTimeoutMs = 10_000) {}

  /** Watches `sandbox` of container `id`; `exceeded` is called once when it goes over. */
  watch(id: string, sandbox: string, limitBytes: number, exceeded: (usedBytes: number) => void): void {
    if (!(limitBytes > 0)) return;
    this.watched.set(id, { sandbox, limitBytes, exceeded });
    this.arm();
  }

  /** Changes the quota of a watched container (a custom executor got more tasks). */
  resize(id: string, limitBytes: number): void {
    const w = this.watched.get(id);
    if (w && limitBytes > 0) w.limitBytes = limitBytes;
  }

  unwatch(id: string): void {
    this.watched.delete(id);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Measures every watched sandbox once (the timer does this; tests may call it). */
  async check(): Promise<void> {
    for (const [id, w] of [...this.watched]) {
      if (this.stopped) return;
      const used = await diskUsage(w.sandbox, this.duTimeoutMs);
      if (used === undefined || this.watched.get(id) !== w) continue;
      if (used > w.limitBytes) {
        this.watched.delete(id);
        this.log.warn({ sandbox: w.sandbox, usedBytes: used, limitBytes: w.limitBytes }, 'container exceeded its disk quota; killing it');
        w.exceeded(used);
      }
    }
  }

  private arm(): void {
    if (this.timer || this.running || this.stopped || this.watched.size === 0) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.running = true;
      void this.check().catch((err: Error) => this.log.warn({ err }, 'disk usage check failed')).finally(() => {
        this.running = false;
        this.arm();
      });
    }, this.intervalMs);
  }
}

/**
 * Exponential reconnect backoff with jitter. Jitter matters: after a master restarts, every
 * framework and executor would otherwise come back in the same millisecond.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt: min·2^n capped at max, then scaled by 0.5–1.0. */
  next(): number {
    const base = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(base * (0.5 + this.random() * 0.5));
  }

  /** Back to the shortest delay (after a successful subscription). */
  reset(): void {
    this.attempt = 0;
  }
}

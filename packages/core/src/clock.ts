/**
 * Time is passed in (CONVENTIONS §3): code that waits or times out takes a Clock, so tests can
 * advance a FakeClock instead of sleeping.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls fn after ms milliseconds (unless cancelled). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

/** Node's timers hold at most 2^31-1 ms (~24.8 days); longer ones fire after 1 ms instead. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The real clock. Timers do not keep the process alive on their own, and a timer longer than
 * Node allows (a yearly job's next run) is re-armed in steps instead of firing at once.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const due = Date.now() + (Number.isNaN(ms) ? 0 : Math.max(0, ms));
    let t: NodeJS.Timeout;
    const arm = (): void => {
      const left = due - Date.now();
      t = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fn, Math.max(0, left));
      t.unref();
    };
    arm();
    return { cancel: () => clearTimeout(t) };
  },
};

/** A clock that moves only when told to; for tests. */
export class FakeClock implements Clock {
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;

  constructor(private current = 1_700_000_000_000) {}

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.seq;
    this.timers.push({ at: this.current + Math.max(0, ms), fn, id });
    return { cancel: () => { this.timers = this.timers.filter((t) => t.id !== id); } };
  }

  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > until) break;
      this.timers.shift();
      this.current = next.at;
      next.fn();
    }
    this.current = until;
  }
}

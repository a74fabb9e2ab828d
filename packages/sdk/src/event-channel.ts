/**
 * Fan-out of driver events to any number of `for await` consumers.
 *
 * Each `iterator()` call registers its own queue at once (not at the first `next()`), so events
 * that arrive between `driver.events()` and the loop that reads it are not lost. A consumer that
 * never reads keeps its events in memory: break out of the loop (or call `return()`) to let go.
 */
export class EventChannel<E> {
  private readonly subscribers = new Set<Subscriber<E>>();
  private closed = false;

  /** Hands an event to every registered consumer. */
  push(event: E): void {
    for (const s of this.subscribers) s.push(event);
  }

  /** Ends every consumer's loop; later iterators end at once. */
  close(): void {
    this.closed = true;
    for (const s of this.subscribers) s.end();
    this.subscribers.clear();
  }

  /** A new, independent iterator over the events from now on. */
  iterator(): AsyncIterableIterator<E> {
    const sub = new Subscriber<E>(() => this.subscribers.delete(sub));
    if (this.closed) sub.end();
    else this.subscribers.add(sub);
    return sub;
  }
}

class Subscriber<E> implements AsyncIterableIterator<E> {
  private readonly queue: E[] = [];
  private waiting: ((r: IteratorResult<E>) => void) | undefined;
  private done = false;

  constructor(private readonly detach: () => void) {}

  push(event: E): void {
    if (this.done) return;
    const w = this.waiting;
    if (w) {
      this.waiting = undefined;
      w({ value: event, done: false });
    } else {
      this.queue.push(event);
    }
  }

  end(): void {
    this.done = true;
    const w = this.waiting;
    this.waiting = undefined;
    w?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<E>> {
    if (this.queue.length > 0) return Promise.resolve({ value: this.queue.shift() as E, done: false });
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => { this.waiting = resolve; });
  }

  return(): Promise<IteratorResult<E>> {
    this.queue.length = 0;
    this.detach();
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<E> {
    return this;
  }
}

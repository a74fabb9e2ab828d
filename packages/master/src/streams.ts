/**
 * The master's end of a long-lived stream: every write goes through core's BatchWriter
 * (batched frames, back-pressure), and closing waits for queued events to leave first so
 * that an ERROR sent just before closing is actually delivered.
 */
import { BatchWriter, type WritableStreamLike } from '@agora/core';

interface EndableStream<B> extends WritableStreamLike<B> {
  end(): void;
}

export class StreamSink<E, B> {
  private readonly writer: BatchWriter<E, B>;
  private ending = false;
  /** True once end() or abort() was called: nothing more is queued. */
  closed = false;

  constructor(private readonly stream: EndableStream<B>, wrap: (items: E[]) => B) {
    this.writer = new BatchWriter(stream, wrap);
  }

  /** Events queued but not yet written (the credit window). */
  get backlog(): number {
    return this.writer.backlog;
  }

  send(event: E): void {
    if (!this.closed) this.writer.send(event);
  }

  /** Ends the stream once queued events are written (gives up after ~2 s of back-pressure). */
  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.ending = true;
    const finish = (tries: number): void => {
      if (this.writer.backlog === 0 || tries > 200) {
        // setImmediate: the BatchWriter flushes in a setImmediate queued before this one.
        setImmediate(() => {
          this.writer.close();
          try { this.stream.end(); } catch { /* already gone */ }
        });
      } else {
        setTimeout(() => finish(tries + 1), 10).unref();
      }
    };
    finish(0);
  }

  /** The peer is gone: drop whatever is queued. */
  abort(): void {
    this.closed = true;
    if (!this.ending) this.writer.close();
  }
}

/** The peer's address for logs; never throws (a call torn down early may not have one). */
export function peerOf(stream: { getPeer?: () => string }): string {
  try {
    return stream.getPeer?.() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

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

/** What `serveStream` needs from the stream: its events and its end. */
interface ServerDuplex<F> {
  on(event: 'data', listener: (frame: F) => void): unknown;
  on(event: 'error', listener: (e: Error) => void): unknown;
  on(event: 'end' | 'cancelled' | 'close', listener: () => void): unknown;
  end(): void;
}

/**
 * Wires the server side of a long-lived stream: every frame goes to `onFrame`; the first of
 * error / end / cancel / close calls `onClosed` once with a reason (a peer may trigger several,
 * in any order), and a peer's end is answered with ours.
 */
export function serveStream<F>(stream: ServerDuplex<F>, handlers: { onFrame: (frame: F) => void; onError: (e: Error) => void; onClosed: (why: string) => void }): void {
  let done = false;
  const closed = (why: string): void => {
    if (done) return;
    done = true;
    handlers.onClosed(why);
  };
  stream.on('data', handlers.onFrame);
  stream.on('error', (e: Error) => {
    handlers.onError(e);
    closed(`stream error: ${e.message}`);
  });
  stream.on('end', () => {
    closed('stream ended');
    try { stream.end(); } catch { /* already closed */ }
  });
  stream.on('cancelled', () => closed('stream cancelled'));
  stream.on('close', () => closed('stream closed'));
}

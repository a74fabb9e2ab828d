/**
 * Reading one byte range of the input — from a local file (double-buffered reads straight into
 * the counter's buffer: the kernel counts one half while the kernel-side copy fills the other)
 * or over HTTP with a Range request — and feeding it to a counter or a frequency scanner.
 * Memory is bounded by the buffers, whatever the size of the range.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { WordCounter, type Counts } from './counter.js';
import { FreqScanner } from './freq.js';

export interface ReadHooks {
  /** Called after each piece with the bytes of the range done so far. */
  progress?(bytes: number): void;
  signal?: AbortSignal;
  /** Sleep after each piece (test knob). */
  slowMs?: number;
}

export type Sink = { kind: 'count'; counter: WordCounter } | { kind: 'freq'; scanner: FreqScanner; buffers: [Uint8Array, Uint8Array] };

/** Bytes per read unless the task says otherwise (2 buffers of it per sink). */
export const DEFAULT_READ_BYTES = 2 << 20;

/** A counter or scanner for a task; `readBytes` per read. */
export function makeSink(freq: boolean, readBytes: number): Sink {
  if (freq) return { kind: 'freq', scanner: new FreqScanner(), buffers: [new Uint8Array(readBytes), new Uint8Array(readBytes)] };
  return { kind: 'count', counter: new WordCounter(2 * readBytes) };
}

/**
 * Sinks kept for the next task of the same executor. Why: on the VMs we measured, the first
 * touch of fresh memory costs ≈5 ms per MiB (page faults through the hypervisor) — more than
 * counting a MiB — so a sink's buffers are faulted in once per process and then reused, and
 * they are small (2 × 2 MiB: reads of 2 MiB already run at page-cache copy speed). A frequency
 * scanner keeps its table's memory too (emptied, not reallocated).
 */
export class SinkPool {
  private readonly free: Sink[] = [];

  /** A fresh-counting sink with `readBytes` buffers (reused when one is free). */
  take(freq: boolean, readBytes: number): Sink {
    const i = this.free.findIndex((s) => (s.kind === 'freq') === freq && sinkReadBytes(s) === readBytes);
    if (i < 0) return makeSink(freq, readBytes);
    const sink = this.free.splice(i, 1)[0]!;
    if (sink.kind === 'count') sink.counter.reset();
    else sink.scanner.reset();
    return sink;
  }

  /** Gives a sink back after its task (a few are kept; any more are left to the GC). */
  give(sink: Sink): void {
    if (this.free.length < 4) this.free.push(sink);
  }

  /** Creates (and faults in) a sink ahead of the first task. */
  warm(freq: boolean, readBytes: number): void {
    const sink = makeSink(freq, readBytes);
    if (sink.kind === 'count') sink.counter.buffer().fill(0x20);
    else for (const b of sink.buffers) b.fill(0x20);
    this.give(sink);
  }
}

function sinkReadBytes(s: Sink): number {
  return s.kind === 'count' ? s.counter.buffer().length >>> 1 : s.buffers[0].length;
}

export function sinkCounts(sink: Sink): Counts {
  return sink.kind === 'count' ? sink.counter.counts : sink.scanner.counts;
}

/**
 * Opens `path` if it is the same file the scheduler saw (size and mtime), else undefined —
 * then the task reads over HTTP instead.
 */
export async function openIfSame(path: string | undefined, size: number, mtimeMs: number | undefined): Promise<FileHandle | undefined> {
  if (!path) return undefined;
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    const st = await fh.stat();
    if (!st.isFile() || st.size !== size || (mtimeMs !== undefined && Math.abs(st.mtimeMs - mtimeMs) > 1)) {
      await fh.close();
      return undefined;
    }
    return fh;
  } catch {
    await fh?.close().catch(() => undefined);
    return undefined;
  }
}

/** Reads [start, end) of an open file into the sink. */
export async function readFileRange(fh: FileHandle, start: number, end: number, sink: Sink, hooks: ReadHooks = {}): Promise<void> {
  const half = sink.kind === 'count' ? sink.counter.buffer().length >>> 1 : sink.buffers[0].length;
  const target = (k: number): { buf: Uint8Array; off: number } =>
    sink.kind === 'count' ? { buf: sink.counter.buffer(), off: k * half } : { buf: sink.buffers[k]!, off: 0 };
  let pos = start;
  let k = 0;
  const issue = (): Promise<{ bytesRead: number }> | undefined => {
    if (pos >= end) return undefined;
    const len = Math.min(half, end - pos);
    const t = target(k);
    const p = fh.read(t.buf, t.off, len, pos);
    pos += len;
    return p;
  };
  let pending = issue();
  let done = 0;
  while (pending) {
    const { bytesRead } = await pending;
    if (bytesRead === 0) throw new Error(`input ended at byte ${start + done}, before the chunk's end ${end} (file truncated?)`);
    hooks.signal?.throwIfAborted();
    const cur = k;
    // A short read (rare on regular files) is followed by a read of the rest at the right place.
    const want = Math.min(half, end - (start + done));
    if (bytesRead < want) pos = start + done + bytesRead;
    k ^= 1;
    pending = issue();
    const t = target(cur);
    if (sink.kind === 'count') sink.counter.updateInPlace(t.off, bytesRead);
    else sink.scanner.update(t.buf.subarray(0, bytesRead));
    done += bytesRead;
    hooks.progress?.(done);
    if (hooks.slowMs) await sleep(hooks.slowMs);
  }
  if (sink.kind === 'freq') sink.scanner.finish();
}

/** Reads [start, end) of `url` with a Range request into the sink. */
export async function readHttpRange(url: string, start: number, end: number, sink: Sink, hooks: ReadHooks = {}): Promise<void> {
  if (end > start) {
    const res = await fetch(url, { headers: { range: `bytes=${start}-${end - 1}` }, ...(hooks.signal ? { signal: hooks.signal } : {}) });
    if (res.status !== 206 && !(res.status === 200 && start === 0)) {
      throw new Error(`GET ${url} bytes ${start}-${end - 1}: HTTP ${res.status}${res.status === 200 ? ' (the server ignores Range requests)' : ''}`);
    }
    if (!res.body) throw new Error(`GET ${url}: no body`);
    let done = 0;
    const want = end - start;
    for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
      const use = piece.length > want - done ? piece.subarray(0, want - done) : piece;
      if (sink.kind === 'count') sink.counter.update(use);
      else sink.scanner.update(use);
      done += use.length;
      hooks.progress?.(done);
      if (hooks.slowMs) await sleep(hooks.slowMs);
      if (done >= want) break;
    }
    if (done < want) throw new Error(`GET ${url}: body ended after ${done} of ${want} bytes`);
  }
  if (sink.kind === 'freq') sink.scanner.finish();
}

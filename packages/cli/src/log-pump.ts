/**
 * Copying a growing file out of a task's sandbox, like `tail [-n N] [-f]`, through any reader
 * that reads by offset (the agent's Files service in `agora task logs`, a fake in tests).
 *
 * Following polls: right away while there is more, then with a delay that starts short (new
 * lines show within ~100 ms of being written) and grows while the file is idle (a quiet task
 * costs the agent a read a second, not ten). It stops once the task has ended and the file is
 * drained.
 */

/** One read: the bytes from `offset` (at most `length`) and the file's size now. */
export interface ReadResult { data: Uint8Array; size: number }

/** Reads by offset; resolves 'missing' while the file does not exist (yet). */
export type OffsetReader = (offset: number, length: number) => Promise<ReadResult | 'missing'>;

export interface PumpOptions {
  read: OffsetReader;
  /** Receives each chunk, in order, with its offset in the file. */
  sink: (data: Uint8Array, offset: number) => void;
  /** Where to start (see {@link tailOffset}). @default 0 */
  startOffset?: number;
  /** Keep reading as the file grows, until `finished` says the writer is done. */
  follow: boolean;
  /** Asked now and then while following and idle: true once nothing more will be written. */
  finished: () => Promise<boolean>;
  /** Aborting stops at once (Ctrl-C). */
  signal?: AbortSignal;
  /** @default 1 MiB */
  chunkBytes?: number;
  /** First delay after an empty read. @default 100 */
  minIntervalMs?: number;
  /** Longest delay between reads of an idle file. @default 1000 */
  maxIntervalMs?: number;
  /** How often to ask `finished` while idle. @default 1000 */
  finishedCheckMs?: number;
}

/** How the pump ended: the file was drained (and the writer done), or it was aborted. */
export type PumpEnd = 'drained' | 'aborted';

/** Copies the file to the sink; see the module comment. */
export async function pump(o: PumpOptions): Promise<PumpEnd> {
  const chunk = o.chunkBytes ?? 1 << 20;
  const minMs = o.minIntervalMs ?? 100;
  const maxMs = Math.max(minMs, o.maxIntervalMs ?? 1000);
  const checkMs = o.finishedCheckMs ?? 1000;
  let offset = o.startOffset ?? 0;
  let delay = minMs;
  let lastCheck = Number.NEGATIVE_INFINITY;
  let ended = false;
  for (;;) {
    if (o.signal?.aborted) return 'aborted';
    const r = await o.read(offset, chunk);
    if (o.signal?.aborted) return 'aborted';
    if (r !== 'missing' && r.data.length > 0) {
      o.sink(r.data, offset);
      offset += r.data.length;
      delay = minMs;
      continue;
    }
    // Nothing new. Once the writer is done, an empty read means drained.
    if (!o.follow || ended) return 'drained';
    if (Date.now() - lastCheck >= checkMs) {
      lastCheck = Date.now();
      // Read once more after the writer is done: it may have written its last lines since.
      if (await o.finished()) { ended = true; continue; }
    }
    if (!(await sleep(delay, o.signal))) return 'aborted';
    delay = Math.min(maxMs, Math.round(delay * 1.5));
  }
}

/**
 * The offset from which the file holds its last `lines` lines (a trailing newline does not
 * count as an empty last line). Reads backwards in growing windows, so a huge log costs a few
 * reads, not the whole file.
 */
export async function tailOffset(read: OffsetReader, lines: number): Promise<number> {
  const first = await read(0, 1);
  if (first === 'missing' || first.size === 0) return 0;
  const size = first.size;
  if (lines <= 0) return size;
  let window = 64 * 1024;
  for (;;) {
    const start = Math.max(0, size - window);
    const buf = await readRange(read, start, size - start);
    // Newlines that end a line we keep: the last byte's newline ends the last line.
    let seen = 0;
    for (let i = buf.length - 2; i >= 0; i--) {
      if (buf[i] === 0x0a && ++seen === lines) return start + i + 1;
    }
    if (start === 0) return 0;
    window *= 4;
  }
}

async function readRange(read: OffsetReader, start: number, length: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let got = 0;
  while (got < length) {
    const r = await read(start + got, length - got);
    if (r === 'missing' || r.data.length === 0) break;
    parts.push(r.data);
    got += r.data.length;
  }
  return Buffer.concat(parts);
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) { resolve(false); return; }
    const onAbort = (): void => { clearTimeout(t); resolve(false); };
    const t = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(true); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

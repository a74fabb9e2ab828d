/**
 * A crash-safe, append-only journal of JSON records (one per line) with group commit.
 *
 * Why a journal and not a file per task (Mesos writes many small files under meta/): the launch
 * path runs hundreds of times a second, and a file per record means an open, a write, an fsync
 * and a rename each time. Here every record of one turn of the event loop goes out in ONE
 * write() and ONE fdatasync() (group commit); records arriving while a sync is in flight form the
 * next batch. `append()` returns a promise that resolves once its batch is on disk, so callers
 * that need durability before acting (the status update manager: "checkpoint, then forward")
 * await it and everyone else ignores it.
 *
 * Crash safety: a crash can only tear the LAST line (appends go to the end), and `load()` drops
 * any line that does not parse. The journal is compacted by writing a full snapshot to a temp
 * file, fsyncing it, renaming it over the journal and fsyncing the directory, so at every
 * instant the file on disk is either the old journal or the new snapshot, never a mix.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** What load() found. */
export interface LoadedJournal<R> {
  records: R[];
  /** Lines that could not be parsed (a torn tail after a crash, or damage); they are skipped. */
  skipped: number;
}

/** Options of a CheckpointLog. */
export interface CheckpointLogOptions<R> {
  /** The full current state as records; written when the journal is compacted. */
  snapshot(): R[];
  /** Compact once this many records were appended since the last snapshot. @default 20000 */
  compactAfter?: number;
  /** Told about write errors (the agent keeps running, without durability, rather than stop). */
  onError?(err: Error): void;
}

interface Batch {
  lines: string[];
  promise: Promise<void>;
  resolve: () => void;
}

/** Reads a journal; a missing file is an empty journal. Never throws on bad content. */
export function loadJournal<R>(file: string): LoadedJournal<R> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { records: [], skipped: 0 };
  }
  const records: R[] = [];
  let skipped = 0;
  const lines = text.split('\n');
  // The part after the last '\n' is a line whose write never finished (or '').
  const tail = lines.pop();
  if (tail) skipped++;
  for (const line of lines) {
    if (!line) continue;
    try {
      const r = JSON.parse(line) as unknown;
      if (r && typeof r === 'object') records.push(r as R);
      else skipped++;
    } catch {
      skipped++;
    }
  }
  return { records, skipped };
}

/** Appends records with group commit; see the file comment. */
export class CheckpointLog<R> {
  private fh: FileHandle | undefined;
  private current: Batch | undefined;
  private flushing: Promise<void> | undefined;
  private sinceSnapshot = 0;
  private compactWanted = false;
  private closed = false;
  private readonly compactAfter: number;

  constructor(readonly file: string, private readonly o: CheckpointLogOptions<R>) {
    this.compactAfter = o.compactAfter ?? 20_000;
  }

  /**
   * Starts the journal afresh from `snapshot()` (atomically) and opens it for appending. Called
   * once at start, after load(): recovery always leaves a compact, well-formed journal.
   */
  async open(): Promise<void> {
    mkdirSync(path.dirname(this.file), { recursive: true });
    await this.writeSnapshot();
  }

  /** Queues a record; the promise resolves once it is durable (never rejects). */
  append(record: R): Promise<void> {
    if (this.closed) return Promise.resolve();
    const b = this.batch();
    b.lines.push(`${JSON.stringify(record)}\n`);
    return b.promise;
  }

  /** Resolves once everything appended so far is durable. */
  flush(): Promise<void> {
    return this.current?.promise ?? this.flushing ?? Promise.resolve();
  }

  /** Flushes and closes; later appends are ignored. */
  async close(): Promise<void> {
    await this.flush();
    await this.flushing;
    this.closed = true;
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
  }

  private batch(): Batch {
    if (this.current) return this.current;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => { resolve = r; });
    const b: Batch = { lines: [], promise, resolve };
    this.current = b;
    // Everything appended during this turn of the event loop joins the batch.
    if (!this.flushing) setImmediate(() => this.kick());
    return b;
  }

  private kick(): void {
    if (this.flushing || !this.current) return;
    const b = this.current;
    this.current = undefined;
    this.flushing = this.write(b).finally(() => {
      this.flushing = undefined;
      b.resolve();
      // Records that arrived during the sync: next batch, at once.
      if (this.current) this.kick();
    });
  }

  private async write(b: Batch): Promise<void> {
    try {
      this.sinceSnapshot += b.lines.length;
      if (this.compactWanted || this.sinceSnapshot >= this.compactAfter) {
        // The snapshot is taken now, so it already holds every change these lines describe.
        await this.writeSnapshot();
        return;
      }
      if (!this.fh) this.fh = await open(this.file, 'a', 0o600);
      await this.fh.write(b.lines.join(''));
      await this.fh.datasync();
    } catch (err) {
      this.o.onError?.(err as Error);
    }
  }

  private async writeSnapshot(): Promise<void> {
    this.compactWanted = false;
    const records = this.o.snapshot();
    const tmp = `${this.file}.tmp`;
    // 0600: the checkpoint holds TaskInfos, secret environment values included.
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.write(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.fh?.close().catch(() => {});
    this.fh = undefined;
    await rename(tmp, this.file);
    syncDir(path.dirname(this.file));
    this.sinceSnapshot = 0;
    this.fh = await open(this.file, 'a', 0o600);
  }
}

/** fsync of a directory makes a rename in it durable. */
function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
  } catch {
    // Some file systems refuse fsync on directories; the rename is still atomic.
  }
}

/** Removes a journal and its temp file (tests). */
export function removeJournal(file: string): void {
  rmSync(file, { force: true });
  rmSync(`${file}.tmp`, { force: true });
}

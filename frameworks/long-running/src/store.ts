/**
 * The framework's state on disk: one JSON document (framework ID, apps with their versions,
 * deployments, instances), written crash-safely — to a temp file, fsync'd, renamed over the
 * old one, directory fsync'd — so a crash leaves either the old or the new state, never half.
 *
 * Writes are coalesced: `save()` callers arriving while a write is in flight share the next
 * one. Instances are written *before* their launch is sent (write-ahead), so a restarted
 * framework never forgets a task it started and never starts a duplicate.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';

export interface StoredState {
  v: 1;
  frameworkId?: string;
  apps: unknown[];
  deployments: unknown[];
  instances: unknown[];
  /** Old versions per app, newest last. */
  versions: Record<string, unknown[]>;
}

export class StateStore {
  readonly file: string;
  private writing: Promise<void> | undefined;
  private queued: { promise: Promise<void>; snapshot: () => StoredState } | undefined;
  /** Completed writes (metrics). */
  writes = 0;

  constructor(readonly dir: string) {
    this.file = path.join(dir, 'long-running-state.json');
  }

  async load(): Promise<StoredState | undefined> {
    await mkdir(this.dir, { recursive: true });
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    const s = JSON.parse(text) as StoredState;
    if (s.v !== 1) throw new Error(`${this.file}: unknown state version ${String(s.v)}`);
    return s;
  }

  /** Persists the state `snapshot()` returns when the write starts (coalescing bursts). */
  save(snapshot: () => StoredState): Promise<void> {
    if (this.queued) {
      this.queued.snapshot = snapshot;
      return this.queued.promise;
    }
    if (!this.writing) {
      this.writing = this.write(snapshot()).finally(() => { this.writing = undefined; });
      return this.writing;
    }
    const q: { promise: Promise<void>; snapshot: () => StoredState } = { promise: Promise.resolve(), snapshot };
    q.promise = this.writing.catch(() => undefined).then(() => {
      this.queued = undefined;
      this.writing = this.write(q.snapshot()).finally(() => { this.writing = undefined; });
      return this.writing;
    });
    this.queued = q;
    return q.promise;
  }

  private async write(state: StoredState): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(state));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.file);
    try {
      const dh = await open(this.dir, 'r');
      try { await dh.sync(); } finally { await dh.close(); }
    } catch { /* some file systems cannot fsync a directory */ }
    this.writes++;
  }
}

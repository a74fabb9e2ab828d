/**
 * The embedded registry: one JSON file in `${workDir}/registry`, replaced atomically on every
 * commit (write `state.json.tmp`, fsync it, rename over `state.json`, fsync the directory), so
 * a crash at any point leaves either the old or the new state — never a torn one. A leftover
 * temp file from a crash is ignored and overwritten.
 *
 * Group commit: while one write is in flight, further `apply()` calls queue up; the next write
 * carries all of them and resolves them together. The cost of durability is then one fsync per
 * burst, not per registration.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeSnapshot, encodeSnapshot, REGISTRY_OPERATION_TYPES, RegistryState, type Registry, type RegistryOperation, type RegistrySnapshot } from './registry.js';

const FILE = 'state.json';
const KNOWN_OPS = REGISTRY_OPERATION_TYPES;

interface Pending {
  ops: RegistryOperation[];
  resolve: () => void;
  reject: (e: Error) => void;
}

/** Registry kept in a directory on local disk (the master's default). */
export class FileRegistry implements Registry {
  private state = new RegistryState();
  private queue: Pending[] = [];
  private writing: Promise<void> | undefined;
  private loaded = false;
  /** Number of files written so far (tests check group commit with it). */
  writes = 0;

  /** @param dir directory holding the registry (created when missing), e.g. `${workDir}/registry` */
  constructor(readonly dir: string) {}

  async load(): Promise<RegistrySnapshot> {
    await mkdir(this.dir, { recursive: true });
    let text: string | undefined;
    try {
      text = await readFile(join(this.dir, FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text !== undefined) {
      try {
        this.state = RegistryState.from(decodeSnapshot(text));
      } catch (e) {
        // Renames are atomic, so a bad file is not a torn write: refuse rather than forget
        // every framework and agent silently.
        throw new Error(`registry file ${join(this.dir, FILE)} is unreadable: ${(e as Error).message}`);
      }
    }
    this.loaded = true;
    return this.state.snapshot();
  }

  apply(ops: RegistryOperation[]): Promise<void> {
    if (!this.loaded) return Promise.reject(new Error('registry: load() must be called before apply()'));
    // Checked up front so one bad batch cannot fail the group it would be committed with.
    const bad = ops.find((op) => !KNOWN_OPS.has(op?.type));
    if (bad) return Promise.reject(new Error(`unknown registry operation ${JSON.stringify(bad)}`));
    return new Promise((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      if (!this.writing) this.writing = this.drain();
    });
  }

  async close(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        // Every batch is applied to a copy so a failed write leaves the committed state as it was.
        const next = this.state.clone();
        const ok = batch;
        for (const p of batch) next.apply(p.ops);
        try {
          await this.write(encodeSnapshot(next.snapshot()));
          this.state = next;
          for (const p of ok) p.resolve();
        } catch (e) {
          for (const p of ok) p.reject(new Error(`registry write failed: ${(e as Error).message}`));
        }
      }
    } finally {
      this.writing = undefined;
    }
  }

  private async write(text: string): Promise<void> {
    const tmp = join(this.dir, `${FILE}.tmp`);
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, FILE));
    const dh = await open(this.dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
    this.writes++;
  }
}

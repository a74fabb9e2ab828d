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
import { GroupCommit } from './group-commit.js';
import { decodeSnapshot, encodeSnapshot, REGISTRY_OPERATION_TYPES, RegistryState, type Registry, type RegistryOperation, type RegistrySnapshot } from './registry.js';

const FILE = 'state.json';
const KNOWN_OPS = REGISTRY_OPERATION_TYPES;

/** Registry kept in a directory on local disk (the master's default). */
export class FileRegistry implements Registry {
  private state = new RegistryState();
  private readonly commits = new GroupCommit((batches) => this.commit(batches));
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
    return this.commits.enqueue(ops);
  }

  close(): Promise<void> {
    return this.commits.idle();
  }

  /** Applies a group to a copy, so that a failed write leaves the committed state as it was. */
  private async commit(batches: RegistryOperation[][]): Promise<void> {
    const next = this.state.clone();
    for (const ops of batches) next.apply(ops);
    try {
      await this.write(encodeSnapshot(next.snapshot()));
    } catch (e) {
      throw new Error(`registry write failed: ${(e as Error).message}`);
    }
    this.state = next;
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

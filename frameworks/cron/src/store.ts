/**
 * Crash-safe state in the framework's work dir: a snapshot (`state.json`, replaced by temp +
 * fsync + rename) and an append-only journal (`journal.jsonl`) of changes since it.
 *
 * Why a journal and not a rewritten JSON file: a busy cron framework changes run records
 * hundreds of times a second; rewriting the whole state each time costs O(state) per change,
 * appending costs O(record). Changes are group-committed: `flush()` writes every record queued
 * so far with one write + fdatasync, and the scheduler awaits it before it launches anything
 * (the run, its task ID and the advanced cursor are on disk before the task exists). Records are
 * idempotent upserts, so replaying a journal over a snapshot that already holds some of it (a
 * crash between the snapshot's rename and the journal's truncation) changes nothing.
 *
 * A torn last line (crash mid-append) is dropped on load: its flush never completed, so
 * nothing was launched on its strength.
 */
import { mkdir, open, readFile, rename, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Job } from './job.js';

export type RunState = 'pending' | 'launching' | 'running' | 'retry-wait' | 'succeeded' | 'failed' | 'killed' | 'skipped';
export type RunTrigger = 'schedule' | 'catch-up' | 'manual' | 'parents';

export const TERMINAL: ReadonlySet<RunState> = new Set(['succeeded', 'failed', 'killed', 'skipped']);

/** One run: a job at one scheduled instant (its ID is derived from both). */
export interface RunRecord {
  /** `job@2025-01-01T00:00:02.000Z` */
  id: string;
  job: string;
  /** The scheduled instant (ms). */
  scheduledAt: number;
  trigger: RunTrigger;
  state: RunState;
  /** Tasks launched so far (1 + retries used). */
  attempt: number;
  taskId?: string;
  agentId?: string;
  arguments?: string[];
  /** First launch handed to the master (ms). */
  launchedAt?: number;
  /** First TASK_RUNNING seen (ms). */
  startedAt?: number;
  /** Start of the current attempt. */
  attemptStartedAt?: number;
  endedAt?: number;
  exitCode?: number;
  /** startedAt − scheduledAt for on-time scheduled runs (ms). */
  jitterMs?: number;
  /** Why it ended / was skipped. */
  message?: string;
  /** When a retry is due (retry-wait). */
  retryAt?: number;
  /** The kill was asked for (by a user, by `replace`, by disabling or rescheduling the job before the instant) or by the timeout. */
  killReason?: 'user' | 'replaced' | 'timeout' | 'unscheduled';
  /** Tasks of this run relaunched because they never ran (their IDs get `-r<n>`). */
  relaunches?: number;
}

export interface JobStats {
  successCount: number;
  errorCount: number;
  skippedCount: number;
  lastSuccess?: number;
  lastError?: number;
  /** Durations (ms) of the latest finished runs, for percentiles. */
  durations: number[];
}

export interface CronState {
  frameworkId?: string;
  jobs: Record<string, Job>;
  /** Per scheduled job: the latest instant already turned into a run or skipped (ms). */
  cursors: Record<string, number>;
  /** Per dependent job: parent → instant of its run that counts since the child's last run. */
  deps: Record<string, Record<string, number>>;
  /** Runs not yet finished, and the latest finished ones per job. */
  runs: Record<string, RunRecord>;
  stats: Record<string, JobStats>;
}

type Record_ =
  | { t: 'fw'; id: string }
  | { t: 'job'; job: Job }
  | { t: 'job-del'; name: string }
  | { t: 'cursor'; job: string; at: number }
  | { t: 'deps'; job: string; deps: Record<string, number> }
  | { t: 'run'; run: RunRecord };

export interface StoreOptions {
  /** Finished runs kept per job. @default 100 */
  historyLimit?: number;
  /** Journal records after which a snapshot is written. @default 50_000 */
  compactAfter?: number;
  /** Skip fsync (benchmarks of everything else; never in production). @default false */
  noSync?: boolean;
}

export const DURATIONS_KEPT = 200;

/**
 * Maps keyed by user-given names and IDs have no prototype, so a job or run called `valueOf`,
 * `constructor` or `__proto__` is looked up (and refused) like any other unknown name.
 */
function emptyState(): CronState {
  const dict = () => Object.create(null) as Record<string, never>;
  return { jobs: dict(), cursors: dict(), deps: dict(), runs: dict(), stats: dict() };
}

/** The state and its durable log. All mutations go through the methods here. */
export class CronStore {
  readonly state: CronState = emptyState();
  /** Finished run IDs per job, oldest first (for trimming history). */
  private finished = new Map<string, string[]>();
  /** Runs already counted as finished (a run object is updated in place, so "was it terminal before" cannot be read from it). */
  private counted = new Set<string>();
  private queue: string[] = [];
  private journal: FileHandle | undefined;
  private writing: Promise<void> = Promise.resolve();
  private nextFlush: Promise<void> | undefined;
  private journalRecords = 0;
  private lazyTimer: NodeJS.Timeout | undefined;
  private readonly historyLimit: number;
  private readonly compactAfter: number;
  private readonly noSync: boolean;
  private closed = false;

  private constructor(readonly dir: string, o: StoreOptions) {
    this.historyLimit = o.historyLimit ?? 100;
    this.compactAfter = o.compactAfter ?? 50_000;
    this.noSync = o.noSync ?? false;
  }

  /** Loads (snapshot + journal) from `dir`, creating it, and compacts. */
  static async open(dir: string, options: StoreOptions = {}): Promise<CronStore> {
    await mkdir(dir, { recursive: true });
    const s = new CronStore(dir, options);
    try {
      const snap = JSON.parse(await readFile(path.join(dir, 'state.json'), 'utf8')) as CronState;
      for (const k of ['jobs', 'cursors', 'deps', 'runs', 'stats'] as const) Object.assign(s.state[k], snap[k] ?? {});
      if (snap.frameworkId !== undefined) s.state.frameworkId = snap.frameworkId;
      for (const r of Object.values(s.state.runs).sort((a, b) => (a.endedAt ?? 0) - (b.endedAt ?? 0))) if (TERMINAL.has(r.state)) s.noteFinished(r);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cron store ${dir}/state.json: ${(e as Error).message}`);
    }
    try {
      const text = await readFile(path.join(dir, 'journal.jsonl'), 'utf8');
      for (const line of text.split('\n')) {
        if (!line) continue;
        let rec: Record_;
        try { rec = JSON.parse(line) as Record_; } catch { break; } // torn tail
        s.apply(rec);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await s.snapshot();
    return s;
  }

  private apply(rec: Record_): void {
    const st = this.state;
    switch (rec.t) {
      case 'fw': st.frameworkId = rec.id; break;
      case 'job': st.jobs[rec.job.name] = rec.job; st.stats[rec.job.name] ??= { successCount: 0, errorCount: 0, skippedCount: 0, durations: [] }; break;
      case 'job-del': {
        delete st.jobs[rec.name]; delete st.cursors[rec.name]; delete st.deps[rec.name]; delete st.stats[rec.name];
        for (const id of this.finished.get(rec.name) ?? []) { delete st.runs[id]; this.counted.delete(id); }
        this.finished.delete(rec.name);
        break;
      }
      case 'cursor': st.cursors[rec.job] = Math.max(st.cursors[rec.job] ?? -Infinity, rec.at); break;
      case 'deps': if (Object.keys(rec.deps).length) st.deps[rec.job] = rec.deps; else delete st.deps[rec.job]; break;
      case 'run': {
        st.runs[rec.run.id] = rec.run;
        if (TERMINAL.has(rec.run.state) && !this.counted.has(rec.run.id)) {
          this.count(rec.run);
          this.noteFinished(rec.run);
        }
        break;
      }
    }
  }

  private count(r: RunRecord): void {
    const s = (this.state.stats[r.job] ??= { successCount: 0, errorCount: 0, skippedCount: 0, durations: [] });
    if (r.state === 'succeeded') { s.successCount++; s.lastSuccess = r.endedAt; }
    else if (r.state === 'skipped') s.skippedCount++;
    else { s.errorCount++; s.lastError = r.endedAt; }
    if (r.state !== 'skipped' && r.startedAt !== undefined && r.endedAt !== undefined) {
      s.durations.push(r.endedAt - r.startedAt);
      if (s.durations.length > DURATIONS_KEPT) s.durations.splice(0, s.durations.length - DURATIONS_KEPT);
    }
  }

  private noteFinished(r: RunRecord): void {
    let list = this.finished.get(r.job);
    if (!list) this.finished.set(r.job, (list = []));
    list.push(r.id);
    this.counted.add(r.id);
    while (list.length > this.historyLimit) {
      const id = list.shift()!;
      delete this.state.runs[id];
      this.counted.delete(id);
    }
  }

  /** Applies a change now and queues it for the journal (written by the next flush). */
  private record(rec: Record_): void {
    if (this.closed) return;
    this.apply(rec);
    this.queue.push(JSON.stringify(rec));
    if (!this.lazyTimer) {
      this.lazyTimer = setTimeout(() => { this.lazyTimer = undefined; void this.flush().catch(() => undefined); }, 50);
      this.lazyTimer.unref();
    }
  }

  setFrameworkId(id: string): void { this.record({ t: 'fw', id }); }
  putJob(job: Job): void { this.record({ t: 'job', job }); }
  deleteJob(name: string): void { this.record({ t: 'job-del', name }); }
  setCursor(job: string, at: number): void { this.record({ t: 'cursor', job, at }); }
  setDeps(job: string, deps: Record<string, number>): void { this.record({ t: 'deps', job, deps: { ...deps } }); }
  /** Upserts a run. The object is kept (callers edit it in place and put it again); the journal gets its state as of now. */
  putRun(run: RunRecord): void { this.record({ t: 'run', run }); }

  /** Finished runs of a job, newest first. */
  history(job: string): RunRecord[] {
    return (this.finished.get(job) ?? []).map((id) => this.state.runs[id]!).filter(Boolean).reverse();
  }

  /** Writes everything queued so far durably; resolves when it is on disk. */
  flush(): Promise<void> {
    // Group commit: callers arriving while a write is under way share the next one, which
    // takes every record queued by the time it starts (one fdatasync for all of them).
    if (this.nextFlush) return this.nextFlush;
    const p = this.writing.then(async () => {
      this.nextFlush = undefined;
      const lines = this.queue;
      this.queue = [];
      if (lines.length === 0 || this.closed) return;
      this.journal ??= await open(path.join(this.dir, 'journal.jsonl'), 'a');
      await this.journal.write(`${lines.join('\n')}\n`);
      if (!this.noSync) await this.journal.datasync();
      this.journalRecords += lines.length;
      if (this.journalRecords >= this.compactAfter) await this.snapshot();
    });
    this.nextFlush = p;
    this.writing = p.catch(() => undefined);
    return p;
  }

  /** Writes the whole state to state.json (temp + fsync + rename) and empties the journal. */
  private async snapshot(): Promise<void> {
    const file = path.join(this.dir, 'state.json');
    const tmp = `${file}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify(this.state));
      if (!this.noSync) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
    if (!this.noSync) {
      const d = await open(this.dir, 'r');
      try { await d.sync(); } catch { /* some file systems refuse fsync on a directory */ } finally { await d.close(); }
    }
    await this.journal?.close();
    this.journal = undefined;
    await writeFile(path.join(this.dir, 'journal.jsonl'), '');
    this.journalRecords = 0;
  }

  /** Flushes and closes the journal. */
  async close(): Promise<void> {
    if (this.lazyTimer) clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    await this.flush().catch(() => undefined);
    await this.writing;
    this.closed = true;
    await this.journal?.close().catch(() => undefined);
    this.journal = undefined;
  }
}

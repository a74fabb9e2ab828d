/**
 * Progress of word count jobs, read from their tasks as the master lists them. A word count task
 * is named `wordcount chunk N` (ID `wordcount.N.ATTEMPT.RANDOM`) and carries the labels
 * `wordcount.chunk`, `wordcount.chunks` (how many chunks the job has), `wordcount.bytes` (the
 * chunk's length) and `wordcount.size` (the input's). Without labels (older schedulers) the
 * chunk number comes from the name and the totals are lower bounds.
 */
import type { Task } from './api-types.js';
import { TERMINAL_STATES } from './api-types.js';

export interface WordcountProgress {
  /** Chunks with a finished task. */
  chunksDone: number;
  /** Chunks with a task staging, starting or running (and none finished). */
  chunksRunning: number;
  /** Chunks whose last task failed and that have not been re-run yet. */
  chunksFailed: number;
  /** Chunks of the job; from the labels, else the highest chunk number seen + 1. */
  chunksTotal: number;
  /** False when the totals come from task names only (a lower bound). */
  exact: boolean;
  /** Bytes of the finished chunks (undefined without labels). */
  bytesDone?: number;
  /** Bytes of the input (undefined without labels). */
  bytesTotal?: number;
  /** Tasks launched, re-runs included. */
  tasks: number;
}

const NAME = /^wordcount chunk (\d+)$/;
const ID = /^wordcount\.(\d+)\./;

/** The chunk number of a word count task, or undefined for any other task. */
export function chunkOf(task: Pick<Task, 'id' | 'name' | 'labels'>): number | undefined {
  const label = task.labels?.['wordcount.chunk'];
  const raw = label ?? NAME.exec(task.name ?? '')?.[1] ?? ID.exec(task.id)?.[1];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Folds one framework's tasks into per-chunk progress. */
export function wordcountProgress(tasks: readonly Task[]): WordcountProgress {
  const chunks = new Map<number, { done: boolean; running: boolean; failed: boolean; bytes?: number; lastUpdate: number }>();
  let labelledTotal: number | undefined;
  let size: number | undefined;
  let count = 0;
  for (const t of tasks) {
    const chunk = chunkOf(t);
    if (chunk === undefined) continue;
    count++;
    const total = intLabel(t, 'wordcount.chunks');
    if (total !== undefined) labelledTotal = Math.max(labelledTotal ?? 0, total);
    const sz = intLabel(t, 'wordcount.size');
    if (sz !== undefined) size = sz;
    const c = chunks.get(chunk) ?? { done: false, running: false, failed: false, lastUpdate: -1 };
    const bytes = intLabel(t, 'wordcount.bytes');
    if (bytes !== undefined) c.bytes = bytes;
    if (t.state === 'TASK_FINISHED') c.done = true;
    else if (!TERMINAL_STATES.has(t.state)) c.running = true;
    // A failed attempt counts only while it is the chunk's latest one.
    const at = t.updatedAt ?? 0;
    if (at >= c.lastUpdate) {
      c.lastUpdate = at;
      c.failed = TERMINAL_STATES.has(t.state) && t.state !== 'TASK_FINISHED';
    }
    chunks.set(chunk, c);
  }
  let chunksDone = 0;
  let chunksRunning = 0;
  let chunksFailed = 0;
  let bytesDone = 0;
  let maxChunk = -1;
  let allBytes = true;
  for (const [n, c] of chunks) {
    maxChunk = Math.max(maxChunk, n);
    if (c.done) {
      chunksDone++;
      if (c.bytes === undefined) allBytes = false;
      else bytesDone += c.bytes;
    } else if (c.running) chunksRunning++;
    else if (c.failed) chunksFailed++;
  }
  const exact = labelledTotal !== undefined;
  return {
    chunksDone,
    chunksRunning,
    chunksFailed,
    chunksTotal: Math.max(labelledTotal ?? 0, maxChunk + 1),
    exact,
    ...(allBytes && size !== undefined ? { bytesDone, bytesTotal: size } : {}),
    tasks: count,
  };
}

function intLabel(t: Pick<Task, 'labels'>, key: string): number | undefined {
  const v = t.labels?.[key];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/**
 * The wordcount scheduler: plans byte ranges, launches one count task per range on whatever
 * offers hold the cpus, re-runs a chunk whose task failed, was killed or whose agent was lost,
 * and reduces the results. Results are keyed by chunk index: the first TASK_FINISHED of a chunk
 * is taken, any later one (a duplicate from a task thought lost) is ignored, so nothing is
 * counted twice.
 *
 * Executors are reused: the agent starts one executor process per executor ID; a chunk is
 * launched on an idle executor of that agent when there is one (no process start per chunk),
 * else on a new executor ID. So a job pays the executor start-up (~0.2 s) once per slot.
 */
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  SchedulerDriver,
  TaskState,
  executorTask,
  idOf,
  isTerminalState,
  offerFits,
  resources as res,
  taskStateName,
  type Offer,
  type Resource,
  type TaskInfo,
  type TaskStatus,
} from '@agora/sdk';
import { inflateRawSync } from 'node:zlib';
import { FreqTable, mergeTable, topKOfTable, type TopWord } from './freq.js';
import { openInput, serveFile, type InputInfo, type RangeServer } from './input.js';
import { FATAL_PREFIX, decodeResult, encodeSpec, type ChunkResult, type ChunkSpec, type ProgressMessage } from './protocol.js';
import { autoChunkCount, chunkCount, splitRanges, type ByteRange } from './split.js';

/** Options of `runWordcount`. */
export interface WordcountOptions {
  /** Master address(es) host:port. */
  master: string | string[];
  /** A local path or an http(s) URL. */
  input: string;
  /**
   * Number of chunks (wins over chunkSize). @default one per task slot in the first offers
   * (cpus / cpusPerTask), with chunks of 64 MiB to 1 GiB (see autoChunkCount)
   */
  chunks?: number;
  /** Bytes per chunk: ceil(size / chunkSize) chunks. @default see `chunks` */
  chunkSize?: number;
  /** Also return the K most frequent words. @default 0 (none) */
  top?: number;
  /** cpus of each count task. @default 1 */
  cpusPerTask?: number;
  /** MiB of each count task. @default 128 */
  memPerTask?: number;
  /** Attempts per chunk before the job fails. @default 4 */
  maxAttempts?: number;
  /** Address the range server binds (for agents on other hosts). @default '127.0.0.1' */
  serveHost?: string;
  /** Host name tasks use to reach the range server. @default serveHost (127.0.0.1 for 0.0.0.0) */
  advertiseHost?: string;
  /** Bytes per read in a count task. @default 2 MiB */
  readBytes?: number;
  /** Role of the framework. @default '*' */
  role?: string;
  /** How the agent starts the count executor. @default node + this package's executor.js */
  executorCommand?: string;
  /** Test knob: each count task sleeps this long after every read. @default 0 */
  slowMs?: number;
  /** Progress (bytes counted, chunks running / done), on every change. */
  onProgress?(p: WordcountProgress): void;
  /** The framework is subscribed: a master answers. */
  onSubscribed?(): void;
  /** A count task started counting (tests use the pid to kill it). */
  onTaskStarted?(info: { chunk: number; taskId: string; pid: number; agentId: string }): void;
  /** @default 15000 */
  connectTimeoutMs?: number;
  /** Aborting it stops the job: the framework is torn down (its tasks killed) and the call rejects. */
  signal?: AbortSignal;
}

export interface WordcountProgress {
  bytesDone: number;
  bytesTotal: number;
  chunksDone: number;
  chunksRunning: number;
  chunksTotal: number;
}

/** One chunk's outcome. */
export interface ChunkReport extends ByteRange {
  index: number;
  words: number;
  lines: number;
  bytes: number;
  /** Tasks launched for this chunk (1 unless one failed). */
  attempts: number;
  agentId: string;
  taskId: string;
  /** Reading + counting time inside the task, ms. */
  ms: number;
  maxRssKiB: number;
  kernel: string;
  via: ChunkResult['via'];
}

export interface WordcountResult {
  input: string;
  bytes: number;
  words: number;
  lines: number;
  chunks: ChunkReport[];
  /** With `top`: the most frequent words, count descending then bytes ascending. */
  top?: TopWord[];
  /** Distinct words (with `top`). */
  distinct?: number;
  timings: {
    /** Call → result, ms. */
    totalMs: number;
    /** Checking the input and moving the boundaries, ms. */
    planMs: number;
    /** Call → first task launched (subscribing and the first offer, overlapping the plan), ms. */
    launchMs: number;
    /** First launch → last chunk counted (the counting phase on the cluster), ms. */
    countMs: number;
    /** Longest in-task read+count time, ms. */
    maxTaskMs: number;
  };
  /** Count tasks launched in all (chunks + re-runs). */
  tasksLaunched: number;
}

interface Chunk extends ByteRange {
  index: number;
  state: 'pending' | 'launched' | 'done';
  attempts: number;
  taskId?: string;
  agentId?: string;
  progress: number;
  result?: ChunkResult;
  report?: ChunkReport;
}

/** How long the master keeps the framework and its tasks while the scheduler reconnects. */
const FAILOVER_TIMEOUT_SECONDS = 20;

const EXECUTOR_FILE = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './executor.ts' : './executor.js', import.meta.url));

/**
 * The one-file build of the executor (scripts/bundle-wordcount-executor.mjs, part of
 * `npm run build`): it starts with ~20–25% less CPU than dist/executor.js and its ~200 modules.
 * Used only while it is newer than every compiled file it was made from, so a stale bundle
 * (sources rebuilt without it) is never run.
 */
function freshBundle(executorFile: string): string | undefined {
  if (executorFile.endsWith('.ts')) return undefined;
  const bundle = executorFile.replace(/\.js$/, '.bundle.mjs');
  try {
    const made = statSync(bundle).mtimeMs;
    const { inputs } = JSON.parse(readFileSync(executorFile.replace(/\.js$/, '.bundle.json'), 'utf8')) as { inputs: string[] };
    return inputs.length > 0 && inputs.every((p) => statSync(p).mtimeMs <= made) ? bundle : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The command the agent runs for a count executor (absolute paths: it runs in the sandbox).
 * `executorFile` is this package's executor.js (or .ts); a caller that bundled this module
 * (the CLI's one-file fast path) passes the real one, since its own location says nothing.
 */
export function defaultExecutorCommand(executorFile = EXECUTOR_FILE): string {
  const q = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
  // The bundle, else compiled JS; from sources (unit tests under tsx) through tsx.
  if (executorFile.endsWith('.ts')) return `${q(process.execPath)} --import ${q(import.meta.resolve('tsx'))} ${q(executorFile)}`;
  return `${q(process.execPath)} ${q(freshBundle(executorFile) ?? executorFile)}`;
}

/** The job's plan: its chunks and where tasks fetch ranges over HTTP. */
interface Plan {
  ranges: ByteRange[];
  url: string | undefined;
  planMs: number;
}

/**
 * Runs a word count job on the cluster at `options.master`. The framework subscribes while the
 * boundaries are found and the range server starts (offers that come first wait for the plan),
 * so the round trips to the master overlap the planning.
 */
export async function runWordcount(options: WordcountOptions): Promise<WordcountResult> {
  const t0 = performance.now();
  const input = await openInput(options.input);
  let server: RangeServer | undefined;
  let plan: Promise<Plan> | undefined;
  let seen: (slots: number) => void = () => undefined;
  try {
    // Not with --top: a chunk's frequency map grows with its distinct words and must fit one
    // status update, so --top keeps the 64 MiB default.
    const auto = options.chunks === undefined && options.chunkSize === undefined && !(options.top ?? 0);
    const fixed = auto ? 0 : chunkCount(input.size, options);
    // With auto chunking the plan waits for the first offers (they come while the input's
    // boundaries would be searched anyway), or falls back to 64 MiB chunks after a while.
    const slots = new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(0), AUTO_CHUNK_WAIT_MS);
      seen = (s) => {
        clearTimeout(timer);
        resolve(s);
      };
    });
    plan = (async () => {
      const n = auto ? await slots.then((s) => (s > 0 ? autoChunkCount(input.size, s) : chunkCount(input.size, {}))) : fixed;
      const ranges = await splitRanges(input.size, n, input.readAt);
      if (input.kind === 'file') server = await serveFile(input.path!, input.size, options.serveHost, options.advertiseHost);
      return { ranges, url: server?.url ?? input.url, planMs: performance.now() - t0 };
    })();
    return await runJob(options, input, plan, t0, (s) => seen(s));
  } finally {
    seen(0); // a job that ended before any offer came does not leave the plan waiting
    await plan?.catch(() => undefined);
    await server?.close();
    await input.close();
  }
}

/** How long auto chunking waits for offers before it plans 64 MiB chunks. */
const AUTO_CHUNK_WAIT_MS = 2000;

/**
 * The cpus of the next count task from an offer holding `have` cpus: `want`, or what is left
 * when that is at least half of it (an agent with 1.9 free cpus runs two tasks, one of them at
 * 0.9, rather than leave most of a core idle); 0 when it holds less.
 */
export function taskCpus(have: number, want: number): number {
  if (have + 1e-9 >= want) return want;
  return have + 1e-9 >= want / 2 ? Math.floor(have * 1000) / 1000 : 0;
}

/** Task slots in offers: how many count tasks (see taskCpus) of `mem` each one holds. */
function slotsIn(offers: Offer[], cpus: number, mem: number): number {
  let n = 0;
  for (const o of offers) {
    const have = o.resources ?? [];
    let c = res.scalarOf(have, 'cpus');
    let m = res.scalarOf(have, 'mem');
    for (let t = taskCpus(c, cpus); t > 0 && m + 1e-9 >= mem; t = taskCpus(c, cpus)) {
      n++;
      c -= t;
      m -= mem;
    }
  }
  return n;
}

function runJob(options: WordcountOptions, input: InputInfo, plan: Promise<Plan>, t0: number, offersSeen: (slots: number) => void): Promise<WordcountResult> {
  const cpus = options.cpusPerTask ?? 1;
  const mem = options.memPerTask ?? 128;
  const maxAttempts = options.maxAttempts ?? 4;
  const freq = (options.top ?? 0) > 0;
  const command = options.executorCommand ?? defaultExecutorCommand();
  let chunks: Chunk[] = [];
  const pending: number[] = [];
  let url: string | undefined;
  let planMs = 0;
  let planned = false;
  /** Offers that came before the plan was ready. */
  const early: Offer[] = [];
  const byTask = new Map<string, number>();
  const taskExecutor = new Map<string, { agentId: string; executorId: string }>();
  const idle = new Map<string, string[]>(); // agentId → idle executor IDs
  const started = new Set<string>();
  const merged = new FreqTable();
  let executorSeq = 0;
  let done = 0;
  let launched = 0;
  let countStart = 0;
  let countEnd = 0;
  let running = 0;

  const progress = (): void => {
    if (!options.onProgress) return;
    let bytesDone = 0;
    for (const c of chunks) bytesDone += c.state === 'done' ? c.end - c.start : Math.min(c.progress, c.end - c.start);
    options.onProgress({ bytesDone, bytesTotal: input.size, chunksDone: done, chunksRunning: running, chunksTotal: chunks.length });
  };

  return new Promise<WordcountResult>((resolve, reject) => {
    let finished = false;
    const finish = (err: Error | undefined): void => {
      if (finished) return;
      finished = true;
      void driver.stop().catch(() => undefined).then(() => {
        if (err) { reject(err); return; }
        const reports = chunks.map((c) => c.report!);
        const total = reports.reduce((a, r) => ({ words: a.words + r.words, lines: a.lines + r.lines, bytes: a.bytes + r.bytes }), { words: 0, lines: 0, bytes: 0 });
        const result: WordcountResult = {
          input: input.name,
          ...total,
          chunks: reports,
          timings: {
            totalMs: round(performance.now() - t0),
            planMs: round(planMs),
            launchMs: round(countStart - t0),
            countMs: round(countEnd - countStart),
            maxTaskMs: Math.max(0, ...reports.map((r) => r.ms)),
          },
          tasksLaunched: launched,
        };
        if (freq) {
          result.top = topKOfTable(merged, options.top!);
          result.distinct = merged.size;
        }
        resolve(result);
      });
    };

    const requeue = (c: Chunk, why: string): void => {
      if (c.state === 'done') return;
      if (c.state === 'launched') running = Math.max(0, running - 1);
      if (c.attempts >= maxAttempts) {
        finish(new Error(`chunk ${c.index} (bytes ${c.start}-${c.end}) failed ${c.attempts} times; last: ${why}`));
        return;
      }
      c.state = 'pending';
      c.taskId = undefined;
      c.progress = 0;
      if (!pending.includes(c.index)) pending.unshift(c.index);
      driver.revive();
      progress();
    };

    const buildTasks = (offer: Offer): TaskInfo[] => {
      const agentId = idOf(offer.agentId);
      let left: Resource[] = offer.resources ?? [];
      const tasks: TaskInfo[] = [];
      while (pending.length > 0) {
        const probe = { ...offer, resources: left };
        const cpusNow = taskCpus(res.scalarOf(left, 'cpus'), cpus);
        if (cpusNow <= 0 || !offerFits(probe, { cpus: cpusNow, mem })) break;
        const c = chunks[pending[0]!]!;
        const executorId = idle.get(agentId)?.pop() ?? `wordcount-${executorSeq++}`;
        c.attempts++;
        const taskId = `wordcount.${c.index}.${c.attempts}.${Math.random().toString(16).slice(2, 8)}`;
        const spec: ChunkSpec = {
          v: 1, chunk: c.index, start: c.start, end: c.end, size: input.size, freq,
          ...(input.path ? { path: input.path, mtimeMs: input.mtimeMs } : {}),
          ...(url ? { url } : {}),
          ...(options.readBytes ? { readBytes: options.readBytes } : {}),
          ...(options.slowMs ? { slowMs: options.slowMs } : {}),
        };
        const task = executorTask(offer, {
          name: `wordcount chunk ${c.index}`, taskId, cpus: cpusNow, mem, from: left, data: encodeSpec(spec),
          // For operators (the web UI's progress view): which chunk of how many, and its bytes.
          labels: { 'wordcount.chunk': String(c.index), 'wordcount.chunks': String(chunks.length), 'wordcount.bytes': String(c.end - c.start), 'wordcount.size': String(input.size) },
          executor: { executorId, name: 'wordcount count executor', command },
        });
        left = res.subtract(left, task.resources ?? []);
        pending.shift();
        c.state = 'launched';
        c.taskId = taskId;
        c.agentId = agentId;
        byTask.set(taskId, c.index);
        taskExecutor.set(taskId, { agentId, executorId });
        tasks.push(task);
        launched++;
        running++;
      }
      return tasks;
    };

    const onFinished = (c: Chunk, status: TaskStatus, taskId: string): void => {
      let decoded;
      try {
        decoded = decodeResult(status.data ?? undefined);
      } catch (err) {
        requeue(c, `unreadable result: ${(err as Error).message}`);
        return;
      }
      const r = decoded.result;
      if (r.chunk !== c.index || r.bytes !== c.end - c.start) {
        requeue(c, `task ${taskId} counted ${r.bytes} bytes of chunk ${r.chunk}, expected ${c.end - c.start} of chunk ${c.index}`);
        return;
      }
      if (freq) {
        if (!decoded.map && r.words > 0) { requeue(c, 'result without its frequency map'); return; }
        if (decoded.map) {
          try {
            mergeTable(merged, r.mapEncoding === 'deflate-raw' ? inflateRawSync(decoded.map) : decoded.map);
          } catch (err) {
            requeue(c, `unreadable frequency map: ${(err as Error).message}`);
            return;
          }
        }
      }
      if (c.state === 'launched') running = Math.max(0, running - 1);
      c.state = 'done';
      c.result = r;
      c.report = {
        index: c.index, start: c.start, end: c.end, words: r.words, lines: r.lines, bytes: r.bytes, attempts: c.attempts,
        agentId: idOf(status.agentId) || c.agentId || '', taskId, ms: r.ms, maxRssKiB: r.maxRssKiB, kernel: r.kernel, via: r.via,
      };
      done++;
      countEnd = performance.now();
      progress();
      if (done === chunks.length) finish(undefined);
    };

    const handleOffers = (d: SchedulerDriver, offers: Offer[]): void => {
      for (const offer of offers) {
        const tasks = finished ? [] : buildTasks(offer);
        if (tasks.length === 0) {
          // Nothing to run here: stay away a while (revive() brings offers back for a re-run).
          d.decline(idOf(offer.id), { refuseSeconds: pending.length > 0 ? 0.5 : 30 });
          continue;
        }
        if (countStart === 0) countStart = performance.now();
        d.launch(idOf(offer.id), tasks, { refuseSeconds: 0.2 });
        progress();
      }
    };

    const driver: SchedulerDriver = new SchedulerDriver({
      master: options.master,
      // A short failover timeout: a stream that breaks (a master too busy to heartbeat in time)
      // is re-subscribed with the same framework and its running tasks; a job that ends tears
      // its framework down at once (driver.stop()).
      framework: { name: 'wordcount', roles: [options.role ?? '*'], failoverTimeoutSeconds: FAILOVER_TIMEOUT_SECONDS },
      ...(options.connectTimeoutMs ? { connectTimeoutMs: options.connectTimeoutMs } : {}),
      callbacks: {
        subscribed() {
          options.onSubscribed?.();
        },
        resourceOffers(d, offers) {
          if (!planned) {
            early.push(...offers);
            offersSeen(slotsIn(early, cpus, mem));
            return;
          }
          handleOffers(d, offers);
        },
        statusUpdate(_d, status) {
          const taskId = idOf(status.taskId);
          const index = byTask.get(taskId);
          if (index === undefined || finished) return;
          const c = chunks[index]!;
          const exec = taskExecutor.get(taskId);
          if (status.state === TaskState.TASK_FINISHED) {
            if (exec) (idle.get(exec.agentId) ?? idle.set(exec.agentId, []).get(exec.agentId)!).push(exec.executorId);
            if (c.state === 'done') return; // a late duplicate: already counted once
            onFinished(c, status, taskId);
            return;
          }
          if (!isTerminalState(status.state)) return;
          // A failed executor may be gone: never hand it another chunk.
          taskExecutor.delete(taskId);
          if (status.message?.startsWith(FATAL_PREFIX)) {
            finish(new Error(status.message.slice(FATAL_PREFIX.length)));
            return;
          }
          if (c.taskId === taskId) requeue(c, `${taskStateName(status.state)}${status.message ? `: ${status.message}` : ''}`);
        },
        frameworkMessage(_d, agentId, _executorId, data) {
          let msg: ProgressMessage;
          try {
            msg = JSON.parse(Buffer.from(data).toString('utf8')) as ProgressMessage;
          } catch {
            return;
          }
          if (msg.t !== 'progress') return;
          const index = byTask.get(msg.taskId);
          if (index === undefined) return;
          const c = chunks[index]!;
          if (c.taskId === msg.taskId) c.progress = msg.bytes;
          if (!started.has(msg.taskId)) {
            started.add(msg.taskId);
            options.onTaskStarted?.({ chunk: index, taskId: msg.taskId, pid: msg.pid, agentId });
          }
          progress();
        },
        failure(_d, agentId, executorId) {
          if (executorId) {
            const list = idle.get(agentId);
            if (list) idle.set(agentId, list.filter((e) => e !== executorId));
            return;
          }
          // The agent is lost: its executors with it. Its tasks come back as TASK_LOST updates;
          // re-run them now anyway, the first result per chunk wins.
          idle.delete(agentId);
          for (const c of chunks) if (c.state === 'launched' && c.agentId === agentId) requeue(c, `agent ${agentId} lost`);
        },
        error(d, message) {
          // A refused call (e.g. declining an offer the master rescinded meanwhile) leaves the
          // stream up: launches on stale offers come back as TASK_DROPPED and are re-run. Only a
          // refusal of the framework itself stops the driver, and the job.
          if (d.connected) return;
          finish(new Error(`the master refused the wordcount framework: ${message}`));
        },
      },
    });
    driver.start().catch((err: Error) => finish(err));
    if (options.signal) {
      const onAbort = (): void => finish(new Error('interrupted; the job was stopped'));
      if (options.signal.aborted) onAbort();
      else options.signal.addEventListener('abort', onAbort, { once: true });
    }
    plan.then((p) => {
      url = p.url;
      planMs = p.planMs;
      chunks = p.ranges.map((r, index) => ({ ...r, index, state: 'pending', attempts: 0, progress: 0 }));
      pending.push(...chunks.map((c) => c.index));
      planned = true;
      if (early.length > 0 && !finished) handleOffers(driver, early.splice(0));
    }, (err: Error) => finish(err));
  });
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

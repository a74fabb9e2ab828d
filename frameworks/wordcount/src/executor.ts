/**
 * The count executor: a process the agent starts (once per executor ID, reused for later
 * chunks of the same job) that counts the byte range each task names and answers with the
 * counts (and the frequency map for --top) in the TASK_FINISHED status update's data.
 *
 * Run by the agent as `node …/dist/executor.js`; it needs nothing but @agora/sdk.
 */
import { ExecutorDriver, TaskState, idOf, type TaskInfo } from '@agora/sdk';
import { deflateRawSync } from 'node:zlib';
import { encodeTable } from './freq.js';
import { FATAL_PREFIX, MAX_MAP_BYTES, decodeSpec, encodeResult, type ChunkResult, type ProgressMessage } from './protocol.js';
import { DEFAULT_READ_BYTES, SinkPool, openIfSame, readFileRange, readHttpRange, sinkCounts } from './range-read.js';

const running = new Map<string, AbortController>();
const sinks = new SinkPool();
const PROGRESS_EVERY_MS = 200;

async function countTask(d: ExecutorDriver, task: TaskInfo): Promise<void> {
  const taskId = idOf(task.taskId);
  const abort = new AbortController();
  running.set(taskId, abort);
  d.sendStatusUpdate({ taskId, state: TaskState.TASK_RUNNING });
  try {
    const spec = decodeSpec(task.data ?? undefined);
    const t0 = performance.now();
    const sink = sinks.take(spec.freq, spec.readBytes ?? DEFAULT_READ_BYTES);
    let lastSent = 0;
    const hooks = {
      signal: abort.signal,
      ...(spec.slowMs ? { slowMs: spec.slowMs } : {}),
      progress(bytes: number) {
        const now = performance.now();
        if (now - lastSent < PROGRESS_EVERY_MS) return;
        lastSent = now;
        const msg: ProgressMessage = { t: 'progress', taskId, chunk: spec.chunk, bytes, pid: process.pid };
        d.sendFrameworkMessage(Buffer.from(JSON.stringify(msg)));
      },
    };
    // Tell the scheduler who we are right away (progress bar; tests find the pid to kill).
    d.sendFrameworkMessage(Buffer.from(JSON.stringify({ t: 'progress', taskId, chunk: spec.chunk, bytes: 0, pid: process.pid } satisfies ProgressMessage)));
    const fh = await openIfSame(spec.path, spec.size, spec.mtimeMs);
    let via: ChunkResult['via'];
    if (fh) {
      via = 'file';
      try {
        await readFileRange(fh, spec.start, spec.end, sink, hooks);
      } finally {
        await fh.close();
      }
    } else if (spec.url) {
      via = 'http';
      await readHttpRange(spec.url, spec.start, spec.end, sink, hooks);
    } else {
      throw new Error(`${spec.path ?? 'the input'} is not readable on this host and no URL was given`);
    }
    let map: Uint8Array | undefined;
    const result: ChunkResult = {
      chunk: spec.chunk,
      ...sinkCounts(sink),
      ms: Math.round((performance.now() - t0) * 10) / 10,
      maxRssKiB: process.resourceUsage().maxRSS,
      kernel: sink.kind === 'count' ? sink.counter.kind : 'js-hash',
      via,
    };
    if (sink.kind === 'freq') {
      map = encodeTable(sink.scanner.table);
      result.distinct = sink.scanner.table.size;
      if (map.length > MAX_MAP_BYTES) {
        map = deflateRawSync(map, { level: 1 });
        result.mapEncoding = 'deflate-raw';
      }
      if (map.length > MAX_MAP_BYTES) {
        throw Object.assign(new Error(`${FATAL_PREFIX}chunk ${spec.chunk} has ${result.distinct} distinct words (${(map.length / 2 ** 20).toFixed(1)} MiB compressed), more than a status update carries; use a smaller --chunk-size`), { fatal: true });
      }
    }
    // Only a sink whose reads all completed goes back (an aborted read may still be filling it).
    sinks.give(sink);
    d.sendStatusUpdate({ taskId, state: TaskState.TASK_FINISHED, data: encodeResult(result, map), message: `${result.words} words` });
  } catch (err) {
    if (abort.signal.aborted) {
      d.sendStatusUpdate({ taskId, state: TaskState.TASK_KILLED, message: 'killed while counting' });
    } else {
      d.sendStatusUpdate({ taskId, state: TaskState.TASK_FAILED, message: (err as Error).message.split('\n')[0] ?? 'count failed' });
    }
  } finally {
    running.delete(taskId);
  }
}

const driver = new ExecutorDriver({
  callbacks: {
    launchTask(d, task) {
      // Not awaited: the driver keeps delivering events (kills) while we count.
      void countTask(d, task);
    },
    killTask(_d, taskId) {
      running.get(taskId)?.abort();
    },
    shutdown() {
      for (const a of running.values()) a.abort();
    },
  },
});
const started = driver.start();
// Fault the first count sink's buffers in while the driver connects (see SinkPool).
sinks.warm(false, DEFAULT_READ_BYTES);
await started;

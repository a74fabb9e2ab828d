/**
 * What travels between the wordcount scheduler and its count tasks:
 * - TaskInfo.data: the `ChunkSpec` (JSON) — which byte range of which input, and how to reach it;
 * - TaskStatus.data of TASK_FINISHED: the `ChunkResult` (u32 header length, JSON header, then
 *   the frequency map when --top asked for one). Status updates are reliable (the agent
 *   retries them until acknowledged), which is why results ride on them;
 * - framework messages (unreliable, fine for that): progress of running tasks.
 */

/** A count task's assignment. */
export interface ChunkSpec {
  v: 1;
  /** Chunk index (results are keyed by it: a late duplicate never counts twice). */
  chunk: number;
  /** Byte range [start, end) of the input; start is 0 or a whitespace byte. */
  start: number;
  end: number;
  /** The input as a local path: used when it exists on the task's host with the same size and mtime. */
  path?: string;
  /** The input over HTTP (Range requests): an http(s) input, or the scheduler's range server. */
  url?: string;
  /** Size and mtime of the input, to recognise the same file on the task's host. */
  size: number;
  mtimeMs?: number;
  /** Build the frequency map (for --top). */
  freq: boolean;
  /** Bytes per read. @default 2 MiB */
  readBytes?: number;
  /** Test knob: sleep this long after each read (makes a chunk slow enough to kill). @default 0 */
  slowMs?: number;
}

/** A count task's answer (the JSON header of TaskStatus.data). */
export interface ChunkResult {
  chunk: number;
  words: number;
  lines: number;
  bytes: number;
  /** Time spent reading and counting, ms. */
  ms: number;
  /** Peak RSS of the executor process, KiB. */
  maxRssKiB: number;
  kernel: string;
  /** How the range was read. */
  via: 'file' | 'http';
  /** Distinct words in the map (when freq). */
  distinct?: number;
  /** How the map after the header is encoded: as is, or raw deflate (a map too big to send as is). @default 'raw' */
  mapEncoding?: 'raw' | 'deflate-raw';
}

/** A framework message from a count task. */
export interface ProgressMessage {
  t: 'progress';
  taskId: string;
  chunk: number;
  /** Bytes of the chunk counted so far. */
  bytes: number;
  /** The executor's pid (tests kill it). */
  pid: number;
}

export function encodeSpec(spec: ChunkSpec): Uint8Array {
  return Buffer.from(JSON.stringify(spec));
}

export function decodeSpec(data: Uint8Array | undefined): ChunkSpec {
  if (!data || data.length === 0) throw new Error('task has no chunk spec in its data');
  const spec = JSON.parse(Buffer.from(data).toString('utf8')) as ChunkSpec;
  if (spec.v !== 1 || !Number.isInteger(spec.start) || !Number.isInteger(spec.end) || spec.end < spec.start) throw new Error('bad chunk spec');
  return spec;
}

export function encodeResult(result: ChunkResult, map?: Uint8Array): Uint8Array {
  const head = Buffer.from(JSON.stringify(result));
  const out = Buffer.allocUnsafe(4 + head.length + (map?.length ?? 0));
  out.writeUInt32BE(head.length, 0);
  head.copy(out, 4);
  if (map) out.set(map, 4 + head.length);
  return out;
}

export function decodeResult(data: Uint8Array | undefined): { result: ChunkResult; map: Uint8Array | undefined } {
  if (!data || data.length < 4) throw new Error('finished task carries no result');
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const n = buf.readUInt32BE(0);
  const result = JSON.parse(buf.subarray(4, 4 + n).toString('utf8')) as ChunkResult;
  const rest = buf.subarray(4 + n);
  return { result, map: rest.length > 0 ? rest : undefined };
}

/**
 * Largest frequency map a task sends (status updates share a 64 MiB gRPC frame). A map up to
 * this size goes as is (deflating costs the busy executor ~0.2 s per 64 MiB chunk and saves
 * nothing on a local link); a bigger one is deflated, and must then fit.
 */
export const MAX_MAP_BYTES = 16 << 20;
/** Message prefix of a failure that re-running cannot fix. */
export const FATAL_PREFIX = 'fatal: ';

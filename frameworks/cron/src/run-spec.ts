/**
 * What the scheduler tells the cron executor about one run, carried in `TaskInfo.data` as JSON:
 * the command, its environment, and the instant before which it must not start. Kept in one
 * place so both sides agree on it, and validated on the executor side (a task with bad data
 * fails with a message naming the field instead of crashing the executor and its other runs).
 */

/** One run as the executor receives it. */
export interface RunSpec {
  /** Format version. */
  v: 1;
  /** The run's ID (`job@instant`), for the environment and the logs. */
  run: string;
  /** Do not start before this instant (ms since the epoch); 0 = at once. */
  startAt: number;
  /** A shell command line (`shell`), or an executable with argv (argv[0] included). */
  command: { value: string; shell: boolean; arguments?: string[] };
  /** The command's environment on top of the executor's own. */
  env: Record<string, string>;
}

/** TaskInfo.data of a run. */
export function encodeRunSpec(spec: RunSpec): Uint8Array {
  return Buffer.from(JSON.stringify(spec));
}

/** Parses and checks TaskInfo.data; throws an Error naming the first bad field. */
export function decodeRunSpec(data: Uint8Array | null | undefined): RunSpec {
  if (!data || data.length === 0) throw new Error('task data is empty: not a cron run');
  let x: unknown;
  try {
    x = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch (e) {
    throw new Error(`task data is not JSON: ${(e as Error).message}`);
  }
  const o = x as Partial<RunSpec>;
  if (typeof o !== 'object' || o === null) throw new Error('task data: expected an object');
  if (o.v !== 1) throw new Error(`task data: v ${String(o.v)} is not a known version (1)`);
  if (typeof o.run !== 'string' || !o.run) throw new Error('task data: run must be a non-empty string');
  if (typeof o.startAt !== 'number' || !Number.isFinite(o.startAt) || o.startAt < 0) throw new Error('task data: startAt must be a non-negative number (ms)');
  const c = o.command;
  if (typeof c !== 'object' || c === null || typeof c.value !== 'string' || !c.value) throw new Error('task data: command.value must be a non-empty string');
  if (typeof c.shell !== 'boolean') throw new Error('task data: command.shell must be a boolean');
  if (c.arguments !== undefined && (!Array.isArray(c.arguments) || c.arguments.some((a) => typeof a !== 'string'))) throw new Error('task data: command.arguments must be strings');
  if (typeof o.env !== 'object' || o.env === null || Object.values(o.env).some((v) => typeof v !== 'string')) throw new Error('task data: env must map names to strings');
  return { v: 1, run: o.run, startAt: o.startAt, command: { value: c.value, shell: c.shell, ...(c.arguments ? { arguments: c.arguments } : {}) }, env: o.env };
}

/**
 * `TaskStatus.data` of the executor's updates once a command started: its real start (ms). The
 * terminal update carries it too, because a framework that was away may learn of the run only
 * from that one (reconciliation answers with the latest state).
 */
export function encodeStarted(startedAt: number): Uint8Array {
  return Buffer.from(JSON.stringify({ startedAt }));
}

/** The start time in an executor's update, or undefined (command tasks, other data). */
export function decodeStarted(data: Uint8Array | null | undefined): number | undefined {
  if (!data || data.length === 0 || data.length > 200) return undefined;
  try {
    const v = (JSON.parse(Buffer.from(data).toString('utf8')) as { startedAt?: unknown }).startedAt;
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

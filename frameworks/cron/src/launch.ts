/**
 * How a run becomes a task: its IDs, and the TaskInfo built from an offer.
 *
 * Runs of a job without `fetch` URIs go to the cron executor (executor.ts, one per agent,
 * executor ID `agora-cron`): the task is launched ahead of the instant and carries a RunSpec
 * (run-spec.ts) saying when to start. Jobs that fetch URIs need the agent's fetcher, so they run
 * as plain command tasks launched at the instant.
 */
import { fileURLToPath } from 'node:url';
import { commandTask, executorTask, type Offer, type Resource, type TaskInfo, type TaskStatus } from '@agora/sdk';
import { commandOf, type Job } from './job.js';
import { decodeStarted, encodeRunSpec } from './run-spec.js';
import type { RunRecord } from './store.js';

/** The cron executor's ID: one executor per agent, reused for every run placed there. */
export const EXECUTOR_ID = 'agora-cron';

const iso = (ms: number): string => new Date(ms).toISOString();

/** `job@2025-01-01T00:00:02.000Z`: the run of a job at an instant. */
export function runId(job: string, at: number): string {
  return `${job}@${iso(at)}`;
}

/** The run a task belongs to (task IDs are `<run id>.<attempt>`, relaunches `<run id>.<attempt>-r<n>`). */
export function runOfTask(taskId: string): string {
  const i = taskId.lastIndexOf('.');
  return i < 0 ? taskId : taskId.slice(0, i);
}

/** The task ID of an attempt; a relaunch of a task that never ran gets a fresh one. */
export function taskIdOf(run: string, attempt: number, relaunch: number): string {
  return relaunch > 0 ? `${run}.${attempt}-r${relaunch}` : `${run}.${attempt}`;
}

/** True when the job's runs go to the cron executor (and so can be launched ahead). */
export function viaExecutor(job: Job, executorCommand: string | undefined): boolean {
  return executorCommand !== undefined && job.fetch.length === 0;
}

const EXECUTOR_FILE = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './executor.ts' : './executor.js', import.meta.url));

/** The command the agent runs for the cron executor (absolute paths: it runs in the sandbox). */
export function defaultExecutorCommand(): string {
  const q = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;
  // Compiled JS normally; from sources (tests under tsx) through tsx.
  return EXECUTOR_FILE.endsWith('.ts')
    ? `${q(process.execPath)} --import ${q(import.meta.resolve('tsx'))} ${q(EXECUTOR_FILE)}`
    : `${q(process.execPath)} ${q(EXECUTOR_FILE)}`;
}

/** What `runTask` needs besides the offer, job and run. */
export interface RunTaskOptions {
  taskId: string;
  /** Resources left in the offer after the tasks already built from it. */
  from: Resource[];
  /** The cron executor's command; undefined = command tasks only. */
  executorCommand: string | undefined;
  /** The cron executor's own resources (the same in every task naming it). */
  executorResources?: { cpus: number; mem: number };
  /** The executor starts the command at this instant (ms), not before; 0 = at once. */
  startAt: number;
}

/** The TaskInfo of one attempt of a run (throws naming the shortfall when the offer is too small). */
export function runTask(offer: Offer, job: Job, r: RunRecord, o: RunTaskOptions): TaskInfo {
  const env = { ...job.env, AGORA_CRON_JOB: job.name, AGORA_CRON_RUN: r.id, AGORA_CRON_SCHEDULED_AT: iso(r.scheduledAt) };
  const common = {
    name: `cron ${job.name}`,
    taskId: o.taskId,
    cpus: job.cpus,
    mem: job.mem,
    disk: job.disk,
    labels: { 'agora.cron.job': job.name, 'agora.cron.run': r.id },
    from: o.from,
  };
  const command = commandOf(job, r.arguments);
  if (!viaExecutor(job, o.executorCommand)) {
    return commandTask(offer, {
      ...common,
      command,
      env,
      uris: job.fetch.map((f) => ({ value: f.uri, executable: f.executable, extract: f.extract, cache: f.cache })),
    });
  }
  // The job's env travels in the run spec: the executor's own env must be the same for every
  // task naming it (it is one process per agent).
  return executorTask(offer, {
    ...common,
    executor: { executorId: EXECUTOR_ID, name: 'agora cron executor', command: o.executorCommand!, ...(o.executorResources ? { resources: o.executorResources } : {}) },
    data: encodeRunSpec({ v: 1, run: r.id, startAt: o.startAt, command, env }),
  });
}

/**
 * When the attempt's command really started: the executor says so in the update's data (else
 * the update's timestamp). A time from another clock (a FakeClock, a skewed host) is not
 * trusted: then it is `now`.
 */
export function realStart(r: RunRecord, s: TaskStatus, now: number): number {
  const ts = decodeStarted(s.data) ?? (s.timestamp ? Math.round(s.timestamp * 1000) : 0);
  return ts > 0 && ts <= now + 1000 && ts >= (r.attemptStartedAt ?? now) - 60_000 ? ts : now;
}

/** An offer's attributes as name → text. */
export function attributesOf(offer: Offer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of offer.attributes ?? []) {
    if (!a.name) continue;
    if (a.text?.value !== undefined && a.text.value !== null) out[a.name] = a.text.value;
    else if (a.scalar?.value !== undefined && a.scalar.value !== null) out[a.name] = String(a.scalar.value);
  }
  return out;
}

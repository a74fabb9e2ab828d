/**
 * The job model and its validation, pure (CONVENTIONS §4): `validateJob` returns every problem
 * with the field it concerns, so the API can answer 422 naming each field and store nothing.
 * `compileJob` fills in the defaults once (CONVENTIONS §7); the rest of the framework only sees
 * complete `Job`s.
 */
import { parseSchedule, ScheduleError, type Schedule } from './schedule.js';

export type ConcurrencyPolicy = 'allow' | 'forbid' | 'replace';
export type MissedRunPolicy = 'skip' | 'run-once' | 'catch-up';
export type ConstraintOperator = 'EQUALS' | 'LIKE' | 'UNLIKE';
/** `[field, operator, value]`: field is `hostname` or an agent attribute name (Chronos/Marathon form). */
export type Constraint = [string, ConstraintOperator, string];

export interface FetchUri {
  uri: string;
  /** @default false */
  executable?: boolean;
  /** @default true */
  extract?: boolean;
  /** @default false */
  cache?: boolean;
}

/** A job as a user writes it (job.json, POST /v1/jobs). */
export interface JobSpec {
  /** Unique; letters, digits, `_ . -` (it is part of run and task IDs). */
  name: string;
  /** A shell command line, or with `shell: false` the executable (then `arguments` are its argv after argv[0]). */
  command: string;
  /** @default true */
  shell?: boolean;
  /** Extra arguments (appended to the shell line quoted, or argv with `shell: false`). @default [] */
  arguments?: string[];
  /** ISO 8601 `R[n]/start/period` or a cron expression (5 or 6 fields). Exactly one of schedule / parents. */
  schedule?: string;
  /** IANA time zone of the schedule. @default 'UTC' */
  timezone?: string;
  /** Jobs that must all succeed (since this job's last run) before it runs. */
  parents?: string[];
  /** @default 0.1 */
  cpus?: number;
  /** MiB. @default 32 */
  mem?: number;
  /** MiB. @default 0 */
  disk?: number;
  /** @default {} */
  env?: Record<string, string>;
  /** URIs fetched into the sandbox. @default [] */
  fetch?: FetchUri[];
  /** @default '' */
  owner?: string;
  /** @default '' */
  description?: string;
  /** A disabled job keeps its history but does not fire (its instants are skipped). @default false */
  disabled?: boolean;
  /** Extra attempts after a failed one. @default 0 */
  retries?: number;
  /** Wait between a failure and the next attempt. @default 1 */
  retryDelaySeconds?: number;
  /** What an instant does while a run of the job is still going. @default 'allow' */
  concurrencyPolicy?: ConcurrencyPolicy;
  /** An attempt running longer is killed and counts as failed. @default 0 (no limit) */
  timeoutSeconds?: number;
  /** @default [] */
  constraints?: Constraint[];
  /** A failure of this job (after its retries) still lets its children run. @default false */
  softError?: boolean;
  /** An instant not started within this many seconds counts as missed. @default none (never late) */
  startingDeadlineSeconds?: number;
  /** What happens to instants missed while the framework or cluster was down. @default 'run-once' */
  missedRunPolicy?: MissedRunPolicy;
  /** With `catch-up`: most missed instants run (the latest ones); older ones are skipped. @default 10 */
  maxCatchUp?: number;
}

/** A compiled job: every default filled in. */
export interface Job extends Required<Omit<JobSpec, 'schedule' | 'startingDeadlineSeconds'>> {
  schedule?: string;
  startingDeadlineSeconds?: number;
  /** When the job was created (ms): the start of an ISO schedule with an empty start. */
  createdAt: number;
  updatedAt: number;
}

export interface FieldError {
  field: string;
  message: string;
}

export const JOB_DEFAULTS = {
  shell: true,
  timezone: 'UTC',
  cpus: 0.1,
  mem: 32,
  disk: 0,
  retries: 0,
  retryDelaySeconds: 1,
  concurrencyPolicy: 'allow' as ConcurrencyPolicy,
  timeoutSeconds: 0,
  missedRunPolicy: 'run-once' as MissedRunPolicy,
  maxCatchUp: 10,
} as const;

/** Bound on `maxCatchUp`, so a long outage cannot flood the cluster. */
export const MAX_CATCH_UP = 1000;

const NAME_RE = /^[A-Za-z0-9_.-]{1,100}$/;
const KNOWN = new Set(['name', 'command', 'shell', 'arguments', 'schedule', 'timezone', 'parents', 'cpus', 'mem', 'disk', 'env', 'fetch', 'owner',
  'description', 'disabled', 'retries', 'retryDelaySeconds', 'concurrencyPolicy', 'timeoutSeconds', 'constraints', 'softError',
  'startingDeadlineSeconds', 'missedRunPolicy', 'maxCatchUp', 'createdAt', 'updatedAt']);

/** Problems of one job on its own (not its place in the DAG). `now` anchors an empty ISO start. */
export function validateJobSpec(raw: unknown, now = 0): FieldError[] {
  const errs: FieldError[] = [];
  const add = (field: string, message: string): void => { errs.push({ field, message }); };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return [{ field: '(body)', message: 'a job is a JSON object' }];
  const j = raw as Record<string, unknown>;
  for (const k of Object.keys(j)) if (!KNOWN.has(k)) add(k, 'is not a job field');
  if (typeof j.name !== 'string' || !NAME_RE.test(j.name)) add('name', 'is required: 1-100 letters, digits, _ . -');
  if (typeof j.command !== 'string' || !j.command.trim()) add('command', 'is required: a shell command line, or the executable with shell: false');
  const bool = (f: string): void => { if (j[f] !== undefined && typeof j[f] !== 'boolean') add(f, 'must be true or false'); };
  ['shell', 'disabled', 'softError'].forEach(bool);
  const strs = (f: string): void => { if (j[f] !== undefined && (!Array.isArray(j[f]) || !(j[f] as unknown[]).every((x) => typeof x === 'string'))) add(f, 'must be a list of strings'); };
  strs('arguments');
  strs('parents');
  for (const f of ['owner', 'description']) if (j[f] !== undefined && typeof j[f] !== 'string') add(f, 'must be a string');
  const nonNeg = (f: string, integer: boolean, min = 0): void => {
    const v = j[f];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) add(f, `must be a ${integer ? 'whole number' : 'number'} ≥ ${min} (got ${JSON.stringify(v)})`);
  };
  nonNeg('retries', true);
  nonNeg('retryDelaySeconds', false);
  nonNeg('timeoutSeconds', false);
  nonNeg('startingDeadlineSeconds', false);
  nonNeg('maxCatchUp', true, 1);
  if (typeof j.maxCatchUp === 'number' && j.maxCatchUp > MAX_CATCH_UP) add('maxCatchUp', `must be at most ${MAX_CATCH_UP}`);
  nonNeg('cpus', false);
  nonNeg('mem', false);
  nonNeg('disk', false);
  if (typeof j.cpus === 'number' && j.cpus === 0 && (j.mem === 0 || j.mem === undefined)) { /* allowed: a task may ask for almost nothing */ }
  if (j.env !== undefined && (typeof j.env !== 'object' || j.env === null || Array.isArray(j.env) || !Object.values(j.env).every((v) => typeof v === 'string'))) add('env', 'must be an object of string values');
  if (j.fetch !== undefined) {
    if (!Array.isArray(j.fetch)) add('fetch', 'must be a list of { uri, executable?, extract?, cache? }');
    else j.fetch.forEach((f, i) => { if (typeof f !== 'object' || f === null || typeof (f as FetchUri).uri !== 'string' || !(f as FetchUri).uri) add(`fetch[${i}].uri`, 'is required'); });
  }
  if (j.concurrencyPolicy !== undefined && !['allow', 'forbid', 'replace'].includes(j.concurrencyPolicy as string)) add('concurrencyPolicy', "must be 'allow', 'forbid' or 'replace'");
  if (j.missedRunPolicy !== undefined && !['skip', 'run-once', 'catch-up'].includes(j.missedRunPolicy as string)) add('missedRunPolicy', "must be 'skip', 'run-once' or 'catch-up'");
  if (j.constraints !== undefined) {
    if (!Array.isArray(j.constraints)) add('constraints', 'must be a list of [field, EQUALS|LIKE|UNLIKE, value]');
    else j.constraints.forEach((c, i) => {
      if (!Array.isArray(c) || c.length !== 3 || !c.every((x) => typeof x === 'string')) { add(`constraints[${i}]`, 'must be [field, EQUALS|LIKE|UNLIKE, value]'); return; }
      if (!['EQUALS', 'LIKE', 'UNLIKE'].includes(c[1])) add(`constraints[${i}]`, `operator '${c[1]}' is not EQUALS, LIKE or UNLIKE`);
      else if (c[1] !== 'EQUALS') { try { new RegExp(`^(?:${c[2]})$`); } catch { add(`constraints[${i}]`, `'${c[2]}' is not a regular expression`); } }
    });
  }
  const hasSchedule = j.schedule !== undefined && j.schedule !== '';
  const hasParents = Array.isArray(j.parents) && j.parents.length > 0;
  if (hasSchedule && hasParents) add('schedule', 'a job has either a schedule or parents, not both');
  if (!hasSchedule && !hasParents) add('schedule', 'is required unless the job has parents');
  if (j.timezone !== undefined && typeof j.timezone !== 'string') add('timezone', 'must be a string (an IANA time zone)');
  if (hasSchedule || (j.timezone !== undefined && typeof j.timezone === 'string')) {
    try {
      parseSchedule(hasSchedule ? String(j.schedule) : '* * * * *', typeof j.timezone === 'string' ? j.timezone : 'UTC', now);
    } catch (e) {
      if (e instanceof ScheduleError) add(e.field, e.message);
      else add('schedule', (e as Error).message);
    }
  }
  if (hasParents && typeof j.name === 'string' && (j.parents as string[]).includes(j.name)) add('parents', `job '${j.name}' cannot be its own parent`);
  return errs;
}

/**
 * Problems of the job set as a DAG after `changed` is stored: unknown parents and cycles. `jobs`
 * maps name → parents of every job that would be stored.
 */
export function validateGraph(jobs: ReadonlyMap<string, readonly string[]>, changed: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const p of jobs.get(changed) ?? []) if (!jobs.has(p)) errs.push({ field: 'parents', message: `unknown parent '${p}'` });
  if (errs.length > 0) return errs;
  // A cycle through `changed`: walk up from its parents; reaching `changed` again closes a cycle.
  const path: string[] = [];
  const seen = new Set<string>();
  const visit = (name: string): string[] | undefined => {
    if (name === changed && path.length > 0) return [...path, name];
    if (seen.has(name)) return undefined;
    seen.add(name);
    path.push(name);
    for (const p of jobs.get(name) ?? []) {
      const c = visit(p);
      if (c) return c;
    }
    path.pop();
    return undefined;
  };
  const cycle = visit(changed);
  if (cycle) errs.push({ field: 'parents', message: `cycle: ${cycle.reverse().join(' → ')}` });
  return errs;
}

/** Fills in the defaults of a valid spec. */
export function compileJob(spec: JobSpec, now: number, previous?: Job): Job {
  return {
    name: spec.name,
    command: spec.command,
    shell: spec.shell ?? JOB_DEFAULTS.shell,
    arguments: [...(spec.arguments ?? [])],
    ...(spec.schedule ? { schedule: spec.schedule.trim() } : {}),
    timezone: spec.timezone ?? JOB_DEFAULTS.timezone,
    parents: spec.schedule ? [] : [...(spec.parents ?? [])],
    cpus: spec.cpus ?? JOB_DEFAULTS.cpus,
    mem: spec.mem ?? JOB_DEFAULTS.mem,
    disk: spec.disk ?? JOB_DEFAULTS.disk,
    env: { ...(spec.env ?? {}) },
    fetch: (spec.fetch ?? []).map((f) => ({ uri: f.uri, executable: f.executable ?? false, extract: f.extract ?? true, cache: f.cache ?? false })),
    owner: spec.owner ?? '',
    description: spec.description ?? '',
    disabled: spec.disabled ?? false,
    retries: spec.retries ?? JOB_DEFAULTS.retries,
    retryDelaySeconds: spec.retryDelaySeconds ?? JOB_DEFAULTS.retryDelaySeconds,
    concurrencyPolicy: spec.concurrencyPolicy ?? JOB_DEFAULTS.concurrencyPolicy,
    timeoutSeconds: spec.timeoutSeconds ?? JOB_DEFAULTS.timeoutSeconds,
    constraints: (spec.constraints ?? []).map((c) => [...c] as Constraint),
    softError: spec.softError ?? false,
    ...(spec.startingDeadlineSeconds !== undefined ? { startingDeadlineSeconds: spec.startingDeadlineSeconds } : {}),
    missedRunPolicy: spec.missedRunPolicy ?? JOB_DEFAULTS.missedRunPolicy,
    maxCatchUp: spec.maxCatchUp ?? JOB_DEFAULTS.maxCatchUp,
    createdAt: previous?.createdAt ?? now,
    updatedAt: now,
  };
}

/** The parsed schedule of a scheduled job (undefined for a dependent one). */
export function jobSchedule(job: Job): Schedule | undefined {
  return job.schedule ? parseSchedule(job.schedule, job.timezone, job.createdAt) : undefined;
}

/** True when an offer's host (name and attributes) satisfies every constraint of the job. */
export function constraintsMatch(constraints: readonly Constraint[], hostname: string, attributes: Readonly<Record<string, string>>): boolean {
  for (const [field, op, value] of constraints) {
    const actual = field === 'hostname' ? hostname : attributes[field];
    if (op === 'EQUALS') { if (actual !== value) return false; continue; }
    const re = new RegExp(`^(?:${value})$`);
    const hit = actual !== undefined && re.test(actual);
    if (op === 'LIKE' ? !hit : hit) return false;
  }
  return true;
}

/** The command line of a run: `arguments` of the job, then those given to "run now". */
export function commandOf(job: Job, extra: readonly string[] = []): { value: string; arguments?: string[]; shell: boolean } {
  const args = [...job.arguments, ...extra];
  if (!job.shell) return { value: job.command, arguments: [job.command, ...args], shell: false };
  const q = (s: string): string => (/^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`);
  return { value: args.length ? `${job.command} ${args.map(q).join(' ')}` : job.command, shell: true };
}

/**
 * Query-string reading for the HTTP operator API: each reader names the parameter and the
 * reason in its error (answered as 400 `{ "error": … }`), and a repeated parameter is refused
 * rather than silently picking one.
 */
import { TaskState } from '@agora/core';

/** An error with the HTTP status it should be answered with. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export const badRequest = (message: string): HttpError => new HttpError(400, message);

/** Raw query as fastify parses it. */
export type Query = Record<string, string | string[] | undefined>;

/** One string parameter ('' and absent are the same: undefined). */
export function str(q: Query, name: string, maxLength = 1024): string | undefined {
  const v = q[name];
  if (Array.isArray(v)) throw badRequest(`${name} is given ${v.length} times; give it once`);
  if (v === undefined || v === '') return undefined;
  if (v.length > maxLength) throw badRequest(`${name} is longer than ${maxLength} characters`);
  return v;
}

/** A whole number within [min, max], or `dflt` when absent. */
export function int(q: Query, name: string, opts: { min: number; max: number; dflt: number }): number {
  const v = str(q, name, 32);
  if (v === undefined) return opts.dflt;
  if (!/^-?\d+$/.test(v)) throw badRequest(`${name} must be a whole number, got '${v}'`);
  const n = Number(v);
  if (n < opts.min || n > opts.max) throw badRequest(`${name} must be between ${opts.min} and ${opts.max}, got ${n}`);
  return n;
}

const STATE_NAMES = Object.keys(TaskState).filter((k) => k.startsWith('TASK_'));

/**
 * Task states from a comma-separated list of names ("TASK_RUNNING,TASK_FAILED"); the `TASK_`
 * prefix and case are optional ("running"). Undefined when absent.
 */
export function taskStates(q: Query, name: string): Set<number> | undefined {
  const v = str(q, name);
  if (v === undefined) return undefined;
  const out = new Set<number>();
  for (const raw of v.split(',')) {
    const t = raw.trim().toUpperCase();
    if (!t) continue;
    const key = t.startsWith('TASK_') ? t : `TASK_${t}`;
    const n = (TaskState as unknown as Record<string, number>)[key];
    if (n === undefined || !STATE_NAMES.includes(key)) throw badRequest(`${name}: '${raw.trim()}' is not a task state (one of ${STATE_NAMES.join(', ')})`);
    out.add(n);
  }
  return out.size > 0 ? out : undefined;
}

/**
 * Schedules, pure: a parsed schedule answers "what is the first fire time strictly after t?".
 * No clock is read here — callers pass `now` (CONVENTIONS §3).
 *
 * Two notations, both with an IANA `timezone` (default UTC):
 * - ISO 8601 repeating intervals as Chronos has them: `R[n]/start/period`, e.g.
 *   `R/2025-01-01T02:00:00/P1D`, `R5//PT30S`. `n` bounds the number of fire times (none = for
 *   ever); an empty start means "when the job was created" (the caller passes that instant as
 *   `anchor`); a start without an offset is a wall-clock time in `timezone`. Calendar parts of
 *   the period (Y, M, W, D) step the local date, so `P1D` stays at 02:00 local across DST; time
 *   parts (H, M, S) are exact durations, so `PT1H` is always 3 600 s.
 * - Cron expressions through cron-parser: 5 fields (minute precision) or 6 (seconds first), and
 *   its `@daily`-style aliases.
 *
 * DST: a local time that does not exist (02:00-02:59 in Europe/Berlin on the spring-forward
 * day) fires once, moved forward by the gap (02:00 → 03:00 CEST); a local time that exists twice
 * (fall-back) fires once, at its first occurrence (02:00 CEST). cron-parser behaves so for cron
 * expressions and zoned-time.ts does the same for ISO periods — a daily job runs once a day.
 */
import { CronExpressionParser } from 'cron-parser';
import { fromLocal, isTimeZone, normalise, toLocal, type LocalTime } from './zoned-time.js';

export interface Schedule {
  kind: 'iso8601' | 'cron';
  /** The text as given. */
  text: string;
  timezone: string;
  /** First fire time strictly after `afterMs`, or undefined when the schedule is exhausted. */
  next(afterMs: number): number | undefined;
}

/** A schedule error: `field` is the job field to blame. */
export class ScheduleError extends Error {
  constructor(readonly field: 'schedule' | 'timezone', message: string) {
    super(message);
  }
}

interface Period {
  years: number;
  months: number;
  days: number;
  /** Exact part in ms. */
  exactMs: number;
}

const PERIOD_RE = /^P(?!$)(?:(\d+(?:[.,]\d+)?)Y)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)W)?(?:(\d+(?:[.,]\d+)?)D)?(?:T(?!$)(?:(\d+(?:[.,]\d+)?)H)?(?:(\d+(?:[.,]\d+)?)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

function num(s: string | undefined): number {
  return s === undefined ? 0 : Number(s.replace(',', '.'));
}

/** `P1DT12H` → calendar + exact parts. Fractions are allowed on the time part only. */
export function parsePeriod(text: string): Period {
  const m = PERIOD_RE.exec(text);
  if (!m) throw new ScheduleError('schedule', `'${text}' is not an ISO 8601 duration (e.g. P1D, PT30S, P1Y2M3DT4H5M6S)`);
  const [, y, mo, w, d, h, mi, s] = m;
  for (const [v, unit] of [[y, 'years'], [mo, 'months'], [w, 'weeks'], [d, 'days']] as const) {
    if (v !== undefined && !Number.isInteger(num(v))) throw new ScheduleError('schedule', `the period '${text}' has a fraction of ${unit}; use whole ${unit} or a time part (PT36H)`);
  }
  const p: Period = { years: num(y), months: num(mo), days: num(w) * 7 + num(d), exactMs: Math.round((num(h) * 3600 + num(mi) * 60 + num(s)) * 1000) };
  if (p.years === 0 && p.months === 0 && p.days === 0 && p.exactMs <= 0) throw new ScheduleError('schedule', `the period '${text}' is zero`);
  return p;
}

const START_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** An ISO 8601 date-time; without an offset it is wall-clock time in `tz`. */
export function parseStart(text: string, tz: string): number {
  const m = START_RE.exec(text);
  if (!m) throw new ScheduleError('schedule', `'${text}' is not an ISO 8601 date-time (e.g. 2025-01-01T02:00:00Z)`);
  const [, y, mo, d, h, mi, s, frac, off] = m;
  const l: LocalTime = { year: +y!, month: +mo!, day: +d!, hour: +(h ?? 0), minute: +(mi ?? 0), second: +(s ?? 0), ms: frac ? Math.round(Number(`0.${frac}`) * 1000) : 0 };
  const n = normalise(l);
  if (n.month !== l.month || n.day !== l.day || l.hour > 23 || l.minute > 59 || l.second > 59) throw new ScheduleError('schedule', `'${text}' is not a valid date-time`);
  if (off === undefined) return fromLocal(l, tz);
  const wall = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second, l.ms);
  if (off === 'Z') return wall;
  const sign = off[0] === '-' ? -1 : 1;
  const digits = off.slice(1).replace(':', '');
  return wall - sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0)) * 60_000;
}

/** Fire time number k (0-based) of start + k·period. */
function occurrence(start: number, startLocal: LocalTime, p: Period, k: number, tz: string): number {
  let t = start;
  if (p.years || p.months || p.days) {
    t = fromLocal(normalise({ ...startLocal, year: startLocal.year + k * p.years, month: startLocal.month + k * p.months, day: startLocal.day + k * p.days }), tz);
  }
  return t + k * p.exactMs;
}

function isoSchedule(text: string, tz: string, anchor: number): Schedule {
  const parts = text.split('/');
  if (parts.length !== 3 || !/^R\d*$/.test(parts[0]!)) throw new ScheduleError('schedule', `'${text}' is neither an ISO 8601 repeating interval (R[n]/start/period, e.g. R/2025-01-01T00:00:00Z/PT1H) nor a cron expression`);
  const reps = parts[0] === 'R' ? Infinity : Number(parts[0]!.slice(1));
  const start = parts[1] === '' ? anchor : parseStart(parts[1]!, tz);
  const period = parsePeriod(parts[2]!);
  const startLocal = toLocal(start, tz);
  // Average length of one period, to jump close to the answer before stepping exactly.
  const approx = Math.max(1, period.years * 365.2425 * 86_400_000 + period.months * 30.436875 * 86_400_000 + period.days * 86_400_000 + period.exactMs);
  return {
    kind: 'iso8601',
    text,
    timezone: tz,
    next(after) {
      let k = after < start ? 0 : Math.max(0, Math.floor((after - start) / approx) - 1);
      while (k > 0 && occurrence(start, startLocal, period, k, tz) > after) k--;
      for (; k < reps; k++) {
        const t = occurrence(start, startLocal, period, k, tz);
        if (t > after) return t;
      }
      return undefined;
    },
  };
}

function cronSchedule(text: string, tz: string): Schedule {
  const fields = text.trim().split(/\s+/);
  if (!text.trim().startsWith('@') && (fields.length < 5 || fields.length > 6)) {
    throw new ScheduleError('schedule', `'${text}' has ${fields.length} fields; a cron expression has 5 (minute hour day month weekday) or 6 (seconds first)`);
  }
  try {
    CronExpressionParser.parse(text, { tz, currentDate: 0 }).next();
  } catch (e) {
    throw new ScheduleError('schedule', `'${text}' is not a valid cron expression: ${(e as Error).message}`);
  }
  return {
    kind: 'cron',
    text,
    timezone: tz,
    next(after) {
      const it = CronExpressionParser.parse(text, { tz, currentDate: new Date(after) });
      try {
        let t = it.next().getTime();
        // cron-parser works in whole seconds: `after` inside a second may give that second back.
        while (t <= after) t = it.next().getTime();
        return t;
      } catch {
        return undefined; // no further match (e.g. 30 Feb)
      }
    },
  };
}

/**
 * Parses a schedule. `anchor` is the instant an empty ISO start stands for (the job's creation);
 * throws a ScheduleError naming the field.
 */
export function parseSchedule(text: string, timezone = 'UTC', anchor = 0): Schedule {
  if (typeof timezone !== 'string' || !isTimeZone(timezone)) throw new ScheduleError('timezone', `'${String(timezone)}' is not an IANA time zone (e.g. Europe/Berlin, UTC)`);
  if (typeof text !== 'string' || !text.trim()) throw new ScheduleError('schedule', 'is empty');
  const t = text.trim();
  return /^R\d*\//.test(t) ? isoSchedule(t, timezone, anchor) : cronSchedule(t, timezone);
}

/** The next `n` fire times strictly after `afterMs`. */
export function nextTimes(schedule: Schedule, afterMs: number, n: number): number[] {
  const out: number[] = [];
  let t: number | undefined = afterMs;
  while (out.length < n && (t = schedule.next(t)) !== undefined) out.push(t);
  return out;
}

/**
 * Fire times in (afterMs, untilMs] for missed-run handling: the latest `keep` of them and how many
 * there were in all. Stepping stops after `maxSteps` (an every-second job down for a week); the
 * cursor then resumes from the last time seen, so the rest are counted on the next call.
 */
export function dueTimes(schedule: Schedule, afterMs: number, untilMs: number, keep: number, maxSteps = 100_000): { latest: number[]; total: number; last: number | undefined } {
  const latest: number[] = [];
  let total = 0;
  let last: number | undefined;
  let t: number | undefined = afterMs;
  while (total < maxSteps && (t = schedule.next(t)) !== undefined && t <= untilMs) {
    total++;
    last = t;
    latest.push(t);
    if (latest.length > keep) latest.shift();
  }
  return { latest, total, last };
}

/**
 * Wall-clock arithmetic in an IANA time zone with nothing but `Intl`: instant → local fields and
 * local fields → instant. The one judgement call is what a local time that does not exist (the
 * spring-forward gap) or exists twice (the fall-back overlap) means; we follow RFC 5545 and
 * Temporal's 'compatible' disambiguation, which is also what cron-parser does for cron
 * expressions: a time in the gap moves forward by the gap's length (02:30 → 03:30), a time in
 * the overlap is the earlier of the two (02:30 CEST, not 02:30 CET). Schedules of both kinds then
 * agree on DST days.
 */

export interface LocalTime {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** True when `tz` names an IANA time zone this runtime knows (or is 'UTC'). */
export function isTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** The local wall-clock fields of instant `ms` in `tz`. */
export function toLocal(ms: number, tz: string): LocalTime {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return { year: parts.year!, month: parts.month!, day: parts.day!, hour: parts.hour!, minute: parts.minute!, second: parts.second!, ms: ((ms % 1000) + 1000) % 1000 };
}

/** UTC offset of `tz` at instant `ms`, in ms (Berlin in summer: +7_200_000). */
export function offsetAt(ms: number, tz: string): number {
  const l = toLocal(ms, tz);
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second, l.ms) - ms;
}

/** Normalises overflowing fields (month 14, day 0, hour 25 …) the way Date.UTC does. */
export function normalise(l: LocalTime): LocalTime {
  const d = new Date(Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second, l.ms));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(), ms: d.getUTCMilliseconds() };
}

/** The instant of local wall-clock time `l` in `tz` (gap → moved forward, overlap → earlier). */
export function fromLocal(l: LocalTime, tz: string): number {
  const wall = Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second, l.ms);
  // The offsets a day either side cover every transition near `wall`.
  const before = offsetAt(wall - 86_400_000, tz);
  const after = offsetAt(wall + 86_400_000, tz);
  const candidates = [wall - before, wall - after].filter((t) => t + offsetAt(t, tz) === wall).sort((a, b) => a - b);
  if (candidates.length > 0) return candidates[0]!;
  // In the gap: read the wall time with the offset from before the jump (02:30 +01:00 = 03:30 +02:00).
  return wall - before;
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSchedule, nextTimes, dueTimes, ScheduleError } from '../src/schedule.js';

const T = (s: string): number => Date.parse(s);
const isos = (xs: number[]): string[] => xs.map((x) => new Date(x).toISOString());

test('cron 0 2 * * * in Europe/Berlin across spring-forward: 02:00 does not exist, it fires once at 03:00 CEST', () => {
  const s = parseSchedule('0 2 * * *', 'Europe/Berlin');
  // 2025-03-30: clocks jump 02:00 CET → 03:00 CEST.
  assert.deepEqual(isos(nextTimes(s, T('2025-03-28T12:00:00Z'), 4)), [
    '2025-03-29T01:00:00.000Z', // 02:00 CET
    '2025-03-30T01:00:00.000Z', // 03:00 CEST: the missing 02:00 moved forward by the gap, once
    '2025-03-31T00:00:00.000Z', // 02:00 CEST
    '2025-04-01T00:00:00.000Z',
  ]);
});

test('cron 0 2 * * * in Europe/Berlin across fall-back: 02:00 exists twice, it fires once (the first, CEST)', () => {
  const s = parseSchedule('0 2 * * *', 'Europe/Berlin');
  // 2025-10-26: clocks go 03:00 CEST → 02:00 CET.
  assert.deepEqual(isos(nextTimes(s, T('2025-10-24T12:00:00Z'), 4)), [
    '2025-10-25T00:00:00.000Z', // 02:00 CEST
    '2025-10-26T00:00:00.000Z', // 02:00 CEST (first of the two), not again at 01:00Z
    '2025-10-27T01:00:00.000Z', // 02:00 CET
    '2025-10-28T01:00:00.000Z',
  ]);
});

test('ISO P1D at 02:00 Europe/Berlin agrees with cron on both DST days', () => {
  const iso = parseSchedule('R/2025-03-28T02:00:00/P1D', 'Europe/Berlin');
  const cron = parseSchedule('0 2 * * *', 'Europe/Berlin');
  assert.deepEqual(nextTimes(iso, T('2025-03-28T12:00:00Z'), 5), nextTimes(cron, T('2025-03-28T12:00:00Z'), 5));
  const iso2 = parseSchedule('R/2025-10-20T02:00:00/P1D', 'Europe/Berlin');
  assert.deepEqual(nextTimes(iso2, T('2025-10-24T12:00:00Z'), 5), nextTimes(cron, T('2025-10-24T12:00:00Z'), 5));
});

test('ISO PT1H is an exact hour: 23 fire times on the spring-forward day, 25 on fall-back', () => {
  const s = parseSchedule('R/2025-01-01T00:00:00Z/PT1H', 'Europe/Berlin');
  const day = (from: string, to: string): number => dueTimes(s, T(from) - 1, T(to) - 1, 100).total;
  assert.equal(day('2025-03-29T23:00:00Z', '2025-03-30T22:00:00Z'), 23); // local midnight to midnight
  assert.equal(day('2025-10-25T22:00:00Z', '2025-10-26T23:00:00Z'), 25);
});

test('every 2 seconds: 6-field cron and ISO give the same instants', () => {
  const a = parseSchedule('*/2 * * * * *');
  const b = parseSchedule('R/2025-01-01T00:00:00Z/PT2S');
  const from = T('2025-06-01T10:00:00.500Z');
  assert.deepEqual(isos(nextTimes(a, from, 3)), ['2025-06-01T10:00:02.000Z', '2025-06-01T10:00:04.000Z', '2025-06-01T10:00:06.000Z']);
  assert.deepEqual(nextTimes(a, from, 10), nextTimes(b, from, 10));
  // Strictly after: an instant is never returned for itself.
  assert.equal(a.next(T('2025-06-01T10:00:02Z')), T('2025-06-01T10:00:04Z'));
  assert.equal(b.next(T('2025-06-01T10:00:02Z')), T('2025-06-01T10:00:04Z'));
});

test('R[n] bounds the repetitions; an empty start is the anchor (creation time)', () => {
  const s = parseSchedule('R3/2025-01-01T00:00:00Z/PT10S');
  assert.deepEqual(isos(nextTimes(s, 0, 10)), ['2025-01-01T00:00:00.000Z', '2025-01-01T00:00:10.000Z', '2025-01-01T00:00:20.000Z']);
  assert.equal(s.next(T('2025-01-01T00:00:20Z')), undefined);
  const e = parseSchedule('R//PT5S', 'UTC', T('2025-02-02T00:00:00Z'));
  assert.deepEqual(isos(nextTimes(e, T('2025-02-02T00:00:00Z'), 2)), ['2025-02-02T00:00:05.000Z', '2025-02-02T00:00:10.000Z']);
});

test('calendar periods: P1M from Jan 31 follows the calendar; P1Y2M3DT4H5M6S parses', () => {
  const s = parseSchedule('R/2025-01-15T08:00:00Z/P1M');
  assert.deepEqual(isos(nextTimes(s, T('2025-01-15T08:00:00Z'), 2)), ['2025-02-15T08:00:00.000Z', '2025-03-15T08:00:00.000Z']);
  const w = parseSchedule('R/2025-01-06T00:00:00Z/P1W');
  assert.equal(new Date(w.next(T('2025-01-06T00:00:00Z'))!).toISOString(), '2025-01-13T00:00:00.000Z');
  assert.ok(parseSchedule('R/2025-01-01T00:00:00Z/P1Y2M3DT4H5M6S').next(0));
  // Far in the future: found without stepping from the start one by one.
  const far = parseSchedule('R/2000-01-01T00:00:00Z/PT1S');
  assert.equal(far.next(T('2030-01-01T00:00:00.5Z')), T('2030-01-01T00:00:01Z'));
});

test('dueTimes: total, last, and only the latest kept', () => {
  const s = parseSchedule('R/2025-01-01T00:00:00Z/PT1S');
  const d = dueTimes(s, T('2025-01-01T00:00:00Z'), T('2025-01-01T00:01:00Z'), 3);
  assert.equal(d.total, 60);
  assert.deepEqual(isos(d.latest), ['2025-01-01T00:00:58.000Z', '2025-01-01T00:00:59.000Z', '2025-01-01T00:01:00.000Z']);
});

test('bad schedules and zones name their field', () => {
  const bad = (text: string, tz?: string): ScheduleError => {
    try { parseSchedule(text, tz); } catch (e) { return e as ScheduleError; }
    throw new Error(`accepted ${text}`);
  };
  assert.equal(bad('every day').field, 'schedule');
  assert.equal(bad('61 * * * *').field, 'schedule');
  assert.equal(bad('* * *').field, 'schedule');
  assert.equal(bad('R/2025-13-01T00:00:00Z/P1D').field, 'schedule');
  assert.equal(bad('R/2025-01-01T00:00:00Z/P0D').field, 'schedule');
  assert.equal(bad('R/2025-01-01T00:00:00Z/1D').field, 'schedule');
  assert.equal(bad('0 2 * * *', 'Mars/Olympus').field, 'timezone');
});

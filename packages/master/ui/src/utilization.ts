/**
 * Turning the master's utilisation samples into plot columns. Pure: the Overview page feeds it
 * GET /utilization once, then every `utilization` event.
 */
import type { UtilizationSample } from './api-types.js';

/** How much history the plots keep (the master's ring buffer holds 10 min). */
export const WINDOW_MS = 10 * 60_000;

/**
 * Adds a sample in time order; a sample with a time already held replaces it (an event may
 * repeat the last sample of GET /utilization). Drops samples older than `windowMs` before the
 * newest one. Returns a new array.
 */
export function addSample(samples: readonly UtilizationSample[], sample: UtilizationSample, windowMs = WINDOW_MS): UtilizationSample[] {
  const out = samples.filter((s) => s.t !== sample.t);
  let i = out.length;
  while (i > 0 && out[i - 1]!.t > sample.t) i--;
  out.splice(i, 0, sample);
  const newest = out[out.length - 1]!.t;
  return out.filter((s) => s.t >= newest - windowMs);
}

/** One plotted line. */
export interface Series {
  label: string;
  values: Array<number | null>;
}

/** Columns for one resource's plot: x in seconds since the epoch (uPlot's unit), then lines. */
export interface PlotColumns {
  x: number[];
  series: Series[];
}

/**
 * cpus or mem over time: total, allocated, and the allocation of every role seen in the
 * window (null where a role had no allocation sample, so the line shows a gap, not a zero).
 */
export function plotColumns(samples: readonly UtilizationSample[], resource: 'cpus' | 'mem'): PlotColumns {
  const roles = new Set<string>();
  for (const s of samples) for (const r of Object.keys(s.byRole ?? {})) roles.add(r);
  const x = samples.map((s) => s.t / 1000);
  const series: Series[] = [
    { label: 'total', values: samples.map((s) => num(s.total?.[resource])) },
    { label: 'allocated', values: samples.map((s) => num(s.allocated?.[resource])) },
  ];
  for (const role of [...roles].sort()) {
    series.push({ label: `role ${role}`, values: samples.map((s) => (s.byRole?.[role] ? num(s.byRole[role]![resource]) : null)) });
  }
  return { x, series };
}

function num(v: number | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

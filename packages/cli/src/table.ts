/**
 * Tables sized to the terminal (cli-table3), and the JSON shape of wire messages.
 */
import Table from 'cli-table3';
import { agora, resources, taskStateName, type Resource } from '@agora/core';

/** Width to fit: the terminal's, else $COLUMNS, else unbounded (a pipe: no wrapping, grep-friendly). */
export function terminalWidth(): number {
  if (process.stdout.isTTY && process.stdout.columns) return process.stdout.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 20 ? env : Number.POSITIVE_INFINITY;
}

/**
 * Renders rows under a header. When the natural width exceeds the terminal, the widest columns
 * are narrowed (their cells wrap) until the table fits.
 */
export function renderTable(head: string[], rows: string[][], width = terminalWidth()): string {
  const natural = head.map((h, i) => Math.max(h.length, ...rows.map((r) => longestLine(r[i] ?? ''))) + 2);
  // Borders: one '│' per column plus one.
  const budget = Math.max(head.length * 6, width - (head.length + 1));
  const widths = [...natural];
  while (widths.reduce((a, b) => a + b, 0) > budget) {
    const i = widths.indexOf(Math.max(...widths));
    if ((widths[i] ?? 0) <= 6) break;
    widths[i] = (widths[i] ?? 0) - 1;
  }
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const table = new Table({
    head,
    colWidths: widths,
    wordWrap: true,
    wrapOnWordBoundary: false,
    style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] },
  });
  for (const r of rows) table.push(head.map((_, i) => r[i] ?? ''));
  return table.toString();
}

/** Key/value pairs as a two-column table. */
export function renderPairs(pairs: [string, string][], width = terminalWidth()): string {
  const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
  const keyW = Math.max(...pairs.map(([k]) => k.length)) + 2;
  const valW = Math.max(10, Math.min(width - keyW - 3, Math.max(...pairs.map(([, v]) => longestLine(v))) + 2));
  const table = new Table({ colWidths: [keyW, valW], wordWrap: true, wrapOnWordBoundary: false, style: { head: [], border: color ? ['grey'] : [] } });
  for (const [k, v] of pairs) table.push([k, v]);
  return table.toString();
}

function longestLine(s: string): number {
  return Math.max(0, ...s.split('\n').map((l) => l.length));
}

/** `cpus:2;mem:1024` ('-' when empty). */
export function fmtResources(rs: readonly Resource[] | null | undefined): string {
  const s = resources.formatResources(rs ?? []);
  return s === '' ? '-' : s;
}

/** Seconds since the epoch as a readable age, e.g. `3m12s`. */
export function age(seconds: number | null | undefined, now = Date.now() / 1000): string {
  if (!seconds) return '-';
  let d = Math.max(0, Math.round(now - seconds));
  const parts: string[] = [];
  for (const [unit, n] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (d >= n) { parts.push(`${Math.floor(d / n)}${unit}`); d %= n; }
    if (parts.length === 2) break;
  }
  if (parts.length < 2) parts.push(`${d}s`);
  return parts.join('');
}

/** TASK_RUNNING → RUNNING. */
export function shortState(state: number | null | undefined): string {
  return taskStateName(state as agora.v1.TaskState).replace(/^TASK_/, '');
}

interface Convertible<T> { toObject(message: T, options: object): Record<string, unknown> }

/**
 * A decoded message as plain JSON: enums as names, bytes as base64, absent fields left out.
 * Secret environment values are masked: the CLI never prints them.
 */
export function toJson<T>(type: Convertible<T>, message: T): Record<string, unknown> {
  return maskSecrets(type.toObject(message, { enums: String, longs: Number, bytes: String, defaults: false, arrays: true })) as Record<string, unknown>;
}

function maskSecrets(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(maskSecrets);
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) out[k] = maskSecrets(x);
    if (o.type === 'SECRET' && 'value' in out) out.value = '******';
    return out;
  }
  return v;
}

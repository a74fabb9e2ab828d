/** Small building blocks shared by the pages. */
import type { ComponentChildren } from 'preact';
import { stateLabel, stateTone } from '../format.js';

/** A task state as a coloured pill. */
export function StateBadge({ state }: { state: string }) {
  return <span class={`badge ${stateTone(state)}`} data-state={state}>{stateLabel(state)}</span>;
}

/** A yes/no flag as a coloured pill. */
export function Flag({ on, yes, no, bad = false }: { on: boolean; yes: string; no: string; bad?: boolean }) {
  return <span class={`badge ${on ? (bad ? 'bad' : 'ok') : 'idle'}`}>{on ? yes : no}</span>;
}

/** A used/total meter with its numbers. */
export function Meter({ used, total, format }: { used: number; total: number; format: (n: number) => string }) {
  const pct = total > 0 ? Math.min(100, (used / total) * 100) : 0;
  return (
    <div class="meter" title={`${format(used)} of ${format(total)}`}>
      <div class="meter-bar"><div class="meter-fill" style={{ width: `${pct}%` }} /></div>
      <span class="meter-text">{format(used)} / {format(total)}</span>
    </div>
  );
}

/** A one-line error in the page. */
export function ErrorLine({ error }: { error?: string }) {
  return error ? <p class="error" role="alert">{error}</p> : null;
}

/** A page heading with optional actions on its right. */
export function Header({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <h1>{title}</h1>
      {children && <div class="actions">{children}</div>}
    </header>
  );
}

/** A table's "nothing here" row. */
export function EmptyRow({ cols, text }: { cols: number; text: string }) {
  return <tr><td colSpan={cols} class="empty">{text}</td></tr>;
}

/** A monospace identifier, shortened in the middle when long (the title shows it whole). */
export function Id({ value, max = 28 }: { value: string; max?: number }) {
  const short = value.length > max ? `${value.slice(0, max - 10)}…${value.slice(-9)}` : value;
  return <code class="id" title={value}>{short}</code>;
}

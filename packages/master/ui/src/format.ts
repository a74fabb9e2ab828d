/** Formatting for tables and plots: pure functions, no DOM. */

/** A number of MiB as "512 MiB" / "1.5 GiB". */
export function formatMem(mib: number | undefined): string {
  if (mib === undefined || !Number.isFinite(mib)) return '–';
  if (Math.abs(mib) >= 1024) return `${trim(mib / 1024)} GiB`;
  return `${trim(mib)} MiB`;
}

/** A byte count as "12 B" / "3.4 KiB" / "1.2 GiB". */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? String(v) : trim(v)} ${units[u]}`;
}

/** A cpu count with at most two decimals. */
export function formatCpus(cpus: number | undefined): string {
  return cpus === undefined || !Number.isFinite(cpus) ? '–' : trim(cpus);
}

function trim(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/**
 * A timestamp to milliseconds. The wire carries seconds (status timestamps) in some places and
 * milliseconds in others; anything below 10^11 is taken as seconds (10^11 ms is in 1973).
 */
export function toMillis(t: number | string | undefined | null): number | undefined {
  if (t === undefined || t === null || t === '') return undefined;
  if (typeof t === 'string') {
    const n = Date.parse(t);
    return Number.isNaN(n) ? undefined : n;
  }
  if (!Number.isFinite(t) || t <= 0) return undefined;
  return t < 1e11 ? t * 1000 : t;
}

/** "14:03:22" for today, else "2026-11-24 14:03". */
export function formatTime(t: number | string | undefined | null, now = Date.now()): string {
  const ms = toMillis(t);
  if (ms === undefined) return '–';
  const d = new Date(ms);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (Math.abs(now - ms) < 12 * 3600_000) return hms;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hms.slice(0, 5)}`;
}

/** A duration in ms as "850 ms" / "12.3 s" / "4 min 5 s" / "2 h 3 min". */
export function formatDuration(ms: number | undefined | null): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${Math.round(s * 10) / 10} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s - m * 60)} s`;
  const h = Math.floor(m / 60);
  return `${h} h ${m - h * 60} min`;
}

/** "TASK_RUNNING" → "running". */
export function stateLabel(state: string): string {
  return state.replace(/^TASK_/, '').toLowerCase().replaceAll('_', ' ');
}

/** A CSS class for a task state's colour: ok, busy, bad or idle. */
export function stateTone(state: string): 'ok' | 'busy' | 'bad' | 'idle' {
  switch (state) {
    case 'TASK_RUNNING':
    case 'TASK_FINISHED':
      return 'ok';
    case 'TASK_STAGING':
    case 'TASK_STARTING':
    case 'TASK_KILLING':
      return 'busy';
    case 'TASK_FAILED':
    case 'TASK_ERROR':
    case 'TASK_LOST':
    case 'TASK_DROPPED':
    case 'TASK_UNREACHABLE':
    case 'TASK_GONE':
    case 'TASK_GONE_BY_OPERATOR':
      return 'bad';
    default:
      return 'idle';
  }
}

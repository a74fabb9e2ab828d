/**
 * Small things the fault-tolerance benches share: number formatting, /proc readings, machine
 * load, and a cleanup that runs once however the bench ends (normal exit, error, Ctrl-C).
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';

export const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** Milliseconds as seconds with two decimals ("1.23 s"); '—' when not measured. */
export const secs = (ms: number | undefined): string => (ms === undefined || !Number.isFinite(ms) ? '—' : `${(ms / 1000).toFixed(2)} s`);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One field of /proc/PID/status in bytes (VmRSS, VmHWM…), undefined when the process is gone. */
export function procStatusBytes(pid: number | undefined, field: 'VmRSS' | 'VmHWM'): number | undefined {
  if (!pid) return undefined;
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export const mib = (bytes: number | undefined): string => (bytes === undefined ? '—' : `${fmt(bytes / (1 << 20))} MiB`);

/** "load 1.23 0.98 0.75 (1/5/15 min), 2 cores" — what else the machine was doing. */
export function machineLoad(): string {
  const [a, b, c] = loadavg();
  return `load ${a!.toFixed(2)} ${b!.toFixed(2)} ${c!.toFixed(2)} (1/5/15 min) on ${cpus().length} cores`;
}

export function machine(): string {
  return `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`;
}

/**
 * Runs `main`, then `cleanup` exactly once — also on an error, an unhandled rejection, SIGINT or
 * SIGTERM — and exits (0 on success).
 */
export function runBench(name: string, main: () => Promise<void>, cleanup: () => Promise<void>): void {
  let cleaning: Promise<void> | undefined;
  const clean = (): Promise<void> => (cleaning ??= cleanup().catch((e: unknown) => { console.error(`${name}: cleanup failed: ${String(e)}`); }));
  const fail = async (e: unknown): Promise<never> => {
    console.error(`${name} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
    await clean();
    process.exit(1);
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => { console.error(`${name}: ${sig}, cleaning up`); void clean().then(() => process.exit(130)); });
  }
  process.on('uncaughtException', (e) => void fail(e));
  process.on('unhandledRejection', (e) => void fail(e));
  main().then(async () => { await clean(); process.exit(0); }, fail);
}

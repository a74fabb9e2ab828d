/**
 * Who is behind a pid, from /proc/PID/stat — how a restarted agent tells its old task from a
 * stranger that got the same pid.
 *
 * A pid alone names a process only while it lives: once it is gone the kernel may hand the
 * number to anyone. The pair (pid, start time in clock ticks since boot, field 22 of
 * /proc/PID/stat) does not repeat, so the agent checkpoints both at launch and compares on
 * recovery (Mesos and systemd do the same). A zombie (state 'Z') counts as dead: it has exited,
 * and on this kind of machine nobody may ever reap it (PID 1 here does not reap orphans).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** What /proc says about one process. */
export interface ProcStat {
  /** One letter: R running, S sleeping, D disk wait, Z zombie, T stopped, X dead … */
  state: string;
  /** Start time in clock ticks after boot (field 22); with the pid, a unique identity. */
  startTime: number;
  /** Process group id (field 5). */
  pgrp: number;
}

/**
 * Parses the text of /proc/PID/stat. The command name (field 2) sits in parentheses and may
 * itself hold spaces or ')', so fields are counted from the LAST ')'. Returns undefined for
 * text that does not have the expected shape (never throws).
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  const state = rest[0];
  const pgrp = Number(rest[2]);
  const startTime = Number(rest[19]);
  if (!state || !Number.isFinite(startTime) || !Number.isFinite(pgrp)) return undefined;
  return { state, startTime, pgrp };
}

/** /proc/PID/stat of a process, or undefined when there is no such process (or no /proc). */
export function readProcStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
}

/** readProcStat off the event loop (right after a spawn the read waits for the child's exec). */
export async function readProcStatAsync(pid: number): Promise<ProcStat | undefined> {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
}

/**
 * The fate of a process the agent started earlier, known by (pid, startTime):
 * - `alive`: the same process, still running;
 * - `exited`: it ended (gone, or a zombie nobody reaped);
 * - `reused`: the pid now belongs to another process — ours ended long ago, and its process
 *   group is gone too (Linux never reuses a pid that still names a group). Never signal it.
 */
export type ProcessFate = 'alive' | 'exited' | 'reused';

/** Looks a checkpointed process up; `stat` is injectable for tests. */
export function processFate(pid: number, startTime: number, stat: (pid: number) => ProcStat | undefined = readProcStat): ProcessFate {
  const s = stat(pid);
  if (!s) return 'exited';
  if (s.startTime !== startTime) return 'reused';
  return s.state === 'Z' || s.state === 'X' || s.state === 'x' ? 'exited' : 'alive';
}

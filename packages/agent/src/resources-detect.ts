/**
 * What the agent offers: measured from the machine (Mesos-like reserves for the system), then
 * overridden per name by `--resources`.
 */
import os from 'node:os';
import path from 'node:path';
import { statfs } from 'node:fs/promises';
import { resources as R, ValueType, type Resource } from '@agora/core';

const MiB = 1024 * 1024;

/** Ports offered when `--resources` names none (Mesos' default range). */
export const DEFAULT_PORT_RANGE: [number, number] = [31000, 32000];

/** Memory to offer: all but 1 GiB for the system, or half of it on machines under 2 GiB (as Mesos). */
export function memAfterReserve(totalMiB: number): number {
  return Math.max(0, Math.floor(totalMiB >= 2048 ? totalMiB - 1024 : totalMiB / 2));
}

/** Disk to offer: all but 5 GiB, or half of it when under 10 GiB (as Mesos). */
export function diskAfterReserve(totalMiB: number): number {
  return Math.max(0, Math.floor(totalMiB >= 10240 ? totalMiB - 5120 : totalMiB / 2));
}

const EXPECTED: Record<string, { type: ValueType; example: string }> = {
  cpus: { type: ValueType.SCALAR, example: 'cpus:4' },
  mem: { type: ValueType.SCALAR, example: 'mem:8192' },
  disk: { type: ValueType.SCALAR, example: 'disk:20000' },
  gpus: { type: ValueType.SCALAR, example: 'gpus:1' },
  ports: { type: ValueType.RANGES, example: 'ports:[31000-32000]' },
};

/**
 * Parses a `--resources` string. Throws an Error with one sentence naming the bad part, e.g.
 * `invalid resources "cpus:x": resource 'cpus' has a value 'x' that is not a number`.
 */
export function parseResourceOverrides(text: string): Resource[] {
  let parsed: Resource[];
  try {
    parsed = R.parseResources(text);
  } catch (err) {
    throw new Error(`invalid resources "${text}": ${(err as Error).message}`);
  }
  for (const r of parsed) {
    const want = EXPECTED[r.name ?? ''];
    if (want && r.type !== want.type) {
      throw new Error(`invalid resources "${text}": '${r.name}' must be ${want.type === ValueType.RANGES ? 'ranges' : 'a number'}, e.g. ${want.example}`);
    }
  }
  return parsed;
}

/** Size in MiB of the free space of the file system holding `dir` (or its closest existing parent). */
async function freeDiskMiB(dir: string): Promise<number> {
  let d = path.resolve(dir);
  for (;;) {
    try {
      const s = await statfs(d);
      // Free space for unprivileged users, not the raw size: the rest is already someone's.
      return Math.floor((Number(s.bavail) * Number(s.bsize)) / MiB);
    } catch {
      const parent = path.dirname(d);
      if (parent === d) return 0;
      d = parent;
    }
  }
}

/** Options of detectResources. */
export interface DetectResourcesOptions {
  /** Directory whose file system gives `disk`. @default process.cwd() */
  workDir?: string;
  /** Overrides per name, as `--resources`. @default none */
  resources?: string;
}

/**
 * The agent's resources: cpus (logical CPUs), mem (total MiB minus a system reserve), disk (free
 * MiB of the work dir's file system minus a reserve), ports [31000-32000]; each replaced by the
 * entry of the same name in `options.resources`, which may also add other names.
 */
export async function detectResources(options: DetectResourcesOptions = {}): Promise<Resource[]> {
  const overrides = options.resources ? parseResourceOverrides(options.resources) : [];
  const given = new Set(overrides.map((r) => r.name));
  const detected: Resource[] = [];
  if (!given.has('cpus')) detected.push(R.scalar('cpus', typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length));
  if (!given.has('mem')) detected.push(R.scalar('mem', memAfterReserve(Math.floor(os.totalmem() / MiB))));
  if (!given.has('disk')) detected.push(R.scalar('disk', diskAfterReserve(await freeDiskMiB(options.workDir ?? process.cwd()))));
  if (!given.has('ports')) detected.push(R.ranges('ports', [DEFAULT_PORT_RANGE]));
  return R.flatten([...detected, ...overrides]);
}

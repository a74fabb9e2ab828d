/**
 * The cgroups v1 isolator: one cgroup per container in the memory, cpu, cpuacct and pids
 * hierarchies, under `<the agent's own cgroup>/agora/<scope>` where scope is derived from the
 * agent's work dir (so several agents on one host never touch each other's cgroups, and a
 * restarted agent finds its own again).
 *
 * Why under the agent's own cgroup rather than the hierarchy root: whatever confines the agent
 * (a systemd unit, a container) keeps confining its tasks.
 *
 *  - memory: memory.limit_in_bytes (and memory.memsw.limit_in_bytes when swap accounting is
 *    on, so a task cannot escape its limit into swap); the kernel OOM-kills inside the cgroup
 *    and counts it in memory.oom_control `oom_kill`, which is how a MEMORY limitation is told
 *    from any other SIGKILL;
 *  - cpu: cpu.shares = cpus × 1024 (weight under contention) and cpu.cfs_quota_us = cpus ×
 *    cpu.cfs_period_us (a hard ceiling, as Mesos `--cgroups_enable_cfs`);
 *  - cpuacct: usage only; pids: pids.max.
 *
 * A task running as another user joins its cgroups itself (its wrapper writes its own pid to
 * cgroup.procs), so the agent hands it those cgroup.procs files (chown); v1 lets a process move
 * itself into a cgroup whose cgroup.procs it may write, and nowhere else.
 */
import { chownSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { TaskStatusReason } from '@agora/core';
import { mib, type Isolator, type Limitation, type Limits, type Owner, type Prepared, type Usage } from './isolator.js';

const CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'pids'] as const;
type Controller = (typeof CONTROLLERS)[number];
const CFS_PERIOD_US = 100_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Where each v1 controller is mounted (from /proc/mounts), e.g. memory → /sys/fs/cgroup/memory. */
export function v1Mounts(mounts = readFileSync('/proc/mounts', 'utf8')): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of mounts.split('\n')) {
    const [, dir, type, opts] = line.split(' ');
    if (type !== 'cgroup' || !dir || !opts) continue;
    for (const o of opts.split(',')) if (!out.has(o)) out.set(o, dir.replace(/\\040/g, ' '));
  }
  return out;
}

/** The calling process's own cgroup per v1 controller (from /proc/self/cgroup). */
export function ownCgroups(text = readFileSync('/proc/self/cgroup', 'utf8')): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m || !m[1]) continue;
    for (const c of m[1].split(',')) out.set(c, m[2] as string);
  }
  return out;
}

/** Single-quotes a word for /bin/sh. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function readNumber(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

export class CgroupsV1Isolator implements Isolator {
  readonly kind = 'cgroups-v1';
  /** controller → the agent's parent cgroup directory for its containers. */
  private readonly parents: Map<Controller, string>;
  private readonly memsw: boolean;
  private readonly memLimits = new Map<string, number>();

  private constructor(parents: Map<Controller, string>) {
    this.parents = parents;
    let memsw = false;
    try {
      readFileSync(path.join(parents.get('memory') as string, 'memory.memsw.limit_in_bytes'));
      memsw = true;
    } catch { /* no swap accounting */ }
    this.memsw = memsw;
  }

  /**
   * The isolator for the agent whose work dir is `workDir`, or a sentence saying why cgroups v1
   * cannot be used here (a controller not mounted, or its hierarchy not writable).
   */
  static open(workDir: string): CgroupsV1Isolator | string {
    const mounts = v1Mounts();
    const own = ownCgroups();
    const scope = createHash('sha1').update(path.resolve(workDir)).digest('hex').slice(0, 12);
    const parents = new Map<Controller, string>();
    for (const c of CONTROLLERS) {
      const mount = mounts.get(c);
      if (!mount) return `the cgroup v1 '${c}' controller is not mounted`;
      const dir = path.join(mount, own.get(c) ?? '/', 'agora', scope);
      try {
        mkdirSync(dir, { recursive: true });
      } catch (err) {
        return `cannot create ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
      }
      parents.set(c, dir);
    }
    return new CgroupsV1Isolator(parents);
  }

  describe(): string {
    return `cgroups v1: memory, cpu (shares and cfs quota), pids under ${path.dirname(this.parents.get('memory') as string)}`;
  }

  private dir(c: Controller, id: string): string {
    return path.join(this.parents.get(c) as string, id);
  }

  prepare(id: string, limits: Limits, owner: Owner | undefined): Prepared {
    const prelude: string[] = [];
    for (const c of CONTROLLERS) {
      const d = this.dir(c, id);
      mkdirSync(d, { recursive: true });
      if (owner && owner.uid !== 0) chownSync(path.join(d, 'cgroup.procs'), owner.uid, owner.gid);
      // `|| exit 125`: a task that cannot be confined does not run (125: the wrapper's own failure).
      prelude.push(`echo $$ > ${shellQuote(path.join(d, 'cgroup.procs'))} || exit 125`);
    }
    this.update(id, limits);
    return { prelude };
  }

  update(id: string, limits: Limits): void {
    if (limits.memMiB !== undefined && limits.memMiB > 0) {
      const bytes = Math.ceil(limits.memMiB * 1024 * 1024);
      const d = this.dir('memory', id);
      const before = this.memLimits.get(id);
      // memsw must stay ≥ the memory limit at every step: raise it first, lower it last.
      const growing = before !== undefined && bytes > before;
      if (this.memsw && growing) writeFileSync(path.join(d, 'memory.memsw.limit_in_bytes'), String(bytes));
      writeFileSync(path.join(d, 'memory.limit_in_bytes'), String(bytes));
      if (this.memsw && !growing) writeFileSync(path.join(d, 'memory.memsw.limit_in_bytes'), String(bytes));
      this.memLimits.set(id, bytes);
    }
    if (limits.cpus !== undefined && limits.cpus > 0) {
      const d = this.dir('cpu', id);
      writeFileSync(path.join(d, 'cpu.shares'), String(Math.max(2, Math.round(limits.cpus * 1024))));
      writeFileSync(path.join(d, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
      writeFileSync(path.join(d, 'cpu.cfs_quota_us'), String(Math.max(1000, Math.round(limits.cpus * CFS_PERIOD_US))));
    }
    if (limits.pidsMax !== undefined && limits.pidsMax > 0) {
      writeFileSync(path.join(this.dir('pids', id), 'pids.max'), String(Math.floor(limits.pidsMax)));
    }
  }

  place(id: string, pid: number): void {
    for (const c of CONTROLLERS) writeFileSync(path.join(this.dir(c, id), 'cgroup.procs'), String(pid));
  }

  limitation(id: string): Limitation | undefined {
    const d = this.dir('memory', id);
    let oomKills = 0;
    try {
      const m = /^oom_kill (\d+)$/m.exec(readFileSync(path.join(d, 'memory.oom_control'), 'utf8'));
      oomKills = m ? Number(m[1]) : 0;
    } catch {
      return undefined;
    }
    if (oomKills === 0) return undefined;
    const limit = this.memLimits.get(id) ?? readNumber(path.join(d, 'memory.limit_in_bytes')) ?? 0;
    const peak = readNumber(path.join(d, 'memory.max_usage_in_bytes'));
    return {
      reason: TaskStatusReason.REASON_CONTAINER_LIMITATION_MEMORY,
      message: `memory limit ${mib(limit)} exceeded${peak !== undefined ? ` (peak usage ${mib(peak)})` : ''}; the kernel killed the task`,
    };
  }

  usage(id: string): Usage {
    const mem = readNumber(path.join(this.dir('memory', id), 'memory.usage_in_bytes'));
    const cpu = readNumber(path.join(this.dir('cpuacct', id), 'cpuacct.usage'));
    return { ...(mem !== undefined ? { memBytes: mem } : {}), ...(cpu !== undefined ? { cpuSeconds: cpu / 1e9 } : {}) };
  }

  /** Pids still in any of the container's cgroups. */
  private pidsIn(id: string): number[] {
    const pids = new Set<number>();
    for (const c of CONTROLLERS) {
      try {
        for (const l of readFileSync(path.join(this.dir(c, id), 'cgroup.procs'), 'utf8').split('\n')) if (l) pids.add(Number(l));
      } catch { /* gone */ }
    }
    return [...pids];
  }

  async destroy(id: string): Promise<void> {
    this.memLimits.delete(id);
    // Processes that left the task's process group (setsid, daemons) are still in its cgroups.
    for (let attempt = 0; attempt < 50; attempt++) {
      for (const pid of this.pidsIn(id)) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      }
      let left = 0;
      for (const c of CONTROLLERS) {
        try {
          rmdirSync(this.dir(c, id));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left++;
        }
      }
      if (left === 0) return;
      await sleep(20);
    }
  }

  async recover(keep: ReadonlySet<string>): Promise<string[]> {
    const found = new Set<string>();
    for (const c of CONTROLLERS) {
      try {
        for (const e of readdirSync(this.parents.get(c) as string, { withFileTypes: true })) if (e.isDirectory()) found.add(e.name);
      } catch { /* nothing */ }
    }
    const removed = [...found].filter((id) => !keep.has(id));
    await Promise.all(removed.map((id) => this.destroy(id)));
    for (const id of keep) {
      const limit = readNumber(path.join(this.dir('memory', id), 'memory.limit_in_bytes'));
      if (limit !== undefined) this.memLimits.set(id, limit);
    }
    return removed;
  }

  async close(): Promise<void> {
    for (const c of CONTROLLERS) {
      try { rmdirSync(this.parents.get(c) as string); } catch { /* containers left (recovered later) */ }
    }
  }
}

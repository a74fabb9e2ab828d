/**
 * The agent's isolation, in one object the executors call around each container's life:
 *
 *   launch()  before the process starts: picks the container's user, hands it the sandbox
 *             (owner, mode 0700), creates its cgroups / rlimits, starts disk watching;
 *   resize()  a custom executor got more tasks: its limits grow with them;
 *   ended()   after its process is gone: the limit it hit (OOM), then cleanup — whatever is
 *             left in its cgroups is killed, the cgroups removed, the sandbox handed back to
 *             root and a dynamic uid returned to the pool.
 *
 * A container is keyed by its sandbox directory (one per built-in task, one per custom executor
 * run), so its cgroup name can be derived again after an agent restart without a record of its
 * own; a dynamic user is remembered the same way, by the sandbox's owner.
 */
import { chmodSync, chownSync, lstatSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { TaskStatusReason, resources as R, type Clock, type CommandInfo, type Logger, type Resource } from '@agora/core';
import { CgroupsV1Isolator } from './cgroups-v1.js';
import { DiskWatcher } from './disk-watch.js';
import { NoIsolator, mib, type Isolator, type Limitation, type Limits } from './isolator.js';
import { RlimitIsolator } from './rlimits.js';
import { DynamicUsers, lookupUser, type AllowUser, type TaskUser } from './users.js';

export type { Limitation } from './isolator.js';
export type { AllowUser, TaskUser } from './users.js';

/** `--isolation`: auto picks cgroups when the agent can create them, else rlimits. */
export type IsolationMode = 'auto' | 'cgroups' | 'rlimits' | 'none';

export interface IsolationOptions {
  mode: IsolationMode;
  workDir: string;
  /** Run containers as dynamic users (when the agent is root). */
  dynamicUsers: boolean;
  dynamicUidRange: [number, number];
  allowUser: AllowUser;
  /** pids.max of every container; 0: unlimited. */
  pidsMax: number;
  /** Kill containers over their `disk` resource. */
  enforceDiskQuota: boolean;
  diskWatchIntervalMs: number;
  clock: Clock;
  log: Logger;
}

/** What one container is launched with. */
export interface ContainerLaunch {
  /** Shell lines for the task's wrapper (ProcessSpec.prelude). */
  prelude: string[];
  /** The user it runs as; undefined: the agent's own. */
  user: TaskUser | undefined;
  /** Environment for that user (HOME, USER), below the command's own variables. */
  env: Record<string, string>;
}

/** Who asks for a container and what it may use. */
export interface ContainerRequest {
  sandbox: string;
  resources: readonly Resource[];
  /** CommandInfo.user, then FrameworkInfo.user, name a user; empty: a dynamic one. */
  command: CommandInfo | null | undefined;
  frameworkUser: string | null | undefined;
  frameworkPrincipal: string | null | undefined;
  /** Called (once) when the container goes over a limit the agent watches (disk). */
  onLimit: (l: Limitation) => void;
}

/** The limitation of a sandbox over its disk quota. */
function diskLimitation(limitBytes: number, usedBytes: number): Limitation {
  return { reason: TaskStatusReason.REASON_CONTAINER_LIMITATION_DISK, message: `disk quota ${mib(limitBytes)} exceeded (sandbox uses ${mib(usedBytes)})` };
}

/** Limits of a container holding `resources`. */
export function limitsOf(resources: readonly Resource[], pidsMax: number): Limits {
  const cpus = R.scalarOf(resources, 'cpus');
  const mem = R.scalarOf(resources, 'mem');
  return { ...(cpus > 0 ? { cpus } : {}), ...(mem > 0 ? { memMiB: mem } : {}), ...(pidsMax > 0 ? { pidsMax } : {}) };
}

/** First directory on the way to `dir` that other users cannot search (no o+x), if any. */
function unsearchable(dir: string): string | undefined {
  let d = path.resolve(dir);
  for (;;) {
    try {
      if ((statSync(d).mode & 0o001) === 0) return d;
    } catch {
      return d;
    }
    const up = path.dirname(d);
    if (up === d) return undefined;
    d = up;
  }
}

export class Isolation {
  /** One line for the agent's log at start: what is enforced and as which users tasks run. */
  readonly summary: string;
  readonly isolator: Isolator;
  private readonly users: DynamicUsers | undefined;
  private readonly disk: DiskWatcher | undefined;
  private readonly live = new Map<string, { user: TaskUser | undefined; resources: readonly Resource[] }>();
  private readonly isRoot = process.getuid?.() === 0;
  /** Cleanups under way (close() waits for them). */
  private readonly cleaning = new Set<Promise<void>>();

  constructor(private readonly o: IsolationOptions) {
    this.isolator = Isolation.pickIsolator(o, (owner) => owner !== undefined && this.users !== undefined && owner.uid !== process.getuid?.());
    let userLine: string;
    if (!this.isRoot) {
      userLine = `tasks run as the agent's own user (${os.userInfo().username}): only root can run them as other users`;
    } else if (!o.dynamicUsers) {
      userLine = 'tasks run as root unless they name a user (dynamic users are off)';
    } else {
      // The agent's own work dir must let task users through to their sandboxes.
      try {
        const st = statSync(o.workDir);
        if ((st.mode & 0o001) === 0) chmodSync(o.workDir, (st.mode & 0o7777) | 0o011);
      } catch { /* reported below */ }
      const blocked = unsearchable(o.workDir);
      if (blocked) {
        userLine = `tasks run as root: ${blocked} is not searchable by other users, so tasks running as unprivileged users could not reach their sandboxes (chmod o+x it to enable dynamic users)`;
      } else {
        this.users = new DynamicUsers(o.dynamicUidRange[0], o.dynamicUidRange[1]);
        userLine = `each task runs as its own unprivileged user (uids ${this.users.range}) unless it names one`;
      }
    }
    if (o.enforceDiskQuota) this.disk = new DiskWatcher(o.clock, o.log, o.diskWatchIntervalMs);
    const diskLine = o.enforceDiskQuota ? `disk quota enforced (du every ${o.diskWatchIntervalMs / 1000} s)` : 'disk quota not enforced';
    this.summary = `isolation: ${this.isolator.describe()}; ${diskLine}; ${userLine}`;
  }

  private static pickIsolator(o: IsolationOptions, ownUser: (owner: { uid: number } | undefined) => boolean): Isolator {
    if (o.mode === 'none') return new NoIsolator();
    if (o.mode === 'rlimits') return new RlimitIsolator('--isolation rlimits', ownUser);
    const cg = CgroupsV1Isolator.open(o.workDir);
    if (typeof cg !== 'string') return cg;
    if (o.mode === 'cgroups') throw new Error(`--isolation cgroups: ${cg}`);
    return new RlimitIsolator(`cgroups unavailable: ${cg}`, ownUser);
  }

  /** The container ID of a sandbox (a cgroup name). */
  static containerId(sandbox: string): string {
    return createHash('sha1').update(sandbox).digest('hex').slice(0, 16);
  }

  /** The user a container runs as; throws an Error saying why a requested user is refused. */
  private userFor(req: ContainerRequest): TaskUser | undefined {
    const named = req.command?.user || req.frameworkUser || '';
    if (named) {
      if (!this.isRoot) {
        if (named === os.userInfo().username) return undefined;
        throw new Error(`cannot run as user '${named}': the agent runs as '${os.userInfo().username}', not root, and cannot switch users`);
      }
      if (!this.o.allowUser(req.frameworkPrincipal ?? '', named)) throw new Error(`running tasks as user '${named}' is not allowed on this agent`);
      const u = lookupUser(named);
      if (!u) throw new Error(`user '${named}' does not exist on this agent`);
      // Another name for uid 0 (e.g. toor) is root too: it takes the same permission as 'root'.
      if (u.uid === 0 && named !== 'root' && !this.o.allowUser(req.frameworkPrincipal ?? '', 'root')) {
        throw new Error(`running tasks as user '${named}' (uid 0, i.e. root) is not allowed on this agent`);
      }
      return { ...u, name: named, dynamic: false };
    }
    if (!this.users) return undefined;
    const u = this.users.allocate();
    if (!u) throw new Error(`no free dynamic user: all uids ${this.users.range} are in use`);
    return u;
  }

  /**
   * Prepares the container of `req.sandbox`. Throws an Error saying why it cannot (user
   * refused, uid range exhausted, cgroup not creatable); nothing is left behind then.
   */
  launch(req: ContainerRequest): ContainerLaunch {
    const id = Isolation.containerId(req.sandbox);
    const user = this.userFor(req);
    try {
      if (this.isRoot) {
        // 0700 and owned by the task's user: no other task can list or read it. The agent (root)
        // still reads it for the Files service.
        chownSync(req.sandbox, user?.uid ?? 0, user?.gid ?? 0);
        chmodSync(req.sandbox, 0o700);
      }
      const prepared = this.isolator.prepare(id, limitsOf(req.resources, this.o.pidsMax), user && user.uid !== 0 ? user : undefined);
      this.live.set(req.sandbox, { user, resources: req.resources });
      this.watchDisk(req.sandbox, req.resources, req.onLimit);
      const env: Record<string, string> = user && user.uid !== process.getuid?.() ? { HOME: req.sandbox, USER: user.name, LOGNAME: user.name } : {};
      return { prelude: prepared.prelude, user, env };
    } catch (err) {
      if (user?.dynamic) this.users?.release(user.uid);
      void this.isolator.destroy(id);
      throw err;
    }
  }

  /** A container's resources changed (tasks added to a custom executor). */
  resize(sandbox: string, resources: readonly Resource[]): void {
    const c = this.live.get(sandbox);
    if (!c) return;
    c.resources = resources;
    const id = Isolation.containerId(sandbox);
    try {
      this.isolator.update(id, limitsOf(resources, this.o.pidsMax));
    } catch (err) {
      this.o.log.warn({ err, sandbox }, 'cannot update the container limits');
    }
    const disk = R.scalarOf(resources, 'disk');
    if (disk > 0) this.disk?.resize(id, disk * 1024 * 1024);
  }

  /**
   * Moves a process into its container, for commands that run without the wrapper (the
   * wrapper places itself). Best effort: logs when it cannot.
   */
  place(sandbox: string, pid: number): void {
    try {
      this.isolator.place(Isolation.containerId(sandbox), pid);
    } catch (err) {
      this.o.log.warn({ err, pid }, 'cannot move the process into its container');
    }
  }

  /**
   * The container's process ended: returns the limit it hit (if any), then cleans up in the
   * background (kills leftovers, removes cgroups, hands the sandbox back to root, frees its uid).
   */
  ended(sandbox: string): Limitation | undefined {
    const id = Isolation.containerId(sandbox);
    const limitation = this.isolator.limitation(id);
    this.disk?.unwatch(id);
    const c = this.live.get(sandbox);
    this.live.delete(sandbox);
    const done = this.isolator.destroy(id).then(() => {
      if (this.isRoot) {
        try {
          // Back to root before the uid can go to another task, which could otherwise enter it.
          if (lstatSync(sandbox).uid !== 0) chownSync(sandbox, 0, 0);
        } catch { /* sandbox removed */ }
      }
      if (c?.user?.dynamic) this.users?.release(c.user.uid);
      this.cleaning.delete(done);
    });
    this.cleaning.add(done);
    return limitation;
  }

  /**
   * After an agent restart: containers of live processes are kept (their dynamic uids reserved
   * again, read from their sandboxes' owners), every other container of this agent is removed.
   */
  async recover(live: ReadonlyArray<{ sandbox: string; resources: readonly Resource[] }>): Promise<number> {
    const keep = new Set<string>();
    for (const c of live) {
      keep.add(Isolation.containerId(c.sandbox));
      let user: TaskUser | undefined;
      try {
        const uid = statSync(c.sandbox).uid;
        if (this.users?.reserve(uid)) user = { uid, gid: statSync(c.sandbox).gid, name: `agora-${uid}`, dynamic: true };
      } catch { /* sandbox gone */ }
      this.live.set(c.sandbox, { user, resources: c.resources });
    }
    return (await this.isolator.recover(keep)).length;
  }

  /** Watches a container's sandbox against its `disk` resource (also for recovered containers). */
  watchDisk(sandbox: string, resources: readonly Resource[], onLimit: (l: Limitation) => void): void {
    const disk = R.scalarOf(resources, 'disk');
    if (!this.disk || !(disk > 0)) return;
    const limit = disk * 1024 * 1024;
    this.disk.watch(Isolation.containerId(sandbox), sandbox, limit, (used) => onLimit(diskLimitation(limit, used)));
  }

  async close(): Promise<void> {
    this.disk?.stop();
    await Promise.all([...this.cleaning]);
    await this.isolator.close();
  }
}

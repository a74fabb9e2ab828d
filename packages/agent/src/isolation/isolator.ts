/**
 * Isolators: what confines one container (a built-in task, or a custom executor with its tasks)
 * to its resources. The agent picks one at start (`--isolation cgroups|rlimits|none`, default
 * auto: cgroups where the agent can create them, else rlimits) and says which in one log line.
 *
 * Placement is done by the task's own process: its waiting wrapper (runner-execa.ts) runs the
 * isolator's `prelude` shell lines before the command (writes its pid into the cgroups, sets
 * rlimits), so every child it forks is born confined and nothing runs unconfined even for a
 * moment. The agent only moves a pid itself (`place`) when a command cannot be wrapped.
 */
import type { TaskStatusReason } from '@agora/core';

/** What a container may use. Undefined fields are not limited. */
export interface Limits {
  /** CPU share: cfs quota = cpus × period, shares = cpus × 1024. */
  cpus?: number;
  /** Memory in MiB; exceeding it gets the container OOM-killed. */
  memMiB?: number;
  /** Most processes (threads) at once. */
  pidsMax?: number;
}

/** The OS identity a container's processes run as. */
export interface Owner {
  uid: number;
  gid: number;
}

/** Why a container was stopped by its isolation rather than by its own doing. */
export interface Limitation {
  reason: TaskStatusReason;
  message: string;
}

/** One container as an isolator prepared it. */
export interface Prepared {
  /** Shell lines the task's wrapper runs, as the task's user, before it starts the command. */
  prelude: string[];
}

/** Resource usage of a container, when the isolator can tell. */
export interface Usage {
  memBytes?: number;
  cpuSeconds?: number;
}

/** A way to confine containers. */
export interface Isolator {
  /** 'cgroups-v1', 'rlimits' or 'none'. */
  readonly kind: string;
  /** One sentence for the agent's start-up line: what is enforced and how. */
  describe(): string;
  /**
   * Creates the container `id` with `limits`, owned by `owner` (who must be able to join it).
   * Synchronous: it is on the launch path and costs a few small writes. Throws an Error saying
   * why when the container cannot be created (the launch then fails).
   */
  prepare(id: string, limits: Limits, owner: Owner | undefined): Prepared;
  /** Changes a running container's limits (a custom executor received more tasks). */
  update(id: string, limits: Limits): void;
  /** Moves `pid` into the container (only for commands that cannot run under the wrapper). */
  place(id: string, pid: number): void;
  /** After the container's process ended: the limit it hit, if any. */
  limitation(id: string): Limitation | undefined;
  usage(id: string): Usage;
  /** Kills whatever is left in the container and removes it. Never rejects. */
  destroy(id: string): Promise<void>;
  /**
   * After an agent restart: removes every container of this agent that is not in `keep` (their
   * tasks are gone), killing what is left in them. Returns the IDs removed. Never rejects.
   */
  recover(keep: ReadonlySet<string>): Promise<string[]>;
  /** Removes the agent's own parent container when it is empty (agent stop). */
  close(): Promise<void>;
}

/** Bytes → "64 MiB" (whole MiB when exact, else one decimal). */
export function mib(bytes: number): string {
  const m = bytes / (1024 * 1024);
  return `${Number.isInteger(m) ? m : m.toFixed(1)} MiB`;
}

/** An isolator that confines nothing (`--isolation none`). */
export class NoIsolator implements Isolator {
  readonly kind: Isolator['kind'] = 'none';
  describe(): string {
    return 'no isolation: tasks are not limited to their cpus, mem or pids (--isolation none)';
  }
  prepare(_id: string, _limits: Limits, _owner: Owner | undefined): Prepared {
    return { prelude: [] };
  }
  update(): void {}
  place(): void {}
  limitation(): Limitation | undefined {
    return undefined;
  }
  usage(): Usage {
    return {};
  }
  async destroy(): Promise<void> {}
  async recover(): Promise<string[]> {
    return [];
  }
  async close(): Promise<void> {}
}

/**
 * What operators want to know about a task that the books do not keep: when it was launched
 * and started, its recent statuses (the task table keeps only the latest), and its command.
 * Kept in a WeakMap keyed by the task's wire object, which the task table moves to its
 * completed list unchanged, so an entry lives exactly as long as the master remembers the
 * task and needs no eviction of its own.
 */
import { idOf, TaskState, type Clock, type Task, type TaskStatus } from '@agora/core';
import type { MasterEvents } from './events.js';
import type { TaskTable } from './tasks.js';

/** Statuses kept per task: enough for a task page, bounded for tasks that flap. */
export const MAX_STATUSES = 16;

/** Operator facts about one task (times in ms since the epoch). */
export interface TaskFacts {
  createdAt: number;
  /** First time it was TASK_RUNNING. */
  startedAt: number | undefined;
  updatedAt: number;
  /** Oldest first, at most MAX_STATUSES. */
  statuses: TaskStatus[];
  command: string | undefined;
}

export class TaskHistory {
  private readonly facts = new WeakMap<Task, TaskFacts>();
  /**
   * Every task seen, oldest first (by first sighting). Entries whose task the master no longer
   * holds are skipped by readers and dropped by `compact` once they are most of the list.
   */
  private order: Task[] = [];

  constructor(events: MasterEvents, private readonly clock: Clock, private readonly tasks: TaskTable) {
    events.on((e) => {
      if (e.type !== 'task_updated') return;
      const rec = e.task;
      const now = this.clock.now();
      let f = this.facts.get(rec.task);
      if (!f) {
        // A re-registered task is new to this master: its launch time is the wire's, if any.
        const launched = rec.task.launchedAt ? rec.task.launchedAt * 1000 : now;
        f = { createdAt: launched, startedAt: undefined, updatedAt: now, statuses: [], command: rec.command };
        this.facts.set(rec.task, f);
        this.order.push(rec.task);
        if (this.order.length > Math.max(1024, 2 * (tasks.size + tasks.completedCount))) this.order = this.order.filter(this.held);
      }
      f.updatedAt = now;
      if (rec.state === TaskState.TASK_RUNNING && f.startedAt === undefined) f.startedAt = now;
      const latest = rec.latest;
      if (latest && f.statuses[f.statuses.length - 1] !== latest) {
        f.statuses.push(latest);
        if (f.statuses.length > MAX_STATUSES) f.statuses.splice(0, f.statuses.length - MAX_STATUSES);
      }
    });
  }

  /** True while the master holds this very task object (live or among the completed). */
  readonly held = (t: Task): boolean => {
    const fid = idOf(t.frameworkId);
    const tid = idOf(t.taskId);
    return this.tasks.get(fid, tid)?.task === t || this.tasks.getCompleted(fid, tid) === t;
  };

  /**
   * Tasks the master holds, newest first (by first sighting). Walks from the newest, so a first
   * page costs its length, not the number of tasks. Entries of forgotten tasks are skipped, and
   * dropped once they are over half of the list (amortized O(1) per task).
   */
  *newestFirst(): Generator<Task> {
    for (let i = this.order.length - 1; i >= 0; i--) {
      const t = this.order[i]!;
      if (this.held(t)) yield t;
    }
  }

  /** Facts about a task (undefined for one this master never saw change). */
  get(task: Task): TaskFacts | undefined {
    return this.facts.get(task);
  }
}

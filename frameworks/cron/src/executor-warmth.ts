/**
 * Which agents run a cron executor already, and warm-up tasks that start one where none runs.
 *
 * Why: a run launched ahead onto an agent without the executor waits for the executor process
 * to start (a Node start, ~0.3 s idle, seconds on a busy host) — that can eat the whole lead.
 * So runs are launched ahead only onto agents whose executor is known to be up (scheduler.ts);
 * elsewhere a run waits for its instant and goes as a plain command task, as without an
 * executor. And each agent that offers resources and has no executor yet gets one tiny warm-up
 * task (`true`, started at once); its updates come from the executor and mark the agent warm. Warm-up tasks belong to no run: they are not
 * persisted and a restart simply warms up again (a running executor makes it instant).
 */
import { TaskStatusReason, executorTask, idOf, offerFits, type Offer, type TaskInfo, type TaskStatus } from '@agora/sdk';

/** The cron executor a warm-up task starts. */
export interface WarmExecutor {
  command: string;
  resources: { cpus: number; mem: number };
}
import { EXECUTOR_ID } from './launch.js';
import { encodeRunSpec } from './run-spec.js';

/** Task IDs of warm-up tasks start with this (no run ID does: those hold `@`). */
export const WARMUP_PREFIX = 'agora-cron-warmup.';
/** A warm-up that brought no word is tried again after this long. */
const WARMUP_RETRY_MS = 30_000;
const WARMUP_NEED = { cpus: 0.01, mem: 1 };

export class ExecutorWarmth {
  private readonly warm = new Set<string>();
  private readonly warming = new Map<string, number>();
  private seq = 0;

  /** True once some agent is known to run the executor. */
  get anyWarm(): boolean { return this.warm.size > 0; }

  /** Agents known to run the executor. */
  get size(): number { return this.warm.size; }

  isWarm(agentId: string): boolean { return this.warm.has(agentId); }

  /** Learns from a status update: an executor's update marks its agent warm; its death cold. */
  observe(s: TaskStatus): void {
    const agent = idOf(s.agentId);
    if (!agent) return;
    if (s.reason === TaskStatusReason.REASON_EXECUTOR_TERMINATED || s.reason === TaskStatusReason.REASON_EXECUTOR_REGISTRATION_TIMEOUT || s.reason === TaskStatusReason.REASON_CONTAINER_LAUNCH_FAILED) {
      this.warm.delete(agent);
      this.warming.delete(agent);
      return;
    }
    if (idOf(s.executorId) === EXECUTOR_ID) {
      this.warm.add(agent);
      this.warming.delete(agent);
    }
  }

  /** The agent is gone (or we lost the master): nothing is known about it any more. */
  forget(agentId?: string): void {
    if (agentId === undefined) { this.warm.clear(); this.warming.clear(); return; }
    this.warm.delete(agentId);
    this.warming.delete(agentId);
  }

  /** Launches (via `launch`) a warm-up task on each held offer whose agent needs one; those offers are spent. */
  warmUp(held: Map<string, Offer>, executor: WarmExecutor, now: number, launch: (offerId: string, task: TaskInfo) => void): void {
    for (const [offerId, offer] of held) {
      const task = this.warmupTask(offer, executor, now);
      if (!task) continue;
      held.delete(offerId);
      launch(offerId, task);
    }
  }

  /** A warm-up task for this offer's agent when it needs one (and the offer holds it), else undefined. */
  warmupTask(offer: Offer, executor: WarmExecutor, now: number): TaskInfo | undefined {
    const agent = idOf(offer.agentId);
    if (!agent || this.warm.has(agent)) return undefined;
    // The warm-up starts the executor, so the offer must hold the executor's resources too.
    const need = { cpus: WARMUP_NEED.cpus + executor.resources.cpus, mem: WARMUP_NEED.mem + executor.resources.mem };
    if (!offerFits(offer, need)) return undefined;
    const since = this.warming.get(agent);
    if (since !== undefined && now - since < WARMUP_RETRY_MS) return undefined;
    let task: TaskInfo;
    try {
      task = executorTask(offer, {
        name: 'cron executor warm-up',
        taskId: `${WARMUP_PREFIX}${agent}.${now}-${this.seq++}`,
        ...WARMUP_NEED,
        executor: { executorId: EXECUTOR_ID, name: 'agora cron executor', command: executor.command, resources: executor.resources },
        data: encodeRunSpec({ v: 1, run: 'warm-up', startAt: 0, command: { value: 'true', shell: true }, env: {} }),
      });
    } catch {
      return undefined; // the offer is too small; the next one will do
    }
    this.warming.set(agent, now);
    return task;
  }
}

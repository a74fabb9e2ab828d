/**
 * Applies the allocator's preemption decisions (allocator/preemption.ts decides, purely):
 * an INVERSE_OFFERS event tells the victim framework which task's resources are wanted and by
 * when; after the grace period the master sends KILL_TASK to the agent. The agent's TASK_KILLED
 * is what the framework sees; the master sets its reason to REASON_CONTAINER_PREEMPTED (and
 * says why in the message), since only the master knows the kill was a preemption.
 *
 * Runs on the allocation safety tick (every `allocationIntervalMs`), only with preemption on.
 * A task labelled `agora.preemptible=false` is never chosen.
 */
import { AgentEventType, EventType, TaskState, TaskStatusReason, type TaskStatus, type TimerHandle } from '@agora/core';
import { planPreemption, preemptionKey, type PreemptionTask } from './allocator/index.js';
import type { AgentEntry } from './agents.js';
import type { FrameworkEntry } from './frameworks.js';
import type { Ledger } from './ledger.js';
import type { OfferBook } from './offers.js';
import type { CompiledMasterOptions } from './options.js';
import type { TaskRecord, TaskTable } from './tasks.js';
import type { Clock, Logger } from '@agora/core';
import type { RoleConfig } from './allocator/index.js';

/** What the preemptor reads of the master's books (MasterState provides it). */
export interface PreemptionHost {
  readonly clock: Clock;
  readonly log: Logger;
  readonly opts: CompiledMasterOptions;
  readonly shortId: string;
  readonly frameworks: Map<string, FrameworkEntry>;
  readonly agents: Map<string, AgentEntry>;
  readonly offers: OfferBook;
  readonly tasks: TaskTable;
  readonly ledger: Ledger;
  readonly roleConfigs: ReadonlyMap<string, RoleConfig>;
  taskRole(rec: TaskRecord, fw?: FrameworkEntry): string;
}

/** The label that opts a task out of preemption (value `false`). */
export const PREEMPTIBLE_LABEL = 'agora.preemptible';

/** Remembered preempted tasks (for rewriting retried updates), bounded. */
const MAX_REMEMBERED = 10_000;

interface Pending {
  forRole: string;
  timer: TimerHandle;
}

export class Preemptor {
  private readonly pending = new Map<string, Pending>();
  private readonly preempted = new Set<string>();
  private seq = 0;
  /** Preemptions decided (inverse offers sent) and kills sent, for metrics and tests. */
  decided = 0;
  killed = 0;

  constructor(private readonly m: PreemptionHost) {}

  /** Decides and applies preemptions for this tick. */
  check(): void {
    const m = this.m;
    const now = m.clock.now();
    const demanding = new Set<string>();
    for (const fw of m.frameworks.values()) {
      if (!fw.connected || fw.suppressed || fw.filters.size > 0) continue;
      if (m.offers.ofFramework(fw.id).length > 0) continue;
      demanding.add(fw.id);
    }
    if (demanding.size === 0) return;
    const tasks: PreemptionTask[] = [];
    for (const rec of m.tasks.allLive()) {
      const fw = m.frameworks.get(rec.frameworkId);
      if (!fw) continue;
      const label = (rec.task.labels?.labels ?? []).find((l) => l.key === PREEMPTIBLE_LABEL);
      tasks.push({
        frameworkId: rec.frameworkId, taskId: rec.taskId, agentId: rec.agentId, role: m.taskRole(rec, fw), resources: rec.resources,
        priority: fw.priority, launchedAt: (rec.task.launchedAt ?? 0) * 1000, preemptible: label?.value !== 'false',
      });
    }
    const pending = new Map([...this.pending].map(([k, p]) => [k, p.forRole]));
    const decisions = planPreemption({ frameworks: [...m.frameworks.values()], tasks, totals: m.ledger.totals, roles: m.roleConfigs, demanding, pending });
    for (const d of decisions) {
      const key = preemptionKey(d.frameworkId, d.taskId);
      const fw = m.frameworks.get(d.frameworkId);
      if (!fw || this.pending.has(key)) continue;
      this.decided++;
      const deadline = now + m.opts.preemptionGraceMs;
      fw.send({
        type: EventType.INVERSE_OFFERS,
        inverseOffers: { inverseOffers: [{ id: { value: `io-${m.shortId}-${++this.seq}` }, frameworkId: { value: d.frameworkId }, agentId: { value: d.agentId }, resources: [...d.resources], deadline: deadline / 1000 }] },
      });
      m.log.info({ frameworkId: d.frameworkId, taskId: d.taskId, forRole: d.forRole }, `preemption: ${d.reason}`);
      const timer = m.clock.setTimeout(() => this.kill(key, d.frameworkId, d.taskId), m.opts.preemptionGraceMs);
      this.pending.set(key, { forRole: d.forRole, timer });
    }
  }

  private kill(key: string, frameworkId: string, taskId: string): void {
    const m = this.m;
    const rec = m.tasks.get(frameworkId, taskId);
    if (!rec) {
      this.pending.delete(key);
      return;
    }
    this.preempted.add(key);
    if (this.preempted.size > MAX_REMEMBERED) this.preempted.delete(this.preempted.values().next().value as string);
    this.killed++;
    m.agents.get(rec.agentId)?.send({ type: AgentEventType.KILL_TASK, killTask: { frameworkId: { value: frameworkId }, taskId: { value: taskId }, killPolicy: rec.task.killPolicy ?? undefined } });
  }

  /** The task ended (any reason): it no longer waits for its kill. */
  released(frameworkId: string, taskId: string): void {
    const key = preemptionKey(frameworkId, taskId);
    const p = this.pending.get(key);
    if (p) {
      p.timer.cancel();
      this.pending.delete(key);
    }
  }

  /** Marks the TASK_KILLED of a preempted task as such (also when the agent retries it). */
  rewrite(frameworkId: string, status: TaskStatus): void {
    if (status.state !== TaskState.TASK_KILLED || this.preempted.size === 0) return;
    if (!this.preempted.has(preemptionKey(frameworkId, status.taskId?.value ?? ''))) return;
    status.reason = TaskStatusReason.REASON_CONTAINER_PREEMPTED;
    if (!/preempted/.test(status.message ?? '')) status.message = `preempted by the master to meet another role's share${status.message ? `: ${status.message}` : ''}`;
  }

  stop(): void {
    for (const p of this.pending.values()) p.timer.cancel();
    this.pending.clear();
  }
}

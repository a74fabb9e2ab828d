/**
 * The master's books and the actions that cross them: allocation scheduling and applying its
 * result, offers and their rescission, task bookkeeping with resource release, framework
 * disconnect / failover / teardown, agent deactivation. The API modules (scheduler-api,
 * agent-api, operator-api) translate wire calls into these actions; nothing here parses input.
 */
import { performance } from 'node:perf_hooks';
import {
  EventType, AgentEventType, TaskState, TaskStatusReason, TaskStatusSource, isTerminalState, taskStateName, resources,
  type MasterInfo, type Offer, type Resource, type TaskStatus, type TimerHandle, type Logger, type Clock,
} from '@agora/core';
import { Allocator, AllocatorState, type Allocation, type RoleConfig } from './allocator/index.js';
import { AgentEntry } from './agents.js';
import { FrameworkEntry } from './frameworks.js';
import { MasterEvents, WatchedMap } from './events.js';
import { addScalars, Ledger } from './ledger.js';
import { MasterMetrics } from './metrics.js';
import { OfferBook, type OfferRecord } from './offers.js';
import type { CompiledMasterOptions } from './options.js';
import type { RegistryOperation, RegistrySnapshot, RoleRecord } from './registry.js';
import { TaskTable, type FreedExecutor, type TaskRecord } from './tasks.js';
import { Preemptor } from './preemptor.js';
import { AgentHealth } from './agent-health.js';
import { Drainer } from './drain.js';
import { Reconciler } from './reconciliation.js';
import type { AgentRecord } from './registry.js';
import type { FailureHost } from './failure-host.js';

/** Seconds since the epoch, as the wire carries time. */
export const seconds = (ms: number): number => ms / 1000;

export class MasterState implements FailureHost {
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics = new MasterMetrics();
  readonly ledger = new Ledger();
  readonly offers: OfferBook;
  readonly tasks: TaskTable;
  /** Every change operators may watch (HTTP event stream, metrics); see events.ts. */
  readonly events: MasterEvents;
  readonly frameworks: WatchedMap<FrameworkEntry>;
  readonly agents: WatchedMap<AgentEntry>;
  readonly allocator: Allocator;
  /**
   * The allocator's role tree kept between rounds: a round then re-reads only the frameworks
   * whose `version` changed, so its cost follows what changed rather than how many frameworks
   * there are. The allocator stays pure; this is just a value handed back to it.
   */
  readonly allocatorState = new AllocatorState();
  /** Agents marked GONE: ID → seconds since the epoch (refused if they come back). */
  readonly goneAgents = new Map<string, number>();
  /** Agents known from the registry that have not re-registered since this master started leading. */
  readonly recoveringAgents = new Set<string>();
  /** Failure detection: reachable → unreachable → gone, and returning agents. */
  readonly health: AgentHealth;
  /** Reconciliation answers, held while recovering agents may hold the task. */
  readonly reconciler: Reconciler;
  /** Maintenance drains. */
  readonly drainer: Drainer;
  /** Applies preemption decisions (only with the `preemption: 'on'` option). */
  readonly preemptor: Preemptor | undefined;
  /** Operator role settings (weight, quota) by role, as the registry holds them. */
  readonly roleRecords = new Map<string, RoleRecord>();
  /** The same, in the allocator's shape (rebuilt when a record changes). */
  roleConfigs = new Map<string, RoleConfig>();
  /** Milliseconds since the epoch when this master started. */
  readonly startedAt: number;

  private fwSeq = 0;
  private readonly dirty = new Set<string>();
  private allDirty = false;
  private batchTimer: TimerHandle | undefined;
  private intervalTimer: TimerHandle | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private stopped = false;

  constructor(readonly opts: CompiledMasterOptions, readonly info: MasterInfo, readonly shortId: string) {
    this.log = opts.logger;
    this.clock = opts.clock;
    this.startedAt = opts.clock.now();
    this.offers = new OfferBook(shortId);
    this.tasks = new TaskTable(opts.maxCompletedTasks);
    const events = (this.events = new MasterEvents((e) => this.log.error({ err: (e as Error)?.stack ?? String(e) }, 'master event listener failed')));
    this.frameworks = new WatchedMap((kind, framework) => { if (events.active) events.emit({ type: `framework_${kind}`, framework }); });
    this.agents = new WatchedMap((kind, agent) => { if (events.active) events.emit({ type: `agent_${kind}`, agent }); });
    this.tasks.observer = (task, previous) => { if (events.active) events.emit({ type: 'task_updated', task, previous }); };
    this.allocator = new Allocator({ sorter: opts.sorter, agentOrder: opts.agentOrder });
    this.preemptor = opts.preemption ? new Preemptor(this) : undefined;
    this.health = new AgentHealth(this);
    this.reconciler = new Reconciler(this);
    this.drainer = new Drainer(this);
  }

  // ---------------------------------------------------------------- lifecycle and timers

  /** Starts the periodic timers (allocation safety tick, heartbeats, agent ping checks). */
  startTimers(): void {
    const tick = (): void => {
      if (this.stopped) return;
      this.housekeeping();
      this.allDirty = true;
      this.runAllocation();
      this.preemptor?.check();
      this.intervalTimer = this.clock.setTimeout(tick, this.opts.allocationIntervalMs);
    };
    this.intervalTimer = this.clock.setTimeout(tick, this.opts.allocationIntervalMs);
    const beat = (): void => {
      if (this.stopped) return;
      for (const fw of this.frameworks.values()) fw.send({ type: EventType.HEARTBEAT });
      this.heartbeatTimer = this.clock.setTimeout(beat, this.opts.heartbeatIntervalMs);
    };
    this.heartbeatTimer = this.clock.setTimeout(beat, this.opts.heartbeatIntervalMs);
  }

  stopTimers(): void {
    this.stopped = true;
    this.batchTimer?.cancel();
    this.intervalTimer?.cancel();
    this.heartbeatTimer?.cancel();
    this.preemptor?.stop();
    this.drainer.stop();
    this.health.stop();
    for (const fw of this.frameworks.values()) fw.failoverTimer?.cancel();
    for (const o of this.offers.all()) o.timer?.cancel();
  }

  /** Agents silent past the ping timeout become unreachable (then gone); expired filters are dropped. */
  housekeeping(): void {
    const now = this.clock.now();
    this.health.check(now);
    for (const fw of this.frameworks.values()) {
      for (const [agentId, f] of fw.filters) if (f.until <= now) fw.filters.delete(agentId);
    }
  }

  /** Takes role settings and dynamic reservations from a registry snapshot (before agents are reset). */
  restoreAllocatorState(snapshot: RegistrySnapshot): void {
    for (const r of snapshot.roles ?? []) this.roleRecords.set(r.role, r);
    this.rebuildRoleConfigs();
    for (const r of snapshot.reservations ?? []) if (r.resources.length > 0) this.ledger.dynamic.set(r.agentId, resources.flatten(r.resources));
  }

  private rebuildRoleConfigs(): void {
    const toMap = (o: Record<string, number> | undefined): Map<string, number> | undefined => (o && Object.keys(o).length > 0 ? new Map(Object.entries(o)) : undefined);
    const out = new Map<string, RoleConfig>();
    for (const r of this.roleRecords.values()) {
      const guarantee = toMap(r.guarantee);
      const limit = toMap(r.limit);
      out.set(r.role, { weight: r.weight ?? 1, quota: guarantee || limit ? { guarantee, limit } : undefined });
    }
    this.roleConfigs = out;
  }

  /** Stores a role's settings durably, then applies them (the next round uses them). */
  async setRole(record: RoleRecord): Promise<void> {
    const isDefault = (record.weight ?? 1) === 1 && !record.guarantee && !record.limit;
    await this.persist([isDefault ? { type: 'removeRole', role: record.role } : { type: 'putRole', role: record }]);
    if (isDefault) this.roleRecords.delete(record.role);
    else this.roleRecords.set(record.role, record);
    this.rebuildRoleConfigs();
    this.requestAllocation();
  }

  /** Applies a validated RESERVE/UNRESERVE to the ledger and persists the agent's reservations. */
  convertReservation(agentId: string, from: readonly Resource[], to: readonly Resource[]): void {
    const reserve = to.some((r) => (r.reservations ?? []).length > (from.find((f) => f.name === r.name)?.reservations ?? []).length);
    this.ledger.convert(agentId, from, to, reserve);
    const dyn = this.ledger.dynamic.get(agentId) ?? [];
    this.persist([{ type: 'putReservations', reservations: { agentId, resources: dyn } }]).catch((e: Error) => {
      this.log.error({ agentId, err: e.message }, 'registry: could not store reservations');
    });
  }

  agentSettled(agentId: string): void {
    this.reconciler.agentSettled(agentId);
  }

  agentGone(agent: AgentEntry): void {
    this.drainer.forget(agent);
  }

  /** The registry record of an agent as it stands (identity and drain). */
  agentRecord(agent: AgentEntry): AgentRecord {
    const rec: AgentRecord = { id: agent.id, info: agent.info, registeredTime: agent.registeredTime };
    if (agent.drain) rec.drain = { deadline: seconds(agent.drain.deadline) };
    return rec;
  }

  /** Commits registry operations; resolves once durable. */
  persist(ops: RegistryOperation[]): Promise<void> {
    return this.opts.registry.apply(ops);
  }

  // ---------------------------------------------------------------- allocation

  /**
   * Asks for an allocation round within `allocationBatchMs`: for one agent whose resources
   * changed, or (no argument) for every agent with something to offer.
   */
  requestAllocation(agentId?: string): void {
    if (agentId === undefined) this.allDirty = true;
    else this.dirty.add(agentId);
    if (this.batchTimer || this.stopped) return;
    this.batchTimer = this.clock.setTimeout(() => {
      this.batchTimer = undefined;
      this.runAllocation();
    }, this.opts.allocationBatchMs);
  }

  /** One round: candidates are the changed agents (or all offerable ones), in the ledger's order. */
  runAllocation(): void {
    if (this.stopped) return;
    // Every framework goes in: inactive and suppressed ones still count for shares and quota.
    const fws: FrameworkEntry[] = [];
    let takers = 0;
    for (const fw of this.frameworks.values()) {
      if (fw.connected && !fw.suppressed) takers++;
      if (fw.connected || fw.usage.size > 0) fws.push(fw);
    }
    const all = this.allDirty;
    this.allDirty = false;
    if (takers === 0) {
      // Nobody to offer to; framework arrival or revival asks for a full round anyway.
      this.dirty.clear();
      return;
    }
    const ids = all ? [...this.ledger.offerable] : [...this.dirty].filter((id) => this.ledger.offerable.has(id));
    this.dirty.clear();
    if (ids.length === 0) return;
    const t0 = performance.now();
    const candidates = ids.map((id) => {
      const a = this.ledger.get(id);
      return { id, available: a ? a.available : [] };
    });
    const allocations = this.allocator.allocate({ agents: candidates, frameworks: fws, totals: this.ledger.totals, now: this.clock.now(), roles: this.roleConfigs }, this.allocatorState);
    this.applyAllocations(allocations);
    this.metrics.recordAllocation(performance.now() - t0);
  }

  /** Turns allocations into offers after re-checking each against the ledger. */
  private applyAllocations(allocations: readonly Allocation[]): void {
    const byFramework = new Map<FrameworkEntry, Offer[]>();
    const now = this.clock.now();
    for (const a of allocations) {
      const fw = this.frameworks.get(a.frameworkId);
      const agent = this.agents.get(a.agentId);
      if (!fw?.connected || !agent?.active) continue;
      if (!this.ledger.take(a.agentId, a.resources)) {
        this.log.warn({ agentId: a.agentId, frameworkId: a.frameworkId }, 'allocation no longer fits the ledger; skipped');
        continue;
      }
      const id = this.offers.nextId();
      const role = a.role;
      const wire: Offer = {
        id: { value: id },
        frameworkId: { value: fw.id },
        agentId: { value: agent.id },
        hostname: agent.hostname,
        resources: resources.allocateTo(a.resources, role),
        attributes: agent.info.attributes ?? [],
        executorIds: this.tasks.executorIdsOn(agent.id, fw.id).map((value) => ({ value })),
        allocationInfo: { role },
      };
      const rec: OfferRecord = { id, frameworkId: fw.id, agentId: agent.id, role, resources: a.resources, wire, createdAt: now };
      rec.timer = this.clock.setTimeout(() => this.onOfferTimeout(id), this.opts.offerTimeoutMs);
      this.offers.add(rec);
      fw.charge(a.role, a.resources, 1);
      this.metrics.offersSent++;
      let list = byFramework.get(fw);
      if (!list) byFramework.set(fw, (list = []));
      list.push(wire);
    }
    for (const [fw, list] of byFramework) fw.send({ type: EventType.OFFERS, offers: { offers: list } });
  }

  private onOfferTimeout(id: string): void {
    const o = this.offers.get(id);
    if (!o) return;
    this.log.debug({ offerId: id }, 'offer timed out');
    this.rescindOffer(o, true);
  }

  // ---------------------------------------------------------------- offers and filters

  /** Takes an offer back: resources return to the agent; RESCIND to the framework if `notify`. */
  rescindOffer(o: OfferRecord, notify: boolean): void {
    if (!this.offers.remove(o.id)) return;
    this.ledger.give(o.agentId, o.resources);
    const fw = this.frameworks.get(o.frameworkId);
    if (fw) {
      fw.charge(o.role, o.resources, -1);
      if (notify) fw.send({ type: EventType.RESCIND, rescind: { offerId: { value: o.id } } });
    }
    this.metrics.offersRescinded++;
    this.requestAllocation(o.agentId);
  }

  /** A declined (or invalid-accept) offer: resources return, with a filter when refuse > 0. */
  recoverOffer(o: OfferRecord, refuseSeconds: number): void {
    if (!this.offers.remove(o.id)) return;
    this.ledger.give(o.agentId, o.resources);
    const fw = this.frameworks.get(o.frameworkId);
    if (fw) {
      fw.charge(o.role, o.resources, -1);
      this.addFilter(fw, o.agentId, refuseSeconds, o.resources);
    }
    this.requestAllocation(o.agentId);
  }

  /** Refuses `refused` of an agent to a framework for `refuseSeconds` (0: no filter). */
  addFilter(fw: FrameworkEntry, agentId: string, refuseSeconds: number, refused: readonly Resource[]): void {
    if (!(refuseSeconds > 0)) {
      fw.filters.delete(agentId);
      return;
    }
    const ms = refuseSeconds * 1000;
    const prev = fw.filters.get(agentId);
    const until = this.clock.now() + ms;
    // Two refusals of the same agent merge: the larger resource set, the later expiry.
    const merged = prev && prev.until > this.clock.now() ? resources.add(prev.resources, refused) : resources.flatten(refused);
    fw.filters.set(agentId, { until: Math.max(until, prev?.until ?? 0), resources: merged });
    // When it expires the agent is worth another look without waiting for the safety tick.
    this.clock.setTimeout(() => this.requestAllocation(agentId), ms + 1);
  }

  // ---------------------------------------------------------------- tasks

  /** The role a task's resources are allocated to (its framework's first role when unset). */
  taskRole(rec: TaskRecord, fw?: FrameworkEntry): string {
    return rec.task.role || fw?.role || '*';
  }

  /** Stops counting a live task for its framework (an agent re-registers and re-reports it). */
  unchargeTask(rec: TaskRecord): void {
    const fw = this.frameworks.get(rec.frameworkId);
    if (fw) fw.charge(this.taskRole(rec, fw), rec.resources, -1);
  }

  /** Adds a task to the table and charges it (and a new executor) to its framework. */
  trackTask(rec: TaskRecord, executorResources: readonly Resource[] = []): Resource[] {
    const fw = this.frameworks.get(rec.frameworkId);
    const role = fw ? this.taskRole(rec, fw) : undefined;
    const charged = this.tasks.add(rec, executorResources, role);
    if (fw && role !== undefined) {
      fw.charge(role, rec.resources, 1);
      fw.charge(role, charged, 1);
    }
    return charged;
  }

  /** The agent reports an executor gone: what it held (idle or not) is free again. */
  executorExited(agentId: string, frameworkId: string, executorId: string): void {
    const freed = this.tasks.executorExited(agentId, TaskTable.executorKey(agentId, frameworkId, executorId));
    if (!freed || freed.resources.length === 0) return;
    this.ledger.give(agentId, freed.resources);
    this.unchargeExecutor(freed);
    this.requestAllocation(agentId);
  }

  /** Takes a freed executor's resources off its framework's share (if they were charged). */
  unchargeExecutor(freed: FreedExecutor): void {
    const fw = this.frameworks.get(freed.frameworkId);
    if (fw && freed.role !== undefined) fw.charge(freed.role, freed.resources, -1);
  }

  /** Removes a task (terminal, or dropped with its framework) and frees what it held. */
  releaseTask(rec: TaskRecord): void {
    this.preemptor?.released(rec.frameworkId, rec.taskId);
    const { resources: released, executor } = this.tasks.remove(rec);
    if (released.length === 0) return;
    this.ledger.give(rec.agentId, released);
    const fw = this.frameworks.get(rec.frameworkId);
    if (fw) fw.charge(this.taskRole(rec, fw), rec.resources, -1);
    if (executor) this.unchargeExecutor(executor);
    this.metrics.countTerminal(taskStateName(rec.state));
    this.requestAllocation(rec.agentId);
  }

  /** Records a state change of a live task; a terminal state frees its resources. */
  setTaskState(rec: TaskRecord, status: TaskStatus): void {
    const state = status.state ?? TaskState.TASK_UNKNOWN;
    this.tasks.setState(rec, state, status);
    if (isTerminalState(state)) this.releaseTask(rec);
  }

  /** A status the master itself generates (no uuid, needs no acknowledgement). */
  masterStatus(taskId: string, state: TaskState, reason: TaskStatusReason, message: string, agentId?: string, executorId?: string): TaskStatus {
    const s: TaskStatus = {
      taskId: { value: taskId },
      state,
      message,
      source: TaskStatusSource.SOURCE_MASTER,
      reason,
      timestamp: seconds(this.clock.now()),
    };
    if (agentId) s.agentId = { value: agentId };
    if (executorId) s.executorId = { value: executorId };
    return s;
  }

  /** Sends an UPDATE to a framework (dropped when it is disconnected). */
  sendUpdate(fw: FrameworkEntry, status: TaskStatus): void {
    this.preemptor?.rewrite(fw.id, status);
    this.drainer.rewrite(fw.id, status);
    fw.send({ type: EventType.UPDATE, update: { status } });
  }

  // ---------------------------------------------------------------- frameworks

  /** A new, readable framework ID: unique per master run, ordered by arrival. */
  newFrameworkId(): string {
    return `fw-${this.shortId}-${String(++this.fwSeq).padStart(4, '0')}`;
  }

  /** The scheduler stream ended without TEARDOWN: offers go back, the failover clock starts. */
  disconnectFramework(fw: FrameworkEntry, why: string): void {
    if (!fw.connected) return;
    fw.connected = false;
    fw.sink = undefined;
    this.log.info({ frameworkId: fw.id, why }, 'framework disconnected');
    for (const o of this.offers.ofFramework(fw.id)) this.rescindOffer(o, false);
    this.startFailover(fw, fw.info.failoverTimeoutSeconds ?? 0);
  }

  /** Tears the framework down after `timeoutSeconds` unless it re-subscribes (0: now). */
  startFailover(fw: FrameworkEntry, timeoutSeconds: number): void {
    fw.failoverTimer?.cancel();
    fw.failoverTimer = undefined;
    if (!(timeoutSeconds > 0)) {
      this.teardownFramework(fw, 'failover timeout 0 s');
      return;
    }
    fw.failoverTimer = this.clock.setTimeout(() => {
      fw.failoverTimer = undefined;
      if (!fw.connected && !fw.removed) this.teardownFramework(fw, `failover timeout (${timeoutSeconds} s) expired`);
    }, timeoutSeconds * 1000);
  }

  /**
   * Removes a framework: agents shut its executors down, its offers are rescinded, its tasks
   * are killed in the master's books (resources freed at once), the registry forgets it and
   * its stream is closed.
   */
  teardownFramework(fw: FrameworkEntry, why: string): void {
    if (fw.removed) return;
    fw.removed = true;
    fw.failoverTimer?.cancel();
    this.log.info({ frameworkId: fw.id, why }, 'framework torn down');
    for (const o of this.offers.ofFramework(fw.id)) this.rescindOffer(o, false);
    for (const agent of this.agents.values()) {
      agent.send({ type: AgentEventType.SHUTDOWN_FRAMEWORK, shutdownFramework: { frameworkId: { value: fw.id } } });
    }
    for (const rec of this.tasks.ofFramework(fw.id)) {
      this.tasks.setState(rec, TaskState.TASK_KILLED, this.masterStatus(rec.taskId, TaskState.TASK_KILLED, TaskStatusReason.REASON_FRAMEWORK_REMOVED, `framework ${fw.id} was torn down`, rec.agentId, rec.executorId));
      this.releaseTask(rec);
    }
    this.frameworks.delete(fw.id);
    if (fw.sink) {
      fw.sink.end();
      fw.sink = undefined;
    }
    fw.connected = false;
    this.metrics.frameworksTornDown++;
    this.persist([{ type: 'removeFramework', frameworkId: fw.id }]).catch((e: Error) => {
      this.log.error({ frameworkId: fw.id, err: e.message }, 'registry: could not remove framework');
    });
    this.requestAllocation();
  }

  // ---------------------------------------------------------------- agents

  /**
   * Stream closed, or the first step of marking it unreachable: offers on it are rescinded and
   * its stream closed; its tasks stay (AgentHealth decides what happens to them, and when).
   */
  deactivateAgent(agent: AgentEntry, why: string): void {
    if (!agent.active) return;
    agent.active = false;
    this.ledger.setActive(agent.id, false);
    for (const o of this.offers.ofAgent(agent.id)) this.rescindOffer(o, true);
    if (agent.sink) {
      agent.sink.end();
      agent.sink = undefined;
    }
    this.metrics.agentsDeactivated++;
    this.log.info({ agentId: agent.id, why }, 'agent inactive');
  }

  /** The framework's resources as lists (operator API; computed on demand, not on the hot path). */
  frameworkResources(fw: FrameworkEntry): { allocated: Resource[]; offered: Resource[] } {
    return {
      allocated: resources.sum(this.tasks.ofFramework(fw.id).map((t) => t.resources)),
      offered: resources.sum(this.offers.ofFramework(fw.id).map((o) => o.resources)),
    };
  }
}

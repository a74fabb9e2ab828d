/**
 * Service Scheduler: one bidirectional stream per framework. The first call must be SUBSCRIBE;
 * later calls must carry the stream's framework ID. Every call is validated; a bad call gets an
 * ERROR event (or TASK_ERROR / TASK_DROPPED updates) and the stream stays up. Nothing a
 * scheduler sends can throw out of this module.
 */
import {
  agora, AgentEventType, authenticatedPrincipal, CallType, EventType, OperationType, TaskState, TaskStatusReason, idOf, resources,
  type Call, type Event, type ExecutorInfo, type FrameworkInfo, type grpc, type Resource, type TaskInfo,
} from '@agora/core';
import { MasterAuthorizer } from './auth/authorizer.js';
import { FrameworkEntry } from './frameworks.js';
import { seconds, type MasterState } from './master-state.js';
import { peerOf, serveStream, StreamSink } from './streams.js';
import { TaskTable, type TaskRecord } from './tasks.js';
import { refuseSecondsOf, taskNeed, validateExecutor, validateReserve, validateUnreserve, withoutLastReservation, validateFrameworkInfo, validateId, validateOffers, validateTask, type TaskContext } from './validation.js';

type Stream = grpc.ServerDuplexStream<agora.v1.CallBatch, agora.v1.EventBatch.$Properties>;

const callName = (t: number | null | undefined): string => agora.v1.Call.Type[t ?? 0] ?? `CALL_${t}`;

/** One scheduler stream. */
class SchedulerConnection extends StreamSink<Event, agora.v1.EventBatch.$Properties> {
  state: 'new' | 'subscribing' | 'subscribed' | 'closed' = 'new';
  framework: FrameworkEntry | undefined;
  /** Calls that arrived while SUBSCRIBE waited for the registry. */
  buffered: Call[] = [];
  /** The principal the server authenticated for this stream (undefined: none). */
  readonly principal: string | undefined;

  constructor(stream: Stream, readonly peer: string) {
    super(stream, (events) => ({ events }));
    this.principal = authenticatedPrincipal(stream.metadata);
  }

  error(message: string, callType?: number | null): void {
    this.send({ type: EventType.ERROR, error: { message, callType: callType ?? 0 } });
  }
}

export class SchedulerApi {
  constructor(private readonly m: MasterState) {}

  /** gRPC handler of Scheduler.Connect. */
  readonly connect = (stream: Stream): void => {
    const conn = new SchedulerConnection(stream, peerOf(stream));
    serveStream(stream, {
      onFrame: (batch: agora.v1.CallBatch) => {
        for (const call of batch.calls ?? []) this.guard(conn, () => this.dispatch(conn, call), call.type);
      },
      onError: (e) => this.m.log.warn({ peer: conn.peer, err: e.message }, 'scheduler stream failed'),
      onClosed: (why) => {
        if (conn.state === 'closed') return;
        conn.state = 'closed';
        conn.abort();
        const fw = conn.framework;
        if (fw && fw.sink === conn) this.guard(conn, () => this.m.disconnectFramework(fw, why));
      },
    });
  };

  /** Runs a handler; an exception becomes an ERROR event and a log line, never a crash. */
  private guard(conn: SchedulerConnection, fn: () => void, callType?: number | null): void {
    try {
      fn();
    } catch (e) {
      this.m.metrics.invalidCalls++;
      this.m.log.error({ err: (e as Error).stack, peer: conn.peer }, 'scheduler call failed');
      conn.error(`internal error handling ${callName(callType)}: ${(e as Error).message}`, callType);
    }
  }

  private dispatch(conn: SchedulerConnection, call: Call): void {
    switch (conn.state) {
      case 'closed':
        return;
      case 'subscribing':
        conn.buffered.push(call);
        return;
      case 'new':
        if (call.type !== CallType.SUBSCRIBE) {
          this.m.metrics.invalidCalls++;
          conn.error(`the first call on a stream must be SUBSCRIBE, got ${callName(call.type)}`, call.type);
          conn.end();
          conn.state = 'closed';
          return;
        }
        this.subscribe(conn, call);
        return;
      case 'subscribed':
        break;
    }
    const fw = conn.framework as FrameworkEntry;
    if (fw.removed || fw.sink !== conn) return;
    if (call.type === CallType.SUBSCRIBE) return this.invalid(conn, call, 'this stream is already subscribed');
    const fid = idOf(call.frameworkId);
    if (fid !== fw.id) return this.invalid(conn, call, `call.framework_id must be '${fw.id}' (this stream's framework), got '${fid}'`);
    switch (call.type) {
      case CallType.ACCEPT: return this.accept(conn, fw, call);
      case CallType.DECLINE: return this.decline(conn, fw, call);
      case CallType.REVIVE: {
        // Filters are per agent, not per role, so any REVIVE clears them all.
        const roles = call.revive?.roles ?? [];
        const bad = this.unknownRoles(fw, roles, 'revive');
        if (bad) return this.invalid(conn, call, bad);
        fw.filters.clear();
        if (roles.length === 0) {
          fw.suppressed = false;
          fw.suppressedRoles.clear();
        } else {
          for (const r of roles) fw.suppressedRoles.delete(r);
          // A framework that suppressed everything and revives some roles gets those back.
          if (fw.suppressed) {
            fw.suppressed = false;
            for (const r of fw.roles) if (!roles.includes(r)) fw.suppressedRoles.add(r);
          }
        }
        this.m.requestAllocation();
        return;
      }
      case CallType.SUPPRESS: {
        const roles = call.suppress?.roles ?? [];
        const bad = this.unknownRoles(fw, roles, 'suppress');
        if (bad) return this.invalid(conn, call, bad);
        if (roles.length === 0) fw.suppressed = true;
        else for (const r of roles) fw.suppressedRoles.add(r);
        // Outstanding offers stay; only new ones stop (as in Mesos).
        return;
      }
      case CallType.KILL: return this.kill(conn, fw, call);
      case CallType.SHUTDOWN: return this.shutdown(conn, fw, call);
      case CallType.ACKNOWLEDGE: return this.acknowledge(conn, fw, call);
      case CallType.RECONCILE: return this.reconcile(conn, fw, call);
      case CallType.MESSAGE: return this.message(conn, fw, call);
      case CallType.TEARDOWN:
        this.m.teardownFramework(fw, 'TEARDOWN from its scheduler');
        return;
      case CallType.ACCEPT_INVERSE_OFFERS:
      case CallType.DECLINE_INVERSE_OFFERS:
        return; // No inverse offers are made yet, so there is nothing to answer.
      default:
        return this.invalid(conn, call, `unknown call type ${String(call.type)}`);
    }
  }

  /** A sentence naming the first role in `roles` the framework did not subscribe with. */
  private unknownRoles(fw: FrameworkEntry, roles: readonly string[], what: string): string | undefined {
    for (const [i, r] of roles.entries()) {
      if (!fw.roles.includes(r)) return `${what}.roles[${i}] '${r}' is not one of the framework's roles (${fw.roles.join(', ')})`;
    }
    return undefined;
  }

  private invalid(conn: SchedulerConnection, call: Call | Call, message: string): void {
    this.m.metrics.invalidCalls++;
    conn.error(`${callName(call.type)}: ${message}`, call.type);
  }

  // ---------------------------------------------------------------- SUBSCRIBE

  private subscribe(conn: SchedulerConnection, call: Call): void {
    const info = call.subscribe?.frameworkInfo;
    const bad = validateFrameworkInfo(info);
    if (bad) return this.refuse(conn, bad);
    const fi = info as FrameworkInfo;
    const requested = idOf(fi.id);
    let fw: FrameworkEntry | undefined;
    if (requested) {
      fw = this.m.frameworks.get(requested);
      if (!fw || fw.removed) return this.refuse(conn, `framework '${requested}' is unknown to this master or was torn down; subscribe without an id to register anew`);
    }
    const denied = this.m.opts.security.authorizer.subscribe(conn.principal, fi, fw ? fw.info.principal ?? '' : undefined);
    if (denied) {
      this.m.log.warn({ principal: conn.principal, peer: conn.peer }, `framework refused: ${denied}`);
      return this.refuse(conn, denied);
    }
    const id = fw?.id ?? this.m.newFrameworkId();
    // A private copy: the decoded call object is not ours to keep or mutate.
    const newInfo = agora.v1.FrameworkInfo.decode(agora.v1.FrameworkInfo.encode(fi).finish());
    newInfo.id = agora.v1.FrameworkID.create({ value: id });
    // The verified principal is the framework's (ACLs on its tasks and teardown key on it).
    if (conn.principal) newInfo.principal = conn.principal;
    const registeredTime = fw?.registeredTime ?? seconds(this.m.clock.now());
    conn.state = 'subscribing';
    this.m.persist([{ type: 'putFramework', framework: { id, info: newInfo, registeredTime } }]).then(
      () => this.guard(conn, () => this.subscribed(conn, id, newInfo, registeredTime)),
      (e: Error) => {
        this.m.log.error({ frameworkId: id, err: e.message }, 'registry: could not store framework');
        this.refuse(conn, `the master could not store framework '${id}': ${e.message}`);
      },
    );
  }

  /** The registry holds the framework: wire it to this stream and answer SUBSCRIBED. */
  private subscribed(conn: SchedulerConnection, id: string, info: FrameworkInfo, registeredTime: number): void {
    if (conn.state === 'closed') return;
    let fw = this.m.frameworks.get(id);
    if (fw?.removed) fw = undefined;
    if (!fw) {
      fw = new FrameworkEntry(id, info, registeredTime);
      this.m.frameworks.set(id, fw);
    } else {
      fw.info = info;
      const old = fw.sink;
      if (old && old !== conn) {
        old.send({ type: EventType.ERROR, error: { message: 'framework failed over: a new scheduler subscribed with its ID' } });
        old.end();
        // The old stream's offers are void; the new one gets fresh ones.
        for (const o of this.m.offers.ofFramework(id)) this.m.rescindOffer(o, false);
      }
    }
    fw.failoverTimer?.cancel();
    fw.failoverTimer = undefined;
    fw.sink = conn;
    fw.connected = true;
    fw.subscribedTime = seconds(this.m.clock.now());
    conn.framework = fw;
    conn.state = 'subscribed';
    this.m.metrics.frameworksSubscribed++;
    conn.send({ type: EventType.SUBSCRIBED, subscribed: { frameworkId: { value: id }, heartbeatIntervalSeconds: this.m.opts.heartbeatIntervalSeconds, masterInfo: this.m.info } });
    this.m.log.info({ frameworkId: id, name: info.name }, 'framework subscribed');
    this.m.requestAllocation();
    const buffered = conn.buffered;
    conn.buffered = [];
    for (const c of buffered) this.guard(conn, () => this.dispatch(conn, c), c.type);
  }

  private refuse(conn: SchedulerConnection, message: string): void {
    this.m.metrics.invalidCalls++;
    conn.error(message, CallType.SUBSCRIBE);
    conn.end();
    conn.state = 'closed';
  }

  // ---------------------------------------------------------------- ACCEPT / DECLINE

  private accept(conn: SchedulerConnection, fw: FrameworkEntry, call: Call): void {
    const a = call.accept;
    if (!a) return this.invalid(conn, call, 'accept is missing');
    const ids = (a.offerIds ?? []).map(idOf);
    const ops = a.operations ?? [];
    const bad = validateOffers(ids, (id) => this.m.offers.get(id), fw.id);
    if (bad) {
      // The valid offers are recovered (no filter: the framework never saw them used).
      for (const id of ids) {
        const o = this.m.offers.get(id);
        if (o && o.frameworkId === fw.id) this.m.recoverOffer(o, 0);
      }
      let dropped = 0;
      for (const op of ops) {
        const tasks = op.type === OperationType.LAUNCH ? op.launch?.taskInfos ?? [] : op.type === OperationType.LAUNCH_GROUP ? op.launchGroup?.taskGroup?.tasks ?? [] : [];
        for (const t of tasks) {
          dropped++;
          this.m.sendUpdate(fw, this.m.masterStatus(idOf(t.taskId), TaskState.TASK_DROPPED, TaskStatusReason.REASON_INVALID_OFFERS, `task dropped: ${bad}`));
        }
      }
      this.m.metrics.tasksDropped += dropped;
      return this.invalid(conn, call, bad);
    }
    const refuse = refuseSecondsOf(a.filters, this.m.opts.refuseSeconds);
    if (typeof refuse === 'string') this.invalid(conn, call, `${refuse}; using ${this.m.opts.refuseSeconds}`);
    const used = ids.map((id) => this.m.offers.remove(id)).filter((o) => o !== undefined);
    const agentId = used[0]?.agentId ?? '';
    let remaining: Resource[] = resources.sum(used.map((o) => o.resources));
    this.m.metrics.offersAccepted += used.length;
    // The offers stop counting for the framework; what it launches is charged per task below.
    for (const o of used) fw.charge(o.role, o.resources, -1);
    // Tasks are allocated to the offers' role (all offers of one accept share it in practice).
    const role = used[0]?.role ?? fw.role;
    const agent = this.m.agents.get(agentId);
    const inAccept = new Set<string>();
    const ctx = (): TaskContext => ({
      frameworkId: fw.id,
      agentId,
      offerLabel: ids.length === 1 ? `offer ${ids[0]}` : `offers ${ids.join(', ')}`,
      remaining,
      taskIdInUse: (tid) => inAccept.has(tid) || this.m.tasks.get(fw.id, tid) !== undefined,
      executorRunning: (eid) => this.m.tasks.executorRunning(TaskTable.executorKey(agentId, fw.id, eid)),
    });
    for (const [i, op] of ops.entries()) {
      switch (op.type) {
        case OperationType.LAUNCH:
          for (const t of op.launch?.taskInfos ?? []) {
            const c = ctx();
            const err = validateTask(t, c) ?? this.m.opts.security.authorizer.runTask(fw.info, t);
            if (err) {
              this.taskError(fw, t, err);
              continue;
            }
            const own = resources.stripAllocation(t.resources ?? []);
            const exNew = t.executor != null && !c.executorRunning(idOf(t.executor.executorId));
            remaining = resources.subtract(remaining, exNew ? taskNeed(t, c) : own);
            inAccept.add(idOf(t.taskId));
            this.launch(fw, agentId, t, own, role);
          }
          break;
        case OperationType.LAUNCH_GROUP: {
          const ex = op.launchGroup?.executor;
          const group = op.launchGroup?.taskGroup?.tasks ?? [];
          let err = ex ? validateExecutor(`operations[${i}].launch_group`, ex, fw.id, true) : `operations[${i}].launch_group.executor is missing`;
          if (!err && group.length === 0) err = `operations[${i}].launch_group.task_group has no tasks`;
          const exId = idOf(ex?.executorId);
          const exRunning = this.m.tasks.executorRunning(TaskTable.executorKey(agentId, fw.id, exId));
          let left = remaining;
          if (!err && !exRunning && (ex?.resources ?? []).length > 0) {
            const exNeed = resources.stripAllocation(ex?.resources ?? []);
            const c = ctx();
            if (!resources.contains(left, exNeed)) err = `executor '${exId}' asks for ${resources.formatResources(exNeed)} but ${c.offerLabel} holds ${resources.formatResources(left) || 'nothing'}`;
            else left = resources.subtract(left, exNeed);
          }
          const groupIds = new Set<string>();
          for (const t of group) {
            if (err) break;
            const tid = idOf(t.taskId);
            const c = { ...ctx(), remaining: left, taskIdInUse: (x: string) => groupIds.has(x) || ctx().taskIdInUse(x) };
            err = validateTask(t, c, ex as ExecutorInfo) ?? this.m.opts.security.authorizer.runTask(fw.info, { ...t, executor: ex ?? null });
            if (err) err = `${err} (the whole group is refused)`;
            else {
              left = resources.subtract(left, resources.stripAllocation(t.resources ?? []));
              groupIds.add(tid);
            }
          }
          if (err) {
            for (const t of group) this.taskError(fw, t, err);
            if (group.length === 0) this.invalid(conn, call, err);
            break;
          }
          remaining = left;
          for (const id of groupIds) inAccept.add(id);
          this.launchGroup(fw, agentId, ex as ExecutorInfo, group, exRunning, role);
          break;
        }
        case OperationType.RESERVE:
        case OperationType.UNRESERVE: {
          const reserve = op.type === OperationType.RESERVE;
          const list = (reserve ? op.reserve?.resources : op.unreserve?.resources) ?? [];
          const rctx = { what: `operations[${i}].${reserve ? 'reserve' : 'unreserve'}`, remaining, principal: fw.info.principal ?? '', roles: fw.roles };
          const authz = this.m.opts.security.authorizer;
          const err = (reserve ? validateReserve(list, rctx) : validateUnreserve(list, rctx))
            ?? (reserve ? authz.reserve(conn.principal ?? (fw.info.principal || undefined), list) : authz.unreserve(conn.principal ?? (fw.info.principal || undefined), list));
          if (err) {
            this.invalid(conn, call, err);
            break;
          }
          const reserved = resources.stripAllocation(list);
          const unreserved = resources.flatten(reserved.map(withoutLastReservation));
          const [from, to] = reserve ? [unreserved, reserved] : [reserved, unreserved];
          remaining = resources.add(resources.subtract(remaining, from), to);
          this.m.convertReservation(agentId, from, to);
          break;
        }
        default:
          this.invalid(conn, call, `operations[${i}]: operation ${agora.v1.Offer.Operation.Type[op.type ?? 0] ?? op.type} is not supported (LAUNCH, LAUNCH_GROUP, RESERVE and UNRESERVE are)`);
      }
    }
    if (agent) {
      this.m.ledger.give(agentId, remaining);
      this.m.addFilter(fw, agentId, typeof refuse === 'number' ? refuse : this.m.opts.refuseSeconds, remaining);
    }
    this.m.requestAllocation(agentId);
  }

  private taskError(fw: FrameworkEntry, t: TaskInfo, message: string): void {
    this.m.metrics.tasksError++;
    this.m.sendUpdate(fw, this.m.masterStatus(idOf(t.taskId), TaskState.TASK_ERROR, TaskStatusReason.REASON_TASK_INVALID, message));
  }

  /** Books a task and sends RUN_TASK. Resources were checked against the offers already. */
  private launch(fw: FrameworkEntry, agentId: string, t: TaskInfo, own: Resource[], role: string): void {
    const taskId = idOf(t.taskId);
    const ex = t.executor ?? undefined;
    const executorId = ex ? idOf(ex.executorId) : taskId;
    const exKey = ex ? TaskTable.executorKey(agentId, fw.id, executorId) : undefined;
    const rec = this.record(fw, agentId, t, executorId, exKey, own, role);
    this.m.trackTask(rec, ex ? resources.stripAllocation(ex.resources ?? []) : []);
    // The record's wire resources (with the allocation role) are shared: encoding never mutates.
    const task: TaskInfo = { ...t, agentId: { value: agentId }, resources: rec.task.resources ?? [] };
    if (ex) task.executor = { ...ex, frameworkId: { value: fw.id }, type: ex.type || agora.v1.ExecutorInfo.Type.CUSTOM, resources: resources.allocateTo(resources.stripAllocation(ex.resources ?? []), role) };
    this.m.agents.get(agentId)?.send({ type: AgentEventType.RUN_TASK, runTask: { framework: fw.info, task } });
    this.m.metrics.tasksLaunched++;
  }

  private launchGroup(fw: FrameworkEntry, agentId: string, ex: ExecutorInfo, group: TaskInfo[], exRunning: boolean, role: string): void {
    const executorId = idOf(ex.executorId);
    const exKey = TaskTable.executorKey(agentId, fw.id, executorId);
    const exRes = resources.stripAllocation(ex.resources ?? []);
    const executor: ExecutorInfo = { ...ex, frameworkId: { value: fw.id }, type: ex.type || agora.v1.ExecutorInfo.Type.DEFAULT, resources: resources.allocateTo(exRes, role) };
    const tasks: TaskInfo[] = [];
    for (const [i, t] of group.entries()) {
      const own = resources.stripAllocation(t.resources ?? []);
      const rec = this.record(fw, agentId, t, executorId, exKey, own, role);
      this.m.trackTask(rec, i === 0 && !exRunning ? exRes : []);
      tasks.push({ ...t, agentId: { value: agentId }, resources: rec.task.resources ?? [] });
      this.m.metrics.tasksLaunched++;
    }
    this.m.agents.get(agentId)?.send({ type: AgentEventType.RUN_TASK_GROUP, runTaskGroup: { framework: fw.info, executor, taskGroup: { tasks } } });
  }

  private record(fw: FrameworkEntry, agentId: string, t: TaskInfo, executorId: string, executorKey: string | undefined, own: Resource[], role: string): TaskRecord {
    const taskId = idOf(t.taskId);
    return {
      key: TaskTable.key(fw.id, taskId),
      frameworkId: fw.id,
      taskId,
      agentId,
      executorId,
      executorKey,
      resources: own,
      state: TaskState.TASK_STAGING,
      latest: undefined,
      command: t.command?.value ?? t.executor?.command?.value ?? undefined,
      user: MasterAuthorizer.userOf(t, fw.info),
      task: {
        name: t.name ?? '',
        taskId: { value: taskId },
        frameworkId: { value: fw.id },
        executorId: { value: executorId },
        agentId: { value: agentId },
        state: TaskState.TASK_STAGING,
        resources: resources.allocateTo(own, role),
        statuses: [],
        labels: t.labels ?? undefined,
        role,
        launchedAt: seconds(this.m.clock.now()),
        killPolicy: t.killPolicy ?? undefined,
        commandLine: commandLineOf(t),
      },
    };
  }

  private decline(conn: SchedulerConnection, fw: FrameworkEntry, call: Call): void {
    const d = call.decline;
    const ids = (d?.offerIds ?? []).map(idOf);
    if (ids.length === 0) return this.invalid(conn, call, 'decline.offer_ids is empty');
    let refuse = refuseSecondsOf(d?.filters, this.m.opts.refuseSeconds);
    if (typeof refuse === 'string') {
      this.invalid(conn, call, `${refuse}; using ${this.m.opts.refuseSeconds}`);
      refuse = this.m.opts.refuseSeconds;
    }
    for (const id of ids) {
      const o = this.m.offers.get(id);
      if (!o) {
        this.invalid(conn, call, `offer '${id}' is not outstanding (unknown, already accepted or declined, or rescinded)`);
        continue;
      }
      if (o.frameworkId !== fw.id) {
        this.invalid(conn, call, `offer '${id}' was made to another framework`);
        continue;
      }
      this.m.metrics.offersDeclined++;
      this.m.recoverOffer(o, refuse);
    }
  }

  // ---------------------------------------------------------------- tasks and executors

  private kill(conn: SchedulerConnection, fw: FrameworkEntry, call: Call): void {
    const taskId = idOf(call.kill?.taskId);
    if (!taskId) return this.invalid(conn, call, 'kill.task_id is empty');
    const rec = this.m.tasks.get(fw.id, taskId);
    if (!rec) {
      const done = this.m.tasks.getCompleted(fw.id, taskId);
      const state = done?.state ?? TaskState.TASK_LOST;
      this.m.sendUpdate(fw, this.m.masterStatus(taskId, state, TaskStatusReason.REASON_RECONCILIATION, done ? 'task already terminal' : `task '${taskId}' is unknown to the master`, idOf(done?.agentId) || idOf(call.kill?.agentId)));
      return;
    }
    const agent = this.m.agents.get(rec.agentId);
    const sent = agent?.send({ type: AgentEventType.KILL_TASK, killTask: { frameworkId: { value: fw.id }, taskId: { value: taskId }, killPolicy: call.kill?.killPolicy ?? rec.task.killPolicy ?? undefined } });
    if (!sent) this.invalid(conn, call, `task '${taskId}' is on agent ${rec.agentId}, which is not connected; the kill is not delivered (retry or reconcile)`);
  }

  private shutdown(conn: SchedulerConnection, fw: FrameworkEntry, call: Call): void {
    const executorId = idOf(call.shutdown?.executorId);
    const agentId = idOf(call.shutdown?.agentId);
    const bad = validateId('shutdown.executor_id', executorId) ?? validateId('shutdown.agent_id', agentId);
    if (bad) return this.invalid(conn, call, bad);
    const agent = this.m.agents.get(agentId);
    if (!agent) return this.invalid(conn, call, `shutdown.agent_id '${agentId}' is not a known agent`);
    if (!agent.send({ type: AgentEventType.SHUTDOWN_EXECUTOR, shutdownExecutor: { frameworkId: { value: fw.id }, executorId: { value: executorId } } })) {
      this.invalid(conn, call, `agent ${agentId} is not connected`);
    }
  }

  private acknowledge(conn: SchedulerConnection, fw: FrameworkEntry, call: Call): void {
    const ack = call.acknowledge;
    const taskId = idOf(ack?.taskId);
    if (!taskId) return this.invalid(conn, call, 'acknowledge.task_id is empty');
    if (!ack?.uuid || ack.uuid.length === 0) return this.invalid(conn, call, 'acknowledge.uuid is empty (master-generated updates need no acknowledgement)');
    const agentId = idOf(ack.agentId) || this.m.tasks.get(fw.id, taskId)?.agentId || idOf(this.m.tasks.getCompleted(fw.id, taskId)?.agentId);
    const agent = agentId ? this.m.agents.get(agentId) : undefined;
    if (!agent) return this.invalid(conn, call, `acknowledge.agent_id '${agentId}' is not a known agent`);
    if (agent.send({ type: AgentEventType.ACKNOWLEDGE, acknowledge: { frameworkId: { value: fw.id }, taskId: { value: taskId }, uuid: ack.uuid } })) {
      this.m.metrics.acknowledgementsForwarded++;
    }
    // A disconnected agent re-sends the update on re-registration and it is acknowledged then.
  }

  /** RECONCILE: answered by the Reconciler (reconciliation.ts), which may hold questions during recovery. */
  private reconcile(_conn: SchedulerConnection, fw: FrameworkEntry, call: Call): void {
    this.m.reconciler.reconcile(fw, call.reconcile?.tasks ?? []);
  }

  private message(conn: SchedulerConnection, fw: FrameworkEntry, call: Call): void {
    const msg = call.message;
    const agentId = idOf(msg?.agentId);
    const executorId = idOf(msg?.executorId);
    if (!agentId) return this.invalid(conn, call, 'message.agent_id is empty');
    if (!executorId) return this.invalid(conn, call, 'message.executor_id is empty');
    const agent = this.m.agents.get(agentId);
    if (!agent) return this.invalid(conn, call, `message.agent_id '${agentId}' is not a known agent`);
    if (!agent.send({ type: AgentEventType.FRAMEWORK_MESSAGE, frameworkMessage: { frameworkId: { value: fw.id }, executorId: { value: executorId }, data: msg?.data ?? new Uint8Array() } })) {
      return this.invalid(conn, call, `agent ${agentId} is not connected`);
    }
    this.m.metrics.frameworkMessages++;
  }
}

/** The command of a task as one line for people (never its environment: it may hold secrets). */
function commandLineOf(t: TaskInfo): string {
  const c = t.command?.value ? t.command : t.executor?.command;
  if (!c?.value) return '';
  if (c.shell === false) return (c.arguments?.length ? c.arguments : [c.value]).join(' ').slice(0, 1024);
  return c.value.slice(0, 1024);
}

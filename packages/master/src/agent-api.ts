/**
 * Service AgentLink: one bidirectional stream per agent. REGISTER first (new agents get an ID,
 * known IDs are re-admitted, and the master rebuilds that agent's tasks and ledger from the
 * task list it reports), then heartbeats, status updates and executor messages.
 */
import {
  agora, AgentCallType, AgentEventType, EventType, TaskState, TaskStatusReason, idOf, isTerminalState, newId, resources, taskStateName,
  type AgentCall, type AgentEvent, type AgentInfo, type grpc, type TaskStatus,
} from '@agora/core';
import { AgentEntry } from './agents.js';
import { addScalars } from './ledger.js';
import { seconds, type MasterState } from './master-state.js';
import { peerOf, serveStream, StreamSink } from './streams.js';
import { TaskTable, type TaskRecord } from './tasks.js';
import { validateAgentInfo } from './validation.js';

type Stream = grpc.ServerDuplexStream<agora.v1.AgentCallBatch, agora.v1.AgentEventBatch.$Properties>;

const callName = (t: number | null | undefined): string => agora.v1.AgentCall.Type[t ?? 0] ?? `CALL_${t}`;

class AgentConnection extends StreamSink<AgentEvent, agora.v1.AgentEventBatch.$Properties> {
  state: 'new' | 'registering' | 'registered' | 'closed' = 'new';
  agent: AgentEntry | undefined;
  buffered: AgentCall[] = [];

  constructor(stream: Stream, readonly peer: string) {
    super(stream, (events) => ({ events }));
  }

  error(message: string): void {
    this.send({ type: AgentEventType.ERROR, error: { message } });
  }
}

export class AgentApi {
  constructor(private readonly m: MasterState) {}

  /** gRPC handler of AgentLink.Connect. */
  readonly connect = (stream: Stream): void => {
    const conn = new AgentConnection(stream, peerOf(stream));
    serveStream(stream, {
      onFrame: (batch: agora.v1.AgentCallBatch) => {
        for (const call of batch.calls ?? []) this.guard(conn, () => this.dispatch(conn, call), call.type);
      },
      onError: (e) => this.m.log.warn({ peer: conn.peer, err: e.message }, 'agent stream failed'),
      onClosed: (why) => {
        if (conn.state === 'closed') return;
        conn.state = 'closed';
        conn.abort();
        const agent = conn.agent;
        if (agent && agent.sink === conn) this.guard(conn, () => this.m.deactivateAgent(agent, why));
      },
    });
  };

  private guard(conn: AgentConnection, fn: () => void, callType?: number | null): void {
    try {
      fn();
    } catch (e) {
      this.m.metrics.invalidCalls++;
      this.m.log.error({ err: (e as Error).stack, peer: conn.peer }, 'agent call failed');
      conn.error(`internal error handling ${callName(callType)}: ${(e as Error).message}`);
    }
  }

  private invalid(conn: AgentConnection, message: string): void {
    this.m.metrics.invalidCalls++;
    conn.error(message);
  }

  private dispatch(conn: AgentConnection, call: AgentCall): void {
    switch (conn.state) {
      case 'closed':
        return;
      case 'registering':
        conn.buffered.push(call);
        return;
      case 'new':
        if (call.type !== AgentCallType.REGISTER) {
          this.invalid(conn, `the first call on a stream must be REGISTER, got ${callName(call.type)}`);
          conn.end();
          conn.state = 'closed';
          return;
        }
        this.register(conn, call);
        return;
      case 'registered':
        break;
    }
    const agent = conn.agent as AgentEntry;
    if (agent.sink !== conn) return;
    this.m.health.heard(agent);
    switch (call.type) {
      case AgentCallType.HEARTBEAT:
        agent.lastHeartbeat = seconds(agent.lastSeenMs);
        return;
      case AgentCallType.STATUS_UPDATE:
        return this.statusUpdate(conn, agent, call);
      case AgentCallType.EXECUTOR_MESSAGE: {
        const msg = call.executorMessage;
        const fw = this.m.frameworks.get(idOf(msg?.frameworkId));
        if (!fw) return this.invalid(conn, `executor_message.framework_id '${idOf(msg?.frameworkId)}' is not a known framework`);
        this.m.metrics.executorMessages++;
        fw.send({ type: EventType.MESSAGE, message: { agentId: { value: agent.id }, executorId: msg?.executorId ?? undefined, data: msg?.data ?? new Uint8Array() } });
        return;
      }
      case AgentCallType.EXECUTOR_EXITED: {
        const fid = idOf(call.executorExited?.frameworkId);
        const eid = idOf(call.executorExited?.executorId);
        if (!fid || !eid) return this.invalid(conn, 'executor_exited needs framework_id and executor_id');
        this.m.executorExited(agent.id, fid, eid);
        return;
      }
      case AgentCallType.REGISTER:
        return this.invalid(conn, 'this stream is already registered; open a new stream to re-register');
      default:
        return this.invalid(conn, `unknown call type ${String(call.type)}`);
    }
  }

  // ---------------------------------------------------------------- REGISTER

  private register(conn: AgentConnection, call: AgentCall): void {
    const reg = call.register;
    const bad = validateAgentInfo(reg?.agentInfo);
    if (bad) return this.refuse(conn, bad);
    const given = idOf(reg?.agentInfo?.id);
    const gone = given ? this.m.health.refusal(given) : undefined;
    if (gone) {
      // Its tasks were reported gone and may run elsewhere by now: it must start afresh.
      this.m.log.warn({ agentId: given, peer: conn.peer }, 'a gone agent tried to re-register; told to shut down');
      conn.send({ type: AgentEventType.SHUTDOWN });
      return this.refuse(conn, gone);
    }
    const id = given || newId('agent');
    const known = this.m.agents.get(id);
    // A REGISTER is a sign of life: silence counts from its receipt, not from the old stream's
    // last call (the registry write and rebuild that follow may take a while on a busy master).
    if (known) this.m.health.heard(known);
    const info = agora.v1.AgentInfo.decode(agora.v1.AgentInfo.encode(reg?.agentInfo as AgentInfo).finish());
    info.id = agora.v1.AgentID.create({ value: id });
    const registeredTime = known?.registeredTime ?? seconds(this.m.clock.now());
    conn.state = 'registering';
    // Skip the write when nothing changed (a reconnecting agent), so a reconnect storm costs no I/O.
    const same = known && Buffer.from(agora.v1.AgentInfo.encode(known.info).finish()).equals(Buffer.from(agora.v1.AgentInfo.encode(info).finish()));
    const record = known ? { ...this.m.agentRecord(known), info } : { id, info, registeredTime };
    const durable = same ? Promise.resolve() : this.m.persist([{ type: 'putAgent', agent: record }]);
    durable.then(
      () => this.guard(conn, () => this.registered(conn, id, info, registeredTime, reg as NonNullable<AgentCall["register"]>, !!given)),
      (e: Error) => {
        this.m.log.error({ agentId: id, err: e.message }, 'registry: could not store agent');
        this.refuse(conn, `the master could not store agent '${id}': ${e.message}`);
      },
    );
  }

  private refuse(conn: AgentConnection, message: string): void {
    this.invalid(conn, message);
    conn.end();
    conn.state = 'closed';
  }

  private registered(conn: AgentConnection, id: string, info: agora.v1.AgentInfo, registeredTime: number, reg: NonNullable<AgentCall["register"]>, reregister: boolean): void {
    if (conn.state === 'closed') return;
    const m = this.m;
    let agent = m.agents.get(id);
    if (!agent) {
      agent = new AgentEntry(id, info, registeredTime);
      m.agents.set(id, agent);
    }
    // A second stream for the same agent replaces the first (the agent reconnected).
    if (agent.active) m.deactivateAgent(agent, 'replaced by a new registration');
    agent.info = info;
    const back = m.health.beforeReregister(agent);
    const { unknown: unknownFrameworks, readded } = this.rebuildTasks(agent, reg);
    m.ledger.reset(id, info.resources ?? [], m.tasks.usedOn(id));
    agent.sink = conn;
    agent.active = true;
    m.health.heard(agent);
    agent.lastHeartbeat = seconds(agent.lastSeenMs);
    m.ledger.setActive(id, true);
    conn.agent = agent;
    conn.state = 'registered';
    if (reregister) m.metrics.agentsReregistered++;
    else m.metrics.agentsRegistered++;
    conn.send({ type: AgentEventType.REGISTERED, registered: { agentId: { value: id }, masterInfo: m.info, heartbeatIntervalSeconds: m.opts.agentHeartbeatIntervalSeconds } });
    for (const fid of unknownFrameworks) conn.send({ type: AgentEventType.SHUTDOWN_FRAMEWORK, shutdownFramework: { frameworkId: { value: fid } } });
    m.health.afterReregister(agent, back, readded);
    m.drainer.afterReregister(agent);
    m.log.info({ agentId: id, hostname: info.hostname, resources: resources.formatResources(info.resources ?? []), tasks: m.tasks.countOfAgent(id) }, reregister ? 'agent re-registered' : 'agent registered');
    m.requestAllocation(id);
    const buffered = conn.buffered;
    conn.buffered = [];
    for (const c of buffered) this.guard(conn, () => this.dispatch(conn, c), c.type);
  }

  /**
   * Makes the task table agree with what the agent reports: reported tasks are (re)added with
   * their latest state; tasks the master had on this agent that it no longer reports are lost.
   * Returns the frameworks of reported tasks that the master does not know (to be shut down)
   * and the live tasks it put back in the books. The caller then recomputes the agent's ledger
   * from the table.
   */
  private rebuildTasks(agent: AgentEntry, reg: NonNullable<AgentCall["register"]>): { unknown: Set<string>; readded: TaskRecord[] } {
    const m = this.m;
    const unknown = new Set<string>();
    const readded: TaskRecord[] = [];
    // Start from a clean slate for this agent: detach every live task, forget its executors.
    const previous = new Map(m.tasks.ofAgent(agent.id).map((r) => [r.key, r]));
    for (const rec of previous.values()) {
      m.tasks.detach(rec);
      m.unchargeTask(rec);
    }
    // Executors the agent still runs keep their records (and their charges); the others are gone.
    const dropped = m.tasks.dropExecutorsOf(agent.id);
    const customExecutors = new Set<string>();
    for (const ex of reg.executors ?? []) {
      const fid = idOf(ex.frameworkId);
      const eid = idOf(ex.executorId);
      if (!fid || !eid) continue;
      const key = TaskTable.executorKey(agent.id, fid, eid);
      customExecutors.add(key);
      const before = dropped.get(key);
      dropped.delete(key);
      m.tasks.restoreExecutor(agent.id, key, fid, before?.resources ?? resources.stripAllocation(ex.resources ?? []), before?.role);
    }
    for (const gone of dropped.values()) m.unchargeExecutor(gone);
    for (const t of reg.tasks ?? []) {
      const fid = idOf(t.frameworkId);
      const tid = idOf(t.taskId);
      if (!fid || !tid) continue;
      if (!m.frameworks.has(fid)) unknown.add(fid);
      const state = t.state ?? TaskState.TASK_UNKNOWN;
      const key = TaskTable.key(fid, tid);
      const exId = idOf(t.executorId) || tid;
      const exKey = TaskTable.executorKey(agent.id, fid, exId);
      const latest = t.statuses?.[t.statuses.length - 1] ?? undefined;
      if (isTerminalState(state)) {
        // A terminal task uses nothing; its pending update still flows (the agent re-sends it).
        // It is not lost either: remember how it ended so that reconciliation answers that
        // (after a master failover the new master has never seen it) instead of TASK_LOST.
        previous.delete(key);
        if (!m.tasks.get(fid, tid) && !m.tasks.getCompleted(fid, tid)) {
          const task = { ...agora.v1.Task.toObject(agora.v1.Task.fromObject(t)), agentId: { value: agent.id }, state };
          m.tasks.archive({ key, frameworkId: fid, taskId: tid, agentId: agent.id, executorId: exId, executorKey: undefined, resources: [], state, latest, task } as TaskRecord);
        }
        continue;
      }
      if (m.tasks.get(fid, tid)) continue;
      const rec: TaskRecord = previous.get(key) ?? {
        key, frameworkId: fid, taskId: tid, agentId: agent.id, executorId: exId,
        executorKey: customExecutors.has(exKey) ? exKey : undefined,
        resources: resources.stripAllocation(t.resources ?? []),
        state,
        latest,
        task: { ...agora.v1.Task.toObject(agora.v1.Task.fromObject(t)), agentId: { value: agent.id } },
      };
      previous.delete(key);
      m.trackTask(rec);
      readded.push(rec);
      if (rec.state !== state) m.tasks.setState(rec, state, latest);
    }
    for (const rec of previous.values()) {
      // The agent no longer has it: the RUN_TASK was lost, or the agent lost its state.
      // Partition-aware frameworks never get TASK_LOST: for them the task is definitely GONE.
      const fw = m.frameworks.get(rec.frameworkId);
      const state = fw?.partitionAware ? TaskState.TASK_GONE : TaskState.TASK_LOST;
      const status = m.masterStatus(rec.taskId, state, TaskStatusReason.REASON_AGENT_RESTARTED, `agent ${agent.id} re-registered without task '${rec.taskId}'`, agent.id, rec.executorId);
      rec.state = state;
      rec.task.state = state;
      rec.task.statuses = [status];
      m.tasks.archive(rec);
      m.metrics.countTerminal(taskStateName(state));
      if (fw) m.sendUpdate(fw, status);
    }
    return { unknown, readded };
  }

  // ---------------------------------------------------------------- STATUS_UPDATE

  private statusUpdate(conn: AgentConnection, agent: AgentEntry, call: AgentCall): void {
    const m = this.m;
    const su = call.statusUpdate;
    const fid = idOf(su?.frameworkId);
    const status = su?.status;
    const taskId = idOf(status?.taskId);
    if (!status || !taskId) return this.invalid(conn, 'status_update.status.task_id is empty');
    if (!fid) return this.invalid(conn, `status_update.framework_id is empty (task '${taskId}')`);
    m.metrics.statusUpdatesReceived++;
    if (!status.agentId?.value) status.agentId = agora.v1.AgentID.create({ value: agent.id });
    const rec = m.tasks.get(fid, taskId);
    if (rec && rec.agentId === agent.id) m.setTaskState(rec, status as TaskStatus);
    const fw = m.frameworks.get(fid);
    if (!fw || fw.removed) {
      // Nobody will ever acknowledge it; do it so the agent stops retrying.
      if (status.uuid && status.uuid.length > 0) {
        agent.send({ type: AgentEventType.ACKNOWLEDGE, acknowledge: { frameworkId: { value: fid }, taskId: { value: taskId }, uuid: status.uuid } });
      }
      return;
    }
    if (fw.connected) {
      m.sendUpdate(fw, status);
      m.metrics.statusUpdatesForwarded++;
    }
    if (m.log.isLevelEnabled('debug')) m.log.debug({ frameworkId: fid, taskId, state: taskStateName(status.state) }, 'status update');
  }
}

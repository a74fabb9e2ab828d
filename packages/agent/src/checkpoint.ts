/**
 * The agent's checkpoint: what it must remember to survive its own death (`kill -9`), kept in
 * `workDir/meta/checkpoint.jsonl` (a CheckpointLog journal).
 *
 * One record per durable change, written by AgentState (through the StateJournal interface) and
 * by the status update manager (through its `persist` hook):
 *
 * | t      | meaning                                                                 |
 * | ------ | ----------------------------------------------------------------------- |
 * | `fw`   | a framework's FrameworkInfo (written again only when it changes)        |
 * | `ex`   | a default or custom executor run: kind, run ID, sandbox, ExecutorInfo    |
 * | `task` | a task: executor, run, kind, sandbox, TaskInfo, launch time, task group |
 * | `proc` | the process of a task or custom executor: pid, start time, exit file    |
 * | `kill` | a kill began (its exit then means TASK_KILLED)                          |
 * | `upd`  | a status update queued for delivery (TaskStatus)                        |
 * | `ack`  | an update acknowledged by the framework                                 |
 * | `rmt`, `rmx` | a task / executor run forgotten                                   |
 *
 * Protobuf messages are stored as base64 of their wire encoding: compact, and exactly what the
 * master sent (no JSON mapping to keep in sync with the proto). Command executors get no `ex`
 * record: they are implied by their one task, which saves a line on every launch.
 *
 * `replay()` folds a list of records into a RecoveredState; it is pure and tolerant (records
 * naming unknown things are skipped), so a torn or partial journal recovers what it can.
 */
import { unlink } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { ExecutorInfoType, TaskState, agora, uuidHex, type ExecutorInfo, type FrameworkInfo, type TaskInfo, type TaskStatus } from '@agora/core';
import type { PersistedEntry, StatusUpdateManager } from './status-updates.js';
import { taskKey, executorKey, type AgentState, type ExecutorKind, type ExecutorRecord, type FrameworkRecord, type ProcIdentity, type StateJournal, type TaskRecord } from './state.js';
import { CheckpointLog } from './checkpoint-log.js';

/** One line of the checkpoint journal. */
export type CheckpointRecord =
  | { t: 'fw'; id: string; info: string }
  | { t: 'ex'; fw: string; id: string; kind: ExecutorKind; run: string; sandbox: string; info: string }
  | { t: 'task'; fw: string; id: string; ex: string; run: string; kind: ExecutorKind; sandbox?: string; info: string; at: number; group?: string }
  | { t: 'proc'; fw: string; task?: string; ex?: string; run?: string; pid: number; start: number; exit: string }
  | { t: 'kill'; fw: string; task: string; graceMs: number }
  | { t: 'upd'; fw: string; s: string }
  | { t: 'ack'; fw: string; task: string; uuid: string }
  | { t: 'rmt'; fw: string; task: string }
  | { t: 'rmx'; fw: string; ex: string; run: string };

/** A task as the checkpoint remembers it. */
export interface RecoveredTask {
  frameworkId: string;
  taskId: string;
  executorId: string;
  runId: string;
  kind: ExecutorKind;
  sandbox: string | undefined;
  info: TaskInfo;
  launchedAt: number;
  group: string | undefined;
  procId: ProcIdentity | undefined;
  killGraceMs: number | undefined;
  state: TaskState;
  latestUuid: Uint8Array | undefined;
}

/** An executor run as the checkpoint remembers it. */
export interface RecoveredExecutor {
  frameworkId: string;
  executorId: string;
  kind: ExecutorKind;
  runId: string;
  sandbox: string;
  info: ExecutorInfo;
  procId: ProcIdentity | undefined;
}

/** Everything replay() rebuilt. */
export interface RecoveredState {
  frameworks: Map<string, FrameworkInfo>;
  /** Executor runs by `${frameworkId}\0${executorId}\0${runId}`. */
  executors: Map<string, RecoveredExecutor>;
  /** The latest run of each executor (`executorKey` → run key). */
  latestRun: Map<string, string>;
  tasks: Map<string, RecoveredTask>;
  /** Unacknowledged updates in the order they were queued. */
  updates: Array<{ frameworkId: string; status: TaskStatus }>;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
const unb64 = (text: string): Buffer => Buffer.from(text, 'base64');
const runKey = (fw: string, ex: string, run: string): string => `${fw}\u0000${ex}\u0000${run}`;

/** The ExecutorInfo the command executor of a task has (as executor-builtin.ts makes it). */
export function commandExecutorInfo(frameworkId: string, taskId: string): ExecutorInfo {
  return { type: ExecutorInfoType.DEFAULT, executorId: { value: taskId }, frameworkId: { value: frameworkId }, name: `command executor of ${taskId}` };
}

/** Folds journal records into the state they describe. Pure; skips records it cannot use. */
export function replay(records: readonly CheckpointRecord[]): RecoveredState {
  const rs: RecoveredState = { frameworks: new Map(), executors: new Map(), latestRun: new Map(), tasks: new Map(), updates: [] };
  const updates = new Map<string, { frameworkId: string; status: TaskStatus }>();
  for (const r of records) {
    try {
      apply(rs, updates, r);
    } catch {
      // A record that does not decode (damage): the rest still recovers.
    }
  }
  rs.updates = [...updates.values()];
  return rs;
}

function apply(rs: RecoveredState, updates: Map<string, { frameworkId: string; status: TaskStatus }>, r: CheckpointRecord): void {
  switch (r.t) {
    case 'fw':
      rs.frameworks.set(r.id, agora.v1.FrameworkInfo.decode(unb64(r.info)));
      return;
    case 'ex': {
      const key = runKey(r.fw, r.id, r.run);
      rs.executors.set(key, { frameworkId: r.fw, executorId: r.id, kind: r.kind, runId: r.run, sandbox: r.sandbox, info: agora.v1.ExecutorInfo.decode(unb64(r.info)), procId: undefined });
      rs.latestRun.set(executorKey(r.fw, r.id), key);
      return;
    }
    case 'task': {
      if (r.kind === 'command') {
        const key = runKey(r.fw, r.ex, r.run);
        rs.executors.set(key, { frameworkId: r.fw, executorId: r.ex, kind: 'command', runId: r.run, sandbox: r.sandbox ?? '', info: commandExecutorInfo(r.fw, r.id), procId: undefined });
        rs.latestRun.set(executorKey(r.fw, r.ex), key);
      }
      rs.tasks.set(taskKey(r.fw, r.id), {
        frameworkId: r.fw,
        taskId: r.id,
        executorId: r.ex,
        runId: r.run,
        kind: r.kind,
        sandbox: r.sandbox,
        info: agora.v1.TaskInfo.decode(unb64(r.info)),
        launchedAt: r.at,
        group: r.group,
        procId: undefined,
        killGraceMs: undefined,
        state: TaskState.TASK_STAGING,
        latestUuid: undefined,
      });
      return;
    }
    case 'proc': {
      const procId = { pid: r.pid, startTime: r.start, exitFile: r.exit };
      if (r.task !== undefined) {
        const t = rs.tasks.get(taskKey(r.fw, r.task));
        if (t) t.procId = procId;
      } else if (r.ex !== undefined && r.run !== undefined) {
        const e = rs.executors.get(runKey(r.fw, r.ex, r.run));
        if (e) e.procId = procId;
      }
      return;
    }
    case 'kill': {
      const t = rs.tasks.get(taskKey(r.fw, r.task));
      if (t) t.killGraceMs = r.graceMs;
      return;
    }
    case 'upd': {
      const status = agora.v1.TaskStatus.decode(unb64(r.s));
      // Only updates the agent made can be pending: they always carry a task ID and a uuid.
      if (!status.taskId?.value || !status.uuid || status.uuid.length === 0) return;
      const id = uuidHex(status.uuid);
      if (!updates.has(id)) updates.set(id, { frameworkId: r.fw, status });
      const t = rs.tasks.get(taskKey(r.fw, status.taskId?.value ?? ''));
      if (t) {
        t.state = status.state ?? t.state;
        t.latestUuid = status.uuid && status.uuid.length > 0 ? status.uuid : undefined;
      }
      return;
    }
    case 'ack':
      updates.delete(r.uuid);
      return;
    case 'rmt':
      rs.tasks.delete(taskKey(r.fw, r.task));
      return;
    case 'rmx': {
      const key = runKey(r.fw, r.ex, r.run);
      rs.executors.delete(key);
      if (rs.latestRun.get(executorKey(r.fw, r.ex)) === key) rs.latestRun.delete(executorKey(r.fw, r.ex));
      return;
    }
    default:
      return;
  }
}

/**
 * Writes the agent's durable changes to the journal: the StateJournal of AgentState and the
 * `persist` hook of the StatusUpdateManager.
 */
export class Checkpoint implements StateJournal {
  readonly log: CheckpointLog<CheckpointRecord>;
  private readonly groups = new WeakMap<Set<TaskRecord>, string>();
  /** Last FrameworkInfo written per framework: RUN_TASK refreshes it on every launch. */
  private readonly written = new Map<string, string>();
  private updates: StatusUpdateManager | undefined;

  constructor(file: string, private readonly state: AgentState, onError: (err: Error) => void) {
    this.log = new CheckpointLog<CheckpointRecord>(file, { snapshot: () => this.snapshot(), onError });
  }

  /** The status update manager whose pending updates snapshots include. */
  setUpdates(updates: StatusUpdateManager): void {
    this.updates = updates;
  }

  framework(f: FrameworkRecord): void {
    const info = b64(agora.v1.FrameworkInfo.encode(f.info).finish());
    if (this.written.get(f.id) === info) return;
    this.written.set(f.id, info);
    void this.log.append({ t: 'fw', id: f.id, info });
  }

  executor(e: ExecutorRecord): void {
    if (e.kind === 'command') return;
    void this.log.append(this.executorRecord(e));
  }

  task(t: TaskRecord): void {
    void this.log.append(this.taskRecord(t));
  }

  process(owner: TaskRecord | ExecutorRecord): void {
    const r = this.procRecord(owner);
    if (r) void this.log.append(r);
  }

  killing(t: TaskRecord): void {
    if (t.killing) void this.log.append({ t: 'kill', fw: t.frameworkId, task: t.taskId, graceMs: t.killing.graceMs });
  }

  taskRemoved(t: TaskRecord): void {
    void this.log.append({ t: 'rmt', fw: t.frameworkId, task: t.taskId });
    if (t.procId) unlink(t.procId.exitFile, () => {});
  }

  executorRemoved(e: ExecutorRecord): void {
    if (e.procId) unlink(e.procId.exitFile, () => {});
    if (e.kind !== 'command') void this.log.append({ t: 'rmx', fw: e.frameworkId, ex: e.executorId, run: e.runId });
  }

  /** The status update manager's `persist` hook. */
  persist = (entry: PersistedEntry): Promise<void> => {
    if (entry.kind === 'ack') return this.log.append({ t: 'ack', fw: entry.frameworkId, task: entry.taskId, uuid: entry.uuid });
    return this.log.append({ t: 'upd', fw: entry.frameworkId, s: b64(agora.v1.TaskStatus.encode(entry.status).finish()) });
  };

  /** The whole current state as records (compaction). */
  snapshot(): CheckpointRecord[] {
    const out: CheckpointRecord[] = [];
    this.written.clear();
    for (const f of this.state.frameworks.values()) {
      const info = b64(agora.v1.FrameworkInfo.encode(f.info).finish());
      this.written.set(f.id, info);
      out.push({ t: 'fw', id: f.id, info });
    }
    for (const e of this.state.executors.values()) {
      if (e.kind === 'command') continue;
      out.push(this.executorRecord(e));
      const p = this.procRecord(e);
      if (p) out.push(p);
    }
    for (const t of this.state.tasks.values()) {
      out.push(this.taskRecord(t));
      const p = this.procRecord(t);
      if (p) out.push(p);
      if (t.killing) out.push({ t: 'kill', fw: t.frameworkId, task: t.taskId, graceMs: t.killing.graceMs });
    }
    for (const s of this.updates?.snapshot() ?? []) {
      for (const status of s.pending) out.push({ t: 'upd', fw: s.frameworkId, s: b64(agora.v1.TaskStatus.encode(status).finish()) });
    }
    return out;
  }

  private executorRecord(e: ExecutorRecord): CheckpointRecord {
    return { t: 'ex', fw: e.frameworkId, id: e.executorId, kind: e.kind, run: e.runId, sandbox: e.sandbox, info: b64(agora.v1.ExecutorInfo.encode(e.info).finish()) };
  }

  private taskRecord(t: TaskRecord): CheckpointRecord {
    const kind = this.state.executor(t.frameworkId, t.executorId)?.kind ?? (t.executorId === t.taskId ? 'command' : 'default');
    let group: string | undefined;
    if (t.group) {
      group = this.groups.get(t.group);
      if (!group) {
        group = randomUUID();
        this.groups.set(t.group, group);
      }
    }
    return {
      t: 'task',
      fw: t.frameworkId,
      id: t.taskId,
      ex: t.executorId,
      run: t.runId,
      kind,
      ...(t.sandbox !== undefined ? { sandbox: t.sandbox } : {}),
      info: b64(agora.v1.TaskInfo.encode(t.info).finish()),
      at: t.launchedAt,
      ...(group ? { group } : {}),
    };
  }

  private procRecord(owner: TaskRecord | ExecutorRecord): CheckpointRecord | undefined {
    const p = owner.procId;
    if (!p) return undefined;
    if ('taskId' in owner) return { t: 'proc', fw: owner.frameworkId, task: owner.taskId, pid: p.pid, start: p.startTime, exit: p.exitFile };
    return { t: 'proc', fw: owner.frameworkId, ex: owner.executorId, run: owner.runId, pid: p.pid, start: p.startTime, exit: p.exitFile };
  }
}

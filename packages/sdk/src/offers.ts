/**
 * Helpers that turn an offer into TaskInfos, so framework authors never do resource arithmetic
 * by hand. Resources are carved out of the offer's own entries — keeping their reservations and
 * allocation role — because the master checks that a task's resources are *contained* in the
 * offer entry by entry; a hand-built `cpus:1` without the offer's allocation role would not be.
 */
import { randomBytes } from 'node:crypto';
import {
  ExecutorInfoType,
  ValueType,
  idOf,
  resources as res,
  type CommandInfo,
  type ExecutorInfo,
  type Offer,
  type Resource,
  type TaskInfo,
} from '@agora/core';

/** Resource amounts a task asks for. */
export interface ResourceNeed {
  /** @default 0 */
  cpus?: number;
  /** MiB. @default 0 */
  mem?: number;
  /** MiB. @default 0 */
  disk?: number;
  /** How many ports (any from the offered ranges). @default 0 */
  ports?: number;
}

/** What `commandTask` builds a TaskInfo from. */
export interface CommandTaskSpec {
  /** Task name (shown in the UI and CLI); the default task ID is derived from it. */
  name: string;
  /** @default `${name}.${8 random hex digits}` (name cleaned to [A-Za-z0-9_.-]) */
  taskId?: string;
  /** A shell command line, or an executable with argv (`shell: false`, argv[0] included). */
  command: string | { value: string; arguments?: string[]; shell?: boolean };
  /** @default 0.1 */
  cpus?: number;
  /** MiB. @default 32 */
  mem?: number;
  /** MiB. @default 0 (none) */
  disk?: number;
  /** Number of ports; the agent passes them as PORT0…PORTn and PORTS. @default 0 */
  ports?: number;
  /** Extra environment variables. @default {} */
  env?: Record<string, string>;
  /**
   * Environment variables whose values are secret (type SECRET): the task sees them like any
   * other, but masters, agents, logs and the CLI never show their values. @default {}
   */
  secrets?: Record<string, string>;
  /** Files fetched into the sandbox before the command starts. @default [] */
  uris?: CommandInfo['uris'];
  /** @default {} */
  labels?: Record<string, string>;
  /** SIGTERM → SIGKILL grace on kill. @default the agent's (DEFAULTS.killGracePeriodSeconds, 3 s) */
  killGracePeriodSeconds?: number;
  /** Opaque bytes handed to the task (custom executors read them from TaskInfo.data). @default none */
  data?: Uint8Array;
  /**
   * Take resources from these instead of `offer.resources` — pass what is left after the tasks
   * already built from this offer (`resources.subtract(left, task.resources)`) to pack several.
   * @default offer.resources
   */
  from?: Resource[];
}

/** What `executorTask` builds: a task run by the framework's own executor (ExecutorDriver). */
export interface ExecutorTaskSpec extends Omit<CommandTaskSpec, 'command'> {
  executor: {
    /** One executor process per (framework, executorId) per agent. @default `${name}-executor` */
    executorId?: string;
    /** How the agent starts the executor process (shell command line or argv). */
    command: string | { value: string; arguments?: string[]; shell?: boolean };
    /** @default executorId */
    name?: string;
    /** Environment of the executor process (besides the AGORA_* the agent sets). @default {} */
    env?: Record<string, string>;
    /** @default [] */
    uris?: CommandInfo['uris'];
    /**
     * The executor process's own resources, charged once, with the task that starts it, and
     * held while it runs (tasks add theirs on top, as in Mesos). Launch the first task on an
     * offer holding task + executor resources. @default none (the agent's small default)
     */
    resources?: { cpus?: number; mem?: number; disk?: number };
  };
}

/** The role the offer was allocated to ('*' when it does not say). */
export function offerRole(offer: Offer): string {
  return offer.allocationInfo?.role || offer.resources?.find((r) => r.allocationInfo?.role)?.allocationInfo?.role || '*';
}

/** A readable unique task ID: `web.3f2a9c1b`. */
export function newTaskId(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '') || 'task';
  return `${clean}.${randomBytes(4).toString('hex')}`;
}

/**
 * Takes `amount` of scalar `name` from the offered entries (reserved ones first, as Mesos does),
 * returning clones of those entries holding the taken parts. Undefined when the offer holds less.
 */
function takeScalar(from: readonly Resource[], name: string, amount: number): Resource[] | undefined {
  if (amount <= 0) return [];
  const entries = res.flatten(from).filter((r) => r.name === name && r.type === ValueType.SCALAR);
  entries.sort((a, b) => (b.reservations?.length ?? 0) - (a.reservations?.length ?? 0));
  const out: Resource[] = [];
  let left = Math.round(amount * 1000) / 1000;
  for (const r of entries) {
    if (left <= 0) break;
    const have = r.scalar?.value ?? 0;
    const take = Math.min(have, left);
    if (take <= 0) continue;
    out.push({ ...r, scalar: { value: Math.round(take * 1000) / 1000 } });
    left = Math.round((left - take) * 1000) / 1000;
  }
  return left > 0 ? undefined : out;
}

/**
 * Carves `need` out of `from`; throws an Error naming what is missing (e.g.
 * "offer o-1 holds cpus:0.5 but task 'web' asks for cpus:1").
 */
function carve(offer: Offer, from: readonly Resource[], need: Required<ResourceNeed>, what: string): { resources: Resource[]; ports: number[] } {
  const out: Resource[] = [];
  for (const name of ['cpus', 'mem', 'disk'] as const) {
    const amount = need[name];
    if (!Number.isFinite(amount) || amount < 0) throw new Error(`${what} asks for ${name}:${amount}, which is not a non-negative number`);
    const taken = takeScalar(from, name, amount);
    if (!taken) throw new Error(`offer ${idOf(offer.id) || '(no id)'} holds ${name}:${res.scalarOf(from, name)} but ${what} asks for ${name}:${amount}`);
    out.push(...taken);
  }
  let ports: number[] = [];
  if (need.ports > 0) {
    const picked = res.pickPorts(from, need.ports);
    if (!picked) throw new Error(`offer ${idOf(offer.id) || '(no id)'} holds ${res.rangesOfName(from, 'ports').reduce((n, [b, e]) => n + e - b + 1, 0)} ports but ${what} asks for ${need.ports}`);
    ports = picked.ports;
    out.push(picked.resource);
  }
  // Every entry carries the offer's allocation role: that is how the master matches them.
  const role = offerRole(offer);
  return { resources: out.map((r) => (r.allocationInfo?.role ? r : { ...r, allocationInfo: { role } })), ports };
}

function commandInfo(command: CommandTaskSpec['command'], env?: Record<string, string>, uris?: CommandInfo['uris'], secrets?: Record<string, string>): CommandInfo {
  const c: CommandInfo = typeof command === 'string'
    ? { value: command, shell: true }
    : { value: command.value, shell: command.shell ?? true, ...(command.arguments ? { arguments: [...command.arguments] } : {}) };
  if (!c.value) throw new Error('a task command needs a value (the command line or executable)');
  const variables = [
    ...Object.entries(env ?? {}).map(([name, value]) => ({ name, type: 1 /* VALUE */, value: String(value) })),
    ...Object.entries(secrets ?? {}).map(([name, value]) => ({ name, type: 2 /* SECRET */, value: String(value) })),
  ];
  if (variables.length > 0) c.environment = { variables };
  if (uris && uris.length > 0) c.uris = uris.map((u) => ({ ...u }));
  return c;
}

function baseTask(offer: Offer, spec: Omit<CommandTaskSpec, 'command'>): TaskInfo {
  if (!spec.name) throw new Error('a task needs a name');
  const taskId = spec.taskId || newTaskId(spec.name);
  const what = `task '${taskId}'`;
  const { resources } = carve(offer, spec.from ?? offer.resources ?? [], {
    cpus: spec.cpus ?? 0.1,
    mem: spec.mem ?? 32,
    disk: spec.disk ?? 0,
    ports: spec.ports ?? 0,
  }, what);
  const task: TaskInfo = { name: spec.name, taskId: { value: taskId }, agentId: { value: idOf(offer.agentId) }, resources };
  if (spec.labels && Object.keys(spec.labels).length > 0) task.labels = { labels: Object.entries(spec.labels).map(([key, value]) => ({ key, value })) };
  if (spec.killGracePeriodSeconds !== undefined) task.killPolicy = { gracePeriodSeconds: spec.killGracePeriodSeconds };
  if (spec.data) task.data = spec.data;
  return task;
}

/**
 * Builds a command TaskInfo from an offer: agent_id from the offer, resources carved from the
 * offer's entries (with its allocation role), ports picked from the offered ranges. Throws an
 * Error naming the shortfall when the offer is too small — check `offerFits` first.
 */
export function commandTask(offer: Offer, spec: CommandTaskSpec): TaskInfo {
  const task = baseTask(offer, spec);
  task.command = commandInfo(spec.command, spec.env, spec.uris, spec.secrets);
  return task;
}

/**
 * Builds a TaskInfo for the framework's own executor (a process using ExecutorDriver). The
 * agent starts the executor once per executorId and hands it every task naming that executor.
 * Task resources are carved as in `commandTask`; `env` and `uris` go to the executor process.
 */
export function executorTask(offer: Offer, spec: ExecutorTaskSpec): TaskInfo {
  const task = baseTask(offer, spec);
  const executorId = spec.executor.executorId || `${spec.name}-executor`;
  const executor: ExecutorInfo = {
    type: ExecutorInfoType.CUSTOM,
    executorId: { value: executorId },
    name: spec.executor.name || executorId,
    command: commandInfo(spec.executor.command, { ...spec.executor.env, ...spec.env }, spec.executor.uris ?? spec.uris, spec.secrets),
  };
  if (offer.frameworkId?.value) executor.frameworkId = { value: offer.frameworkId.value };
  const own = spec.executor.resources;
  if (own) {
    const role = offerRole(offer);
    executor.resources = (['cpus', 'mem', 'disk'] as const).flatMap((name) => {
      const v = own[name] ?? 0;
      if (!Number.isFinite(v) || v < 0) throw new Error(`executor '${executorId}' asks for ${name}:${v}, which is not a non-negative number`);
      return v > 0 ? [{ ...res.scalar(name, v), allocationInfo: { role } }] : [];
    });
  }
  task.executor = executor;
  return task;
}

/**
 * True when the offer's resources (all roles together) hold what is asked: amounts
 * (`{ cpus: 1, mem: 128, ports: 2 }`) or exact resources (`resources.contains` semantics).
 */
export function offerFits(offer: Offer, need: ResourceNeed | Resource[]): boolean {
  const offered = offer.resources ?? [];
  if (Array.isArray(need)) {
    // Compare without allocation roles so hand-built resources match offered ones.
    return res.contains(res.stripAllocation(offered), res.stripAllocation(need));
  }
  for (const name of ['cpus', 'mem', 'disk'] as const) {
    const amount = need[name] ?? 0;
    if (amount > 0 && res.scalarOf(offered, name) < amount) return false;
  }
  const ports = need.ports ?? 0;
  return ports <= 0 || res.pickPorts(offered, ports) !== undefined;
}

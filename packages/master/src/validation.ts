/**
 * Pure validators (Mesos `master/validation.cpp`): each takes what it checks plus the facts it
 * needs and returns a sentence naming the field and the reason, or undefined when all is well.
 * They never throw and never touch master state, so every rule is unit-tested directly.
 */
import { resources, ValueType, type AgentInfo, type ExecutorInfo, type FrameworkInfo, type Resource, type TaskInfo } from '@agora/core';

/** IDs become directory names on agents (sandboxes), so they are kept to a safe alphabet. */
const ID_RE = /^[A-Za-z0-9_.:@+-]+$/;
const MAX_ID = 256;

/** Checks an ID that will name files and appear in URLs. `what` names the field. */
export function validateId(what: string, id: string | null | undefined): string | undefined {
  if (!id) return `${what} is empty`;
  if (id.length > MAX_ID) return `${what} is longer than ${MAX_ID} characters`;
  if (id === '.' || id === '..') return `${what} '${id}' is not allowed`;
  if (!ID_RE.test(id)) return `${what} '${id}' may only contain letters, digits and . _ - : @ +`;
  return undefined;
}

function finiteNonNegative(v: unknown): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

/** Checks a SUBSCRIBE's framework_info. */
export function validateFrameworkInfo(info: FrameworkInfo | null | undefined): string | undefined {
  if (!info) return 'subscribe.framework_info is missing';
  if (!info.name) return 'framework_info.name is empty';
  if (info.failoverTimeoutSeconds != null && !finiteNonNegative(info.failoverTimeoutSeconds)) {
    return `framework_info.failover_timeout_seconds must be a finite number ≥ 0, got ${info.failoverTimeoutSeconds}`;
  }
  for (const [i, role] of (info.roles ?? []).entries()) {
    if (role !== '*' && !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(role)) return `framework_info.roles[${i}] '${role}' is not a valid role name`;
  }
  return undefined;
}

/** Checks a list of resources (agent totals, task and executor asks). `what` prefixes messages. */
export function validateResources(what: string, list: readonly Resource[] | null | undefined): string | undefined {
  for (const [i, r] of (list ?? []).entries()) {
    const bad = resources.validateResource(r);
    if (bad) return `${what} resources[${i}]: ${bad}`;
    if (r.name === 'ports' && r.type !== ValueType.RANGES) return `${what} resources[${i}]: 'ports' must be RANGES`;
    if ((r.name === 'cpus' || r.name === 'mem' || r.name === 'disk' || r.name === 'gpus') && r.type !== ValueType.SCALAR) {
      return `${what} resources[${i}]: '${r.name}' must be SCALAR`;
    }
  }
  return undefined;
}

/** Checks an agent's REGISTER. */
export function validateAgentInfo(info: AgentInfo | null | undefined): string | undefined {
  if (!info) return 'register.agent_info is missing';
  if (info.id?.value) {
    const bad = validateId('agent_info.id', info.id.value);
    if (bad) return bad;
  }
  return validateResources('agent_info', info.resources);
}

/** An outstanding offer as the offer validator sees it. */
export interface OfferView {
  readonly frameworkId: string;
  readonly agentId: string;
}

/**
 * Checks the offers an ACCEPT names: at least one, no repeats, each outstanding, each made to
 * this framework, all on one agent.
 */
export function validateOffers(offerIds: readonly string[], find: (id: string) => OfferView | undefined, frameworkId: string): string | undefined {
  if (offerIds.length === 0) return 'accept.offer_ids is empty';
  const seen = new Set<string>();
  let agent: string | undefined;
  let first = '';
  for (const id of offerIds) {
    if (!id) return 'accept.offer_ids holds an empty ID';
    if (seen.has(id)) return `offer '${id}' is listed twice in accept.offer_ids`;
    seen.add(id);
    const o = find(id);
    if (!o) return `offer '${id}' is not outstanding (unknown, already accepted or declined, or rescinded)`;
    if (o.frameworkId !== frameworkId) return `offer '${id}' was made to another framework`;
    if (agent === undefined) {
      agent = o.agentId;
      first = id;
    } else if (o.agentId !== agent) {
      return `offers '${first}' (agent ${agent}) and '${id}' (agent ${o.agentId}) are on different agents`;
    }
  }
  return undefined;
}

/** What a task is checked against. */
export interface TaskContext {
  readonly frameworkId: string;
  /** The agent all offers are on. */
  readonly agentId: string;
  /** E.g. "offer o-17" or "offers o-1, o-2", for messages. */
  readonly offerLabel: string;
  /** What is left of the offers after earlier tasks of this accept (no allocation roles). */
  readonly remaining: readonly Resource[];
  /** True when the framework already has a non-terminal task (or one earlier in this accept) with this ID. */
  readonly taskIdInUse: (taskId: string) => boolean;
  /** True when the custom executor already runs on the agent (its resources are held). */
  readonly executorRunning: (executorId: string) => boolean;
}

/** Checks that `need` fits in `remaining`, naming the first resource that does not. */
export function validateFits(who: string, need: readonly Resource[], remaining: readonly Resource[], offerLabel: string): string | undefined {
  if (resources.contains(remaining, need)) return undefined;
  const ports = resources.rangesOfName(need, 'ports');
  if (ports.length > 0) {
    const have = resources.rangesOfName(remaining, 'ports');
    const inside = ports.every(([b, e]) => have.some(([hb, he]) => hb <= b && e <= he));
    if (!inside) {
      const fmt = (rs: [number, number][]) => `[${rs.map(([b, e]) => (b === e ? `${b}` : `${b}-${e}`)).join(',')}]`;
      return `${who} asks for ports ${fmt(ports)} outside the offered ranges ${fmt(have)} of ${offerLabel}`;
    }
  }
  for (const name of resources.scalarNames(need)) {
    const want = resources.scalarOf(need, name);
    const have = resources.scalarOf(remaining, name);
    if (want > have) return `${who} asks for ${name}:${want} but ${offerLabel} ${offerLabel.startsWith('offers') ? 'hold' : 'holds'} ${name}:${have}`;
  }
  return `${who} asks for ${resources.formatResources(need)} which ${offerLabel} ${offerLabel.startsWith('offers') ? 'do' : 'does'} not hold (reservation or role mismatch; left: ${resources.formatResources(remaining) || 'nothing'})`;
}

/** Checks an executor of a LAUNCH task or a LAUNCH_GROUP. */
export function validateExecutor(who: string, ex: ExecutorInfo, frameworkId: string, group: boolean): string | undefined {
  const bad = validateId(`${who} executor.executor_id`, ex.executorId?.value);
  if (bad) return bad;
  if (ex.frameworkId?.value && ex.frameworkId.value !== frameworkId) return `${who} executor.framework_id '${ex.frameworkId.value}' is not this framework ('${frameworkId}')`;
  // A CUSTOM executor is a process the agent starts, so it needs a command; the DEFAULT one is built in.
  const custom = ex.type === 2 /* CUSTOM */ || (!group && ex.type !== 1 /* DEFAULT */);
  if (custom && !ex.command?.value) return `${who} executor.command.value is empty (a custom executor needs a command to start)`;
  return validateResources(`${who} executor`, ex.resources);
}

/**
 * Checks one task of a LAUNCH (or, with `groupExecutor`, of a LAUNCH_GROUP). Returns the
 * error, or undefined; on success `need` (task + executor resources) is what it will hold.
 */
export function validateTask(task: TaskInfo, ctx: TaskContext, groupExecutor?: ExecutorInfo): string | undefined {
  const id = task.taskId?.value ?? '';
  const badId = validateId('task_id', id);
  if (badId) return `task ${task.name ? `'${task.name}' ` : ''}has an invalid task_id: ${badId}`;
  const who = `task '${id}'`;
  if (ctx.taskIdInUse(id)) return `${who}: task_id is already used by a non-terminal task of this framework`;
  if (task.agentId?.value && task.agentId.value !== ctx.agentId) return `${who} names agent_id '${task.agentId.value}' but the offers are on agent '${ctx.agentId}'`;
  const hasCommand = task.command != null;
  const hasExecutor = task.executor != null;
  if (groupExecutor) {
    if (hasExecutor && task.executor?.executorId?.value !== groupExecutor.executorId?.value) return `${who} sets executor; tasks of a group run under the group's executor`;
    if (!hasCommand) return `${who} has no command (every task of a group runs a command)`;
  } else if (hasCommand === hasExecutor) {
    return `${who} must set exactly one of command and executor (it sets ${hasCommand ? 'both' : 'neither'})`;
  }
  if (hasCommand && !task.command?.value) return `${who}: command.value is empty`;
  if (hasExecutor && !groupExecutor) {
    const bad = validateExecutor(who, task.executor as ExecutorInfo, ctx.frameworkId, false);
    if (bad) return bad;
  }
  const grace = task.killPolicy?.gracePeriodSeconds;
  if (grace != null && !finiteNonNegative(grace)) return `${who}: kill_policy.grace_period_seconds must be a finite number ≥ 0, got ${grace}`;
  const badRes = validateResources(who, task.resources);
  if (badRes) return badRes;
  if ((task.resources ?? []).length === 0) return `${who} asks for no resources`;
  return validateFits(who, taskNeed(task, ctx), ctx.remaining, ctx.offerLabel);
}

/** What a (valid) task will take from the offers: its resources, plus its executor's if new. */
export function taskNeed(task: TaskInfo, ctx: Pick<TaskContext, 'executorRunning'>): Resource[] {
  const own = resources.stripAllocation(task.resources ?? []);
  const ex = task.executor;
  if (ex?.executorId?.value && !ctx.executorRunning(ex.executorId.value) && (ex.resources ?? []).length > 0) {
    return resources.add(own, resources.stripAllocation(ex.resources ?? []));
  }
  return own;
}

/** Checks a `refuse_seconds`; returns the seconds to use or an error. */
export function refuseSecondsOf(filters: { refuseSeconds?: number | null } | null | undefined, dflt: number): number | string {
  if (!filters || filters.refuseSeconds == null) return dflt;
  const v = filters.refuseSeconds;
  if (!finiteNonNegative(v)) return `filters.refuse_seconds must be a finite number ≥ 0, got ${v}`;
  return Math.min(v, 365 * 24 * 3600);
}

/** Facts a RESERVE / UNRESERVE operation is checked against. */
export interface ReservationContext {
  /** `operations[i].reserve` — prefixes messages. */
  readonly what: string;
  /** What is left of the offers (no allocation roles). */
  readonly remaining: readonly Resource[];
  /** The framework's principal ('' when it has none). */
  readonly principal: string;
  /** The framework's roles. */
  readonly roles: readonly string[];
}

/** The resource without its innermost reservation (what a RESERVE starts from). */
export function withoutLastReservation(r: Resource): Resource {
  const c: Resource = { ...r, reservations: (r.reservations ?? []).slice(0, -1) };
  if ((c.reservations ?? []).length === 0) delete c.reservations;
  delete c.allocationInfo;
  return c;
}

function stripAlloc(r: Resource): Resource {
  const c: Resource = { ...r };
  delete c.allocationInfo;
  return c;
}

/**
 * Checks a RESERVE: every resource carries, as its last reservation, a DYNAMIC one for one of
 * the framework's roles with the framework's principal, and its unreserved form is in the
 * offer. Returns the problem, or undefined.
 */
export function validateReserve(list: readonly Resource[] | null | undefined, ctx: ReservationContext): string | undefined {
  const items = list ?? [];
  if (items.length === 0) return `${ctx.what}.resources is empty`;
  if (!ctx.principal) return `${ctx.what}: the framework has no principal (framework_info.principal); dynamic reservations need one`;
  const bad = validateResources(ctx.what, items);
  if (bad) return bad;
  for (const [i, r] of items.entries()) {
    const last = r.reservations?.[r.reservations.length - 1];
    if (!last) return `${ctx.what}.resources[${i}] ('${r.name}') has no reservation to make`;
    if (last.type !== 2 /* DYNAMIC */) return `${ctx.what}.resources[${i}] ('${r.name}'): the reservation must be DYNAMIC`;
    if (!last.role || last.role === '*') return `${ctx.what}.resources[${i}] ('${r.name}'): reservation role is empty or '*'`;
    if (!ctx.roles.includes(last.role)) return `${ctx.what}.resources[${i}] ('${r.name}'): role '${last.role}' is not one of the framework's roles (${ctx.roles.join(', ')})`;
    if (last.principal !== ctx.principal) return `${ctx.what}.resources[${i}] ('${r.name}'): reservation principal '${last.principal ?? ''}' must be the framework's principal '${ctx.principal}'`;
  }
  const from = resources.flatten(items.map(withoutLastReservation));
  if (!resources.contains(ctx.remaining, from)) {
    return `${ctx.what} asks to reserve ${resources.formatResources(from)} but the offer holds ${resources.formatResources(ctx.remaining) || 'nothing'} of it`;
  }
  return undefined;
}

/** Checks an UNRESERVE: dynamic reservations of this principal, all in the offer. */
export function validateUnreserve(list: readonly Resource[] | null | undefined, ctx: ReservationContext): string | undefined {
  const items = list ?? [];
  if (items.length === 0) return `${ctx.what}.resources is empty`;
  const bad = validateResources(ctx.what, items);
  if (bad) return bad;
  for (const [i, r] of items.entries()) {
    const last = r.reservations?.[r.reservations.length - 1];
    if (!last) return `${ctx.what}.resources[${i}] ('${r.name}') is not reserved`;
    if (last.type !== 2 /* DYNAMIC */) return `${ctx.what}.resources[${i}] ('${r.name}'): only DYNAMIC reservations can be unreserved (static ones belong to the agent's --resources)`;
    if (last.principal && last.principal !== ctx.principal) return `${ctx.what}.resources[${i}] ('${r.name}'): reserved by principal '${last.principal}', not '${ctx.principal || '(none)'}'`;
  }
  const want = resources.flatten(items.map(stripAlloc));
  if (!resources.contains(ctx.remaining, want)) {
    return `${ctx.what} asks to unreserve ${resources.formatResources(want)} but the offer holds ${resources.formatResources(ctx.remaining) || 'nothing'} of it`;
  }
  return undefined;
}

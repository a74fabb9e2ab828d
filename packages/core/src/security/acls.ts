/**
 * Access control lists in the shape of Mesos' local authorizer (`--acls`): for each action, a
 * list of rules "these principals may act on these objects", e.g.
 *
 * ```json
 * { "register_frameworks": [ { "principals": { "values": ["web"] }, "roles": { "values": ["prod", "web"] } },
 *                            { "principals": { "type": "ANY" }, "roles": { "type": "NONE" } } ],
 *   "run_tasks":           [ { "principals": { "values": ["ops"] }, "users": { "type": "ANY" } },
 *                            { "principals": { "type": "ANY" }, "users": { "values": ["nobody"] } } ] }
 * ```
 *
 * Evaluation, per request (principal, object), as Mesos does: the rules of the action are
 * tried in order; the first rule whose `principals` and object entity both match decides — it
 * allows, unless one of the two entities is `{"type": "NONE"}` (NONE matches everything and
 * denies). `{"type": "ANY"}` matches any value; `{"values": [...]}` matches the listed ones. A
 * request without an authenticated principal matches only `ANY` (and `NONE`) subjects.
 *
 * When no rule matches, `permissive` decides. Unlike Mesos (whose default is true) Agora's
 * default is per action: an action that has rules in the file is DENIED by default (a file
 * that restricts `register_frameworks` restricts it for everyone not listed), an action the
 * file does not mention is allowed. `"permissive": true` allows every unmatched request and
 * `"permissive": false` denies every unmatched request, mentioned or not.
 */
import { readFileSync } from 'node:fs';

/** Every action an ACL file may name, with the name of its object entity. */
export const ACL_ACTIONS = {
  /** May a principal register (subscribe) a framework in these roles? */
  register_frameworks: 'roles',
  /** May a principal's framework run tasks and executors as these OS users? */
  run_tasks: 'users',
  /** May a principal tear down frameworks registered by these principals? */
  teardown_frameworks: 'framework_principals',
  /** May a principal reserve resources for these roles? */
  reserve_resources: 'roles',
  /** May a principal unreserve resources reserved by these principals? */
  unreserve_resources: 'reserver_principals',
  /** May a principal set the quota of these roles? */
  update_quotas: 'roles',
  /** May a principal set the weight of these roles? */
  update_weights: 'roles',
  /** May a principal read the sandboxes of tasks running as these users? */
  access_sandboxes: 'users',
  /** May a principal register agents (object: the agent's hostname)? */
  register_agents: 'agents',
  /** May a principal drain or reactivate these agents (hostnames)? */
  drain_agents: 'agents',
  /** May a principal call these operator API methods (e.g. "GetState", "Teardown")? */
  operator_api: 'methods',
} as const;

export type AclAction = keyof typeof ACL_ACTIONS;

/** An entity as written in the file. */
export type AclEntity = { type: 'ANY' | 'NONE' } | { values: string[] };

interface Rule {
  principals: AclEntity;
  objects: AclEntity;
}

/** A parsed ACL file. */
export interface Acls {
  permissive: boolean | undefined;
  rules: Map<AclAction, Rule[]>;
}

/** The answer to one question. `reason` is a sentence fit for an error message. */
export interface AclVerdict {
  allowed: boolean;
  reason: string;
}

function entity(v: unknown, where: string): AclEntity {
  const e = (v ?? {}) as { type?: unknown; values?: unknown };
  if (e.type !== undefined) {
    const t = String(e.type).toUpperCase();
    if (t !== 'ANY' && t !== 'NONE') throw new Error(`${where}.type must be "ANY" or "NONE", got ${JSON.stringify(e.type)}`);
    return { type: t };
  }
  if (Array.isArray(e.values) && e.values.every((x) => typeof x === 'string')) return { values: e.values as string[] };
  throw new Error(`${where} must be {"type": "ANY"}, {"type": "NONE"} or {"values": ["…"]}`);
}

/** Parses ACLs from JSON text; throws an Error naming the bad part. */
export function parseAcls(text: string, source = 'acls'): Acls {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new Error(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${source}: expected a JSON object of actions`);
  const rules = new Map<AclAction, Rule[]>();
  let permissive: boolean | undefined;
  for (const [key, value] of Object.entries(doc as Record<string, unknown>)) {
    if (key === 'permissive') {
      if (typeof value !== 'boolean') throw new Error(`${source}: permissive must be true or false`);
      permissive = value;
      continue;
    }
    if (!(key in ACL_ACTIONS)) throw new Error(`${source}: unknown action '${key}' (known: permissive, ${Object.keys(ACL_ACTIONS).join(', ')})`);
    const action = key as AclAction;
    const objectName = ACL_ACTIONS[action];
    if (!Array.isArray(value)) throw new Error(`${source}: ${key} must be a list of rules`);
    rules.set(action, value.map((r, i) => {
      const where = `${source}: ${key}[${i}]`;
      if (!r || typeof r !== 'object') throw new Error(`${where} must be an object`);
      const rec = r as Record<string, unknown>;
      for (const k of Object.keys(rec)) if (k !== 'principals' && k !== objectName) throw new Error(`${where}: unknown field '${k}' (expected principals and ${objectName})`);
      return { principals: entity(rec.principals, `${where}.principals`), objects: entity(rec[objectName], `${where}.${objectName}`) };
    }));
  }
  return { permissive, rules };
}

/** Reads and parses an ACL file. */
export function readAclsFile(path: string): Acls {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the ACL file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseAcls(text, path);
}

const isNone = (e: AclEntity): boolean => 'type' in e && e.type === 'NONE';

function matches(e: AclEntity, value: string | undefined): boolean {
  if ('type' in e) return true; // ANY matches everything; NONE matches everything and denies.
  return value !== undefined && value !== '' && e.values.includes(value);
}

function subjectMatches(e: AclEntity, principal: string | undefined): boolean {
  if (!principal) return 'type' in e;
  return matches(e, principal);
}

/**
 * Whether `principal` (undefined/'' when unauthenticated) may do `action` on `object`.
 * `acls` undefined: no ACLs configured, everything is allowed.
 */
export function authorize(acls: Acls | undefined, action: AclAction, principal: string | undefined, object: string): AclVerdict {
  const who = principal ? `principal '${principal}'` : 'an unauthenticated client';
  if (!acls) return { allowed: true, reason: `${who} may ${describe(action, object)} (no ACLs configured)` };
  const list = acls.rules.get(action);
  for (const [i, rule] of (list ?? []).entries()) {
    if (!subjectMatches(rule.principals, principal) || !matches(rule.objects, object)) continue;
    const allowed = !isNone(rule.principals) && !isNone(rule.objects);
    return { allowed, reason: `${who} ${allowed ? 'may' : 'is not allowed to'} ${describe(action, object)} (ACL ${action}[${i}])` };
  }
  const allowed = acls.permissive ?? list === undefined;
  return { allowed, reason: `${who} ${allowed ? 'may' : 'is not allowed to'} ${describe(action, object)} (no ${action} ACL matches${allowed ? '' : '; the default is deny'})` };
}

function describe(action: AclAction, object: string): string {
  switch (action) {
    case 'register_frameworks': return `register frameworks in role '${object}'`;
    case 'run_tasks': return `run tasks as user '${object}'`;
    case 'teardown_frameworks': return `tear down frameworks of principal '${object}'`;
    case 'reserve_resources': return `reserve resources for role '${object}'`;
    case 'unreserve_resources': return `unreserve resources reserved by principal '${object}'`;
    case 'update_quotas': return `set the quota of role '${object}'`;
    case 'update_weights': return `set the weight of role '${object}'`;
    case 'access_sandboxes': return `read sandboxes of tasks running as user '${object}'`;
    case 'register_agents': return `register agent '${object}'`;
    case 'drain_agents': return `drain agent '${object}'`;
    case 'operator_api': return `call the operator API method ${object}`;
  }
}

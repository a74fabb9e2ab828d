/**
 * The app definition (Marathon 1.x field names) and its validation. `validateApp` is pure
 * (CONVENTIONS §4): it takes untrusted JSON and returns either a fully defaulted `AppSpec` or
 * every problem found, each naming its field — so a 422 lists them all at once and nothing is
 * half-applied.
 */

export type ConstraintOperator = 'UNIQUE' | 'CLUSTER' | 'GROUP_BY' | 'LIKE' | 'UNLIKE' | 'MAX_PER' | 'IS';
export const CONSTRAINT_OPERATORS: readonly ConstraintOperator[] = ['UNIQUE', 'CLUSTER', 'GROUP_BY', 'LIKE', 'UNLIKE', 'MAX_PER', 'IS'];

/** `[field, operator, value?]` as in Marathon: `["hostname", "UNIQUE"]`, `["rack", "GROUP_BY", "3"]`. */
export type Constraint = [string, ConstraintOperator, string?];

export interface PortDefinition {
  /** 0: any port from the offer. Fixed host ports are not supported (yet): use 0. */
  port: number;
  name?: string;
  protocol?: 'tcp' | 'udp';
  labels?: Record<string, string>;
}

export interface FetchUri {
  uri: string;
  executable?: boolean;
  extract?: boolean;
  cache?: boolean;
  outputFile?: string;
}

export type HealthProtocol = 'HTTP' | 'TCP' | 'COMMAND';

export interface HealthCheck {
  protocol: HealthProtocol;
  /** HTTP: request path. @default '/' */
  path: string;
  /** Which of the app's ports (index into portDefinitions). @default 0 */
  portIndex: number;
  /** COMMAND: a shell command run with HOST, PORT, PORT0… set; exit 0 = healthy. */
  command?: { value: string };
  /** Failures during this period after the task started do not count. @default 300 */
  gracePeriodSeconds: number;
  /** @default 60 */
  intervalSeconds: number;
  /** @default 20 */
  timeoutSeconds: number;
  /** Consecutive failures after which the instance is killed; 0 = never kill. @default 3 */
  maxConsecutiveFailures: number;
  /** HTTP: statuses 200-399 are healthy unless this lists others. @default [] (2xx/3xx) */
  ignoreHttp1xx?: boolean;
}

export interface ReadinessCheck {
  name: string;
  protocol: 'HTTP';
  path: string;
  portIndex: number;
  /** @default 30 */
  intervalSeconds: number;
  /** @default 10 */
  timeoutSeconds: number;
  /** @default [200] */
  httpStatusCodesForReady: number[];
}

export interface UpgradeStrategy {
  /** Fraction of `instances` that must stay healthy during an upgrade. @default 1 */
  minimumHealthCapacity: number;
  /** Fraction of `instances` that may run on top during an upgrade. @default 1 */
  maximumOverCapacity: number;
}

export interface UnreachableStrategy {
  /** An unreachable instance is replaced after this long. @default 0 (at once) */
  inactiveAfterSeconds: number;
  /** …and forgotten (killed if it comes back) after this long. @default 0 */
  expungeAfterSeconds: number;
}

/** A validated app with every default filled in. */
export interface AppSpec {
  id: string;
  cmd?: string;
  args?: string[];
  cpus: number;
  mem: number;
  disk: number;
  instances: number;
  env: Record<string, string>;
  labels: Record<string, string>;
  portDefinitions: PortDefinition[];
  fetch: FetchUri[];
  constraints: Constraint[];
  healthChecks: HealthCheck[];
  readinessChecks: ReadinessCheck[];
  upgradeStrategy: UpgradeStrategy;
  backoffSeconds: number;
  backoffFactor: number;
  maxLaunchDelaySeconds: number;
  killSelection: 'YOUNGEST_FIRST' | 'OLDEST_FIRST';
  /** `'disabled'`: unreachable instances are never replaced while they may come back. */
  unreachableStrategy: UnreachableStrategy | 'disabled';
  taskKillGracePeriodSeconds?: number;
  role: string;
  /** App IDs that must have finished deploying before this one starts. @default [] */
  dependencies: string[];
}

export interface FieldError {
  /** JSON pointer-ish path of the field, e.g. `/constraints/0/1`. */
  path: string;
  message: string;
}

export type Validated<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** What the validator needs from the framework. */
export interface ValidationContext {
  /** Roles the framework subscribed with. @default ['*'] */
  roles?: readonly string[];
}

const ID_SEGMENT = /^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;
const KNOWN_FIELDS = new Set([
  'id', 'cmd', 'args', 'cpus', 'mem', 'disk', 'gpus', 'instances', 'env', 'labels', 'portDefinitions', 'ports', 'fetch', 'uris',
  'constraints', 'healthChecks', 'readinessChecks', 'upgradeStrategy', 'backoffSeconds', 'backoffFactor',
  'maxLaunchDelaySeconds', 'killSelection', 'unreachableStrategy', 'taskKillGracePeriodSeconds', 'role', 'dependencies',
  // Read-only fields that GET returns; accepted (and ignored) so a GET → edit → PUT round trip works.
  'version', 'versionInfo', 'tasksStaged', 'tasksRunning', 'tasksHealthy', 'tasksUnhealthy', 'deployments', 'tasks', 'lastTaskFailure',
  'user', 'executor', 'requirePorts', 'container', 'networks',
]);

/** Normalises an app ID: `shop/web` → `/shop/web`, relative to `base` (a group). */
export function absoluteId(id: string, base = '/'): string {
  const raw = id.startsWith('/') ? id : `${base.replace(/\/+$/, '')}/${id}`;
  const parts: string[] = [];
  for (const p of raw.split('/')) {
    if (!p || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return `/${parts.join('/')}`;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks an app definition (already parsed JSON). Returns every problem, or the app with its
 * defaults. `base` makes relative IDs absolute (groups).
 */
export function validateApp(input: unknown, ctx: ValidationContext = {}, base = '/'): Validated<AppSpec> {
  const errors: FieldError[] = [];
  const err = (path: string, message: string): void => { errors.push({ path, message }); };
  if (!isObj(input)) return { ok: false, errors: [{ path: '/', message: 'an app definition must be a JSON object' }] };
  const a = input;
  for (const k of Object.keys(a)) if (!KNOWN_FIELDS.has(k)) err(`/${k}`, `unknown field '${k}'`);

  // id
  let id = '';
  if (typeof a.id !== 'string' || a.id.trim() === '') err('/id', 'id is required: a path such as /shop/web');
  else {
    id = absoluteId(a.id.trim(), base);
    if (id === '/') err('/id', 'id must name an app, not the root group');
    for (const seg of id.split('/').slice(1)) {
      if (!ID_SEGMENT.test(seg)) { err('/id', `id segment '${seg}' must be lower-case letters, digits, '-' and '.', starting and ending with a letter or digit`); break; }
    }
  }

  // cmd / args
  const hasCmd = a.cmd !== undefined && a.cmd !== null;
  const hasArgs = a.args !== undefined && a.args !== null;
  if (hasCmd && hasArgs) err('/cmd', 'give either cmd or args, not both');
  if (!hasCmd && !hasArgs) err('/cmd', 'cmd (a shell command line) or args (an argv array) is required');
  if (hasCmd && (typeof a.cmd !== 'string' || a.cmd.trim() === '')) err('/cmd', 'cmd must be a non-empty string');
  if (hasArgs && (!Array.isArray(a.args) || a.args.length === 0 || a.args.some((x) => typeof x !== 'string'))) err('/args', 'args must be a non-empty array of strings');

  const num = (field: string, def: number, opts: { min?: number; gt?: number; int?: boolean; max?: number } = {}): number => {
    const v = a[field];
    if (v === undefined || v === null) return def;
    if (typeof v !== 'number' || !Number.isFinite(v)) { err(`/${field}`, `${field} must be a number, got ${JSON.stringify(v)}`); return def; }
    if (opts.int && !Number.isInteger(v)) err(`/${field}`, `${field} must be a whole number, got ${v}`);
    if (opts.min !== undefined && v < opts.min) err(`/${field}`, `${field} must be ≥ ${opts.min}, got ${v}`);
    if (opts.gt !== undefined && v <= opts.gt) err(`/${field}`, `${field} must be > ${opts.gt}, got ${v}`);
    if (opts.max !== undefined && v > opts.max) err(`/${field}`, `${field} must be ≤ ${opts.max}, got ${v}`);
    return v;
  };
  const cpus = num('cpus', 1, { gt: 0 });
  const mem = num('mem', 128, { gt: 0 });
  const disk = num('disk', 0, { min: 0 });
  if (a.gpus !== undefined && a.gpus !== 0) err('/gpus', 'gpus are not supported');
  const instances = num('instances', 1, { min: 0, int: true, max: 100_000 });
  const backoffSeconds = num('backoffSeconds', 1, { min: 0 });
  const backoffFactor = num('backoffFactor', 1.15, { min: 1 });
  const maxLaunchDelaySeconds = num('maxLaunchDelaySeconds', 300, { min: 0 });
  const taskKillGracePeriodSeconds = a.taskKillGracePeriodSeconds === undefined || a.taskKillGracePeriodSeconds === null ? undefined : num('taskKillGracePeriodSeconds', 0, { min: 0 });

  const strMap = (field: string): Record<string, string> => {
    const v = a[field];
    if (v === undefined || v === null) return {};
    if (!isObj(v)) { err(`/${field}`, `${field} must be an object of strings`); return {}; }
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== 'string') err(`/${field}/${k}`, `${field}.${k} must be a string (secrets are not supported)`);
      else out[k] = x;
    }
    return out;
  };
  const env = strMap('env');
  const labels = strMap('labels');
  for (const k of Object.keys(env)) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) err(`/env/${k}`, `environment variable name '${k}' is not valid`);

  // ports
  let portDefinitions: PortDefinition[] = [];
  if (a.portDefinitions !== undefined && a.ports !== undefined) err('/ports', 'give either portDefinitions or ports, not both');
  if (Array.isArray(a.ports)) {
    a.ports.forEach((p, i) => { if (p !== 0) err(`/ports/${i}`, `only port 0 (any port from the offer) is supported, got ${JSON.stringify(p)}`); });
    portDefinitions = a.ports.map(() => ({ port: 0, protocol: 'tcp' }));
  } else if (a.ports !== undefined) err('/ports', 'ports must be an array');
  if (a.portDefinitions !== undefined) {
    if (!Array.isArray(a.portDefinitions)) err('/portDefinitions', 'portDefinitions must be an array');
    else {
      const names = new Set<string>();
      portDefinitions = a.portDefinitions.map((p, i) => {
        const path = `/portDefinitions/${i}`;
        if (!isObj(p)) { err(path, 'a port definition must be an object'); return { port: 0 }; }
        const port = p.port ?? 0;
        if (port !== 0) err(`${path}/port`, `only port 0 (a host port picked from the offer) is supported, got ${JSON.stringify(port)}`);
        if (p.name !== undefined && (typeof p.name !== 'string' || !/^[a-z0-9-]+$/.test(p.name))) err(`${path}/name`, 'name must be lower-case letters, digits and -');
        if (typeof p.name === 'string') { if (names.has(p.name)) err(`${path}/name`, `port name '${p.name}' is used twice`); names.add(p.name); }
        if (p.protocol !== undefined && p.protocol !== 'tcp' && p.protocol !== 'udp') err(`${path}/protocol`, "protocol must be 'tcp' or 'udp'");
        return { port: 0, ...(typeof p.name === 'string' ? { name: p.name } : {}), protocol: (p.protocol as 'tcp' | 'udp') ?? 'tcp', ...(isObj(p.labels) ? { labels: p.labels as Record<string, string> } : {}) };
      });
    }
  }

  // fetch
  let fetch: FetchUri[] = [];
  const fetchIn = a.fetch ?? (Array.isArray(a.uris) ? a.uris.map((uri) => ({ uri })) : undefined);
  if (fetchIn !== undefined) {
    if (!Array.isArray(fetchIn)) err('/fetch', 'fetch must be an array of { uri }');
    else fetch = fetchIn.map((f, i) => {
      if (!isObj(f) || typeof f.uri !== 'string' || !f.uri) { err(`/fetch/${i}/uri`, 'uri is required'); return { uri: '' }; }
      return { uri: f.uri, executable: f.executable === true, extract: f.extract !== false, cache: f.cache === true, ...(typeof f.outputFile === 'string' ? { outputFile: f.outputFile } : {}) };
    });
  }

  // constraints
  const constraints: Constraint[] = [];
  if (a.constraints !== undefined) {
    if (!Array.isArray(a.constraints)) err('/constraints', 'constraints must be an array of [field, operator, value?]');
    else a.constraints.forEach((c, i) => {
      const path = `/constraints/${i}`;
      const arr = Array.isArray(c) ? c : isObj(c) ? [c.fieldName, c.operator, c.value] : undefined;
      if (!arr || arr.length < 2 || arr.length > 3) { err(path, 'a constraint is [field, operator] or [field, operator, value]'); return; }
      const [field, op, value] = arr as unknown[];
      if (typeof field !== 'string' || !field) { err(`${path}/0`, 'constraint field must be a non-empty string (hostname or an agent attribute)'); return; }
      if (typeof op !== 'string' || !CONSTRAINT_OPERATORS.includes(op as ConstraintOperator)) {
        err(`${path}/1`, `unknown constraint operator ${JSON.stringify(op)}; use one of ${CONSTRAINT_OPERATORS.join(', ')}`);
        return;
      }
      if (value !== undefined && value !== null && typeof value !== 'string') { err(`${path}/2`, 'constraint value must be a string'); return; }
      const v = value ?? undefined;
      switch (op) {
        case 'UNIQUE':
          if (v !== undefined) err(`${path}/2`, 'UNIQUE takes no value');
          break;
        case 'CLUSTER': break; // without a value: wherever the first instance landed
        case 'IS': case 'LIKE': case 'UNLIKE':
          if (v === undefined) { err(`${path}/2`, `${op} needs a value`); return; }
          if (op === 'LIKE' || op === 'UNLIKE') { try { new RegExp(`^(?:${v})$`); } catch { err(`${path}/2`, `${op} value '${v}' is not a valid regular expression`); return; } }
          break;
        case 'GROUP_BY':
          if (v !== undefined && !/^[1-9]\d*$/.test(v)) { err(`${path}/2`, 'GROUP_BY value must be a positive whole number (the number of groups)'); return; }
          break;
        case 'MAX_PER':
          if (v === undefined || !/^[1-9]\d*$/.test(v)) { err(`${path}/2`, 'MAX_PER needs a positive whole number'); return; }
          break;
      }
      constraints.push(v === undefined ? [field, op as ConstraintOperator] : [field, op as ConstraintOperator, v]);
    });
  }

  // health checks
  const healthChecks: HealthCheck[] = [];
  if (a.healthChecks !== undefined) {
    if (!Array.isArray(a.healthChecks)) err('/healthChecks', 'healthChecks must be an array');
    else a.healthChecks.forEach((h, i) => {
      const path = `/healthChecks/${i}`;
      if (!isObj(h)) { err(path, 'a health check must be an object'); return; }
      const protocol = String(h.protocol ?? 'HTTP').toUpperCase().replace(/^MESOS_/, '');
      if (protocol !== 'HTTP' && protocol !== 'TCP' && protocol !== 'COMMAND' && protocol !== 'HTTPS') { err(`${path}/protocol`, `protocol must be HTTP, TCP or COMMAND, got ${JSON.stringify(h.protocol)}`); return; }
      const hnum = (f: string, def: number, min: number): number => {
        const v = h[f];
        if (v === undefined || v === null) return def;
        if (typeof v !== 'number' || !Number.isFinite(v) || v < min) { err(`${path}/${f}`, `${f} must be a number ≥ ${min}`); return def; }
        return v;
      };
      const portIndex = hnum('portIndex', 0, 0);
      if (protocol !== 'COMMAND' && portIndex >= portDefinitions.length) err(`${path}/portIndex`, `portIndex ${portIndex} names no port: the app defines ${portDefinitions.length} port(s)`);
      let command: { value: string } | undefined;
      if (protocol === 'COMMAND') {
        const c = h.command;
        const value = typeof c === 'string' ? c : isObj(c) && typeof c.value === 'string' ? c.value : undefined;
        if (!value) err(`${path}/command`, 'a COMMAND health check needs command: { value: "…" }');
        else command = { value };
      }
      const intervalSeconds = hnum('intervalSeconds', 60, 0.05);
      const timeoutSeconds = hnum('timeoutSeconds', 20, 0.05);
      if (timeoutSeconds > intervalSeconds && h.timeoutSeconds !== undefined) err(`${path}/timeoutSeconds`, 'timeoutSeconds must not exceed intervalSeconds');
      healthChecks.push({
        protocol: protocol === 'HTTPS' ? 'HTTP' : protocol,
        path: typeof h.path === 'string' ? h.path : '/',
        portIndex,
        ...(command ? { command } : {}),
        gracePeriodSeconds: hnum('gracePeriodSeconds', 300, 0),
        intervalSeconds,
        timeoutSeconds: Math.min(timeoutSeconds, intervalSeconds),
        maxConsecutiveFailures: hnum('maxConsecutiveFailures', 3, 0),
      });
    });
  }

  const readinessChecks: ReadinessCheck[] = [];
  if (a.readinessChecks !== undefined) {
    if (!Array.isArray(a.readinessChecks)) err('/readinessChecks', 'readinessChecks must be an array');
    else a.readinessChecks.forEach((r, i) => {
      const path = `/readinessChecks/${i}`;
      if (!isObj(r)) { err(path, 'a readiness check must be an object'); return; }
      const portIndex = typeof r.portIndex === 'number' ? r.portIndex : 0;
      if (portIndex >= portDefinitions.length) err(`${path}/portIndex`, `portIndex ${portIndex} names no port`);
      const codes = Array.isArray(r.httpStatusCodesForReady) ? r.httpStatusCodesForReady.filter((c): c is number => typeof c === 'number') : [200];
      readinessChecks.push({
        name: typeof r.name === 'string' ? r.name : `readiness-${i}`,
        protocol: 'HTTP',
        path: typeof r.path === 'string' ? r.path : '/',
        portIndex,
        intervalSeconds: typeof r.intervalSeconds === 'number' && r.intervalSeconds > 0 ? r.intervalSeconds : 30,
        timeoutSeconds: typeof r.timeoutSeconds === 'number' && r.timeoutSeconds > 0 ? r.timeoutSeconds : 10,
        httpStatusCodesForReady: codes.length ? codes : [200],
      });
    });
  }

  // upgrade strategy
  const upgradeStrategy: UpgradeStrategy = { minimumHealthCapacity: 1, maximumOverCapacity: 1 };
  if (a.upgradeStrategy !== undefined) {
    if (!isObj(a.upgradeStrategy)) err('/upgradeStrategy', 'upgradeStrategy must be an object');
    else for (const f of ['minimumHealthCapacity', 'maximumOverCapacity'] as const) {
      const v = a.upgradeStrategy[f];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) err(`/upgradeStrategy/${f}`, `${f} must be a number between 0 and 1, got ${JSON.stringify(v)}`);
      else upgradeStrategy[f] = v;
    }
  }

  let killSelection: AppSpec['killSelection'] = 'YOUNGEST_FIRST';
  if (a.killSelection !== undefined) {
    if (a.killSelection !== 'YOUNGEST_FIRST' && a.killSelection !== 'OLDEST_FIRST') err('/killSelection', 'killSelection must be YOUNGEST_FIRST or OLDEST_FIRST');
    else killSelection = a.killSelection;
  }

  let unreachableStrategy: AppSpec['unreachableStrategy'] = { inactiveAfterSeconds: 0, expungeAfterSeconds: 0 };
  if (a.unreachableStrategy !== undefined) {
    const u = a.unreachableStrategy;
    if (u === 'disabled') unreachableStrategy = 'disabled';
    else if (!isObj(u)) err('/unreachableStrategy', 'unreachableStrategy must be "disabled" or { inactiveAfterSeconds, expungeAfterSeconds }');
    else {
      const ia = u.inactiveAfterSeconds ?? 0;
      const ex = u.expungeAfterSeconds ?? 0;
      if (typeof ia !== 'number' || ia < 0) err('/unreachableStrategy/inactiveAfterSeconds', 'inactiveAfterSeconds must be a number ≥ 0');
      if (typeof ex !== 'number' || ex < 0) err('/unreachableStrategy/expungeAfterSeconds', 'expungeAfterSeconds must be a number ≥ 0');
      if (typeof ia === 'number' && typeof ex === 'number' && ex < ia) err('/unreachableStrategy/expungeAfterSeconds', 'expungeAfterSeconds must be ≥ inactiveAfterSeconds');
      unreachableStrategy = { inactiveAfterSeconds: Number(ia) || 0, expungeAfterSeconds: Number(ex) || 0 };
    }
  }

  const roles = ctx.roles ?? ['*'];
  let role = roles[0] ?? '*';
  if (a.role !== undefined) {
    if (typeof a.role !== 'string' || !a.role) err('/role', 'role must be a non-empty string');
    else if (!roles.includes(a.role)) err('/role', `role '${a.role}' is not one of the framework's roles (${roles.join(', ')})`);
    else role = a.role;
  }

  const dependencies: string[] = [];
  if (a.dependencies !== undefined) {
    if (!Array.isArray(a.dependencies) || a.dependencies.some((d) => typeof d !== 'string' || !d)) err('/dependencies', 'dependencies must be an array of app IDs');
    else for (const d of a.dependencies as string[]) {
      const abs = absoluteId(d, id ? id.slice(0, id.lastIndexOf('/')) || '/' : base);
      if (abs === id) err('/dependencies', 'an app cannot depend on itself');
      dependencies.push(abs);
    }
  }

  if (errors.length > 0) return { ok: false, errors };
  const app: AppSpec = {
    id, cpus, mem, disk, instances, env, labels, portDefinitions, fetch, constraints, healthChecks, readinessChecks,
    upgradeStrategy, backoffSeconds, backoffFactor, maxLaunchDelaySeconds, killSelection, unreachableStrategy, role, dependencies,
    ...(hasCmd ? { cmd: a.cmd as string } : { args: [...(a.args as string[])] }),
    ...(taskKillGracePeriodSeconds !== undefined ? { taskKillGracePeriodSeconds } : {}),
  };
  return { ok: true, value: app };
}

/** Fields whose change needs new instances (everything except `instances`). */
export function configKey(app: AppSpec): string {
  const { instances: _n, ...rest } = app;
  return JSON.stringify(rest);
}

/** How many instances must stay healthy, and how many may run at most, during an upgrade. */
export function capacityBounds(app: Pick<AppSpec, 'instances' | 'upgradeStrategy'>): { minHealthy: number; maxTotal: number } {
  const n = app.instances;
  const minHealthy = Math.max(0, Math.ceil(n * app.upgradeStrategy.minimumHealthCapacity - 1e-9));
  let maxTotal = n + Math.floor(n * app.upgradeStrategy.maximumOverCapacity + 1e-9);
  // minimumHealthCapacity 1 with no over-capacity could never move: allow one extra (as Marathon).
  if (maxTotal <= minHealthy && n > 0) maxTotal = minHealthy + 1;
  return { minHealthy, maxTotal };
}

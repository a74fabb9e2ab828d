/**
 * AgentOptions (public, every field optional but `master`, defaults documented) and their
 * compiled form (CONVENTIONS §7): compileOptions() fills every default and converts seconds to
 * milliseconds once, so the rest of the agent never sees `undefined` or mixed units.
 */
import os from 'node:os';
import path from 'node:path';
import { DEFAULTS, createLogger, parseHostPort, systemClock, type Clock, type Logger } from '@agora/core';
import type { TaskRunner } from './runner.js';
import { compileAgentSecurity, type AgentSecurityOptions, type CompiledAgentSecurity } from './security.js';
import { ExecaTaskRunner } from './runner-execa.js';
import type { IsolationMode } from './isolation/index.js';
import { allowNonRootUsers, parseUidRange, type AllowUser } from './isolation/users.js';

/** Options of an Agent. */
export interface AgentOptions {
  /** host:port of the master, or several masters tried in turn. */
  master: string | string[];
  /** Address the agent's gRPC server (executors, files) binds to and advertises. @default '127.0.0.1' */
  host?: string;
  /** Port of the agent's gRPC server; 0 picks a free one. @default 5060 */
  port?: number;
  /**
   * Port of the HTTP server with Prometheus metrics at `/metrics`; 0 picks a free one. When left
   * to the default and that port is busy, the agent runs without metrics (and logs a warning).
   * @default 5061
   */
  httpPort?: number;
  /** Where sandboxes and the agent's ID live. @default './.agora/agent' */
  workDir?: string;
  /**
   * Resources to offer, overriding detection per name, e.g.
   * `"cpus:4;mem:8192;disk:20000;ports:[31000-32000]"`. @default detected (see detectResources)
   */
  resources?: string;
  /** Attributes, e.g. `"rack:r1;zone:a"` (text or numbers). @default none */
  attributes?: string;
  /** Hostname reported to the master and given to tasks as HOST. @default os.hostname() */
  hostname?: string;
  /** Starts task processes. @default new ExecaTaskRunner() (fakes only in unit tests) */
  runner?: TaskRunner;
  /** @default systemClock */
  clock?: Clock;
  /** @default createLogger('agent') (level from AGORA_LOG_LEVEL) */
  logger?: Logger;
  /** Seconds between heartbeats. @default the interval the master sends in REGISTERED */
  heartbeatIntervalSeconds?: number;
  /** First reconnect delay; doubles up to reconnectMaxMs. @default DEFAULTS.reconnectMinMs (100) */
  reconnectMinMs?: number;
  /** @default DEFAULTS.reconnectMaxMs (5000) */
  reconnectMaxMs?: number;
  /** Seconds to wait for REGISTERED before trying the next master. @default 10 */
  registrationTimeoutSeconds?: number;
  /** First retry of an unacknowledged status update. @default DEFAULTS.statusUpdateRetryMs (1000) */
  statusUpdateRetryMs?: number;
  /** @default DEFAULTS.statusUpdateRetryMaxMs (60000) */
  statusUpdateRetryMaxMs?: number;
  /** SIGTERM → SIGKILL grace when a kill policy gives none. @default DEFAULTS.killGracePeriodSeconds (3) */
  killGracePeriodSeconds?: number;
  /** Seconds a custom executor has to subscribe. @default DEFAULTS.executorRegistrationTimeoutSeconds (60) */
  executorRegistrationTimeoutSeconds?: number;
  /** Longest time one URI fetch may take. @default 300 */
  fetchTimeoutSeconds?: number;
  /**
   * How tasks are held to their cpus/mem/pids: 'cgroups' (v1), 'rlimits', 'none', or 'auto'
   * (cgroups where the agent can create them, else rlimits). The agent logs which at start.
   * @default 'auto'
   */
  isolation?: 'auto' | 'cgroups' | 'rlimits' | 'none';
  /** Most processes a task (or custom executor) may have at once; 0: unlimited. @default 4096 */
  taskPidsMax?: number;
  /**
   * Run each task as a user of its own, from `dynamicUidRange`, unless it names one (root
   * agents only; otherwise tasks run as the agent's user). @default true
   */
  dynamicUsers?: boolean;
  /** uids for dynamic users, "first-last"; none may belong to an account. @default '61000-61999' */
  dynamicUidRange?: string;
  /**
   * Whether a framework (by principal) may run tasks as a named user. @default any user but root
   */
  allowUser?: AllowUser;
  /** Kill tasks whose sandbox outgrows their `disk` resource. @default true */
  enforceDiskQuota?: boolean;
  /** Seconds between disk usage checks of the sandboxes. @default 15 */
  diskWatchIntervalSeconds?: number;
  /** TLS, authentication and the agent's credential towards the master. @default none (loopback only) */
  security?: AgentSecurityOptions;
}

/** AgentOptions with every default filled in and durations in milliseconds. */
export interface CompiledAgentOptions {
  masters: string[];
  host: string;
  port: number;
  httpPort: number;
  /** True when httpPort was given (a busy port is then an error, not a warning). */
  httpPortExplicit: boolean;
  workDir: string;
  resources: string | undefined;
  attributes: string | undefined;
  hostname: string;
  runner: TaskRunner;
  clock: Clock;
  logger: Logger;
  heartbeatIntervalMs: number | undefined;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  registrationTimeoutMs: number;
  statusUpdateRetryMs: number;
  statusUpdateRetryMaxMs: number;
  killGracePeriodMs: number;
  executorRegistrationTimeoutMs: number;
  fetchTimeoutMs: number;
  isolation: IsolationMode;
  taskPidsMax: number;
  dynamicUsers: boolean;
  dynamicUidRange: [number, number];
  allowUser: AllowUser;
  enforceDiskQuota: boolean;
  diskWatchIntervalMs: number;
  security: CompiledAgentSecurity;
}

/** The agent's metrics port unless told otherwise (the gRPC port is 5060). */
export const DEFAULT_HTTP_PORT = 5061;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new Error(`option ${name} must be a non-negative number, got ${String(value)}`);
  return value;
}

/** Fills defaults and validates; throws an Error naming the bad option. */
export function compileOptions(options: AgentOptions): CompiledAgentOptions {
  if (!options || options.master === undefined) throw new Error('option master is required (host:port of the master)');
  const masters = (Array.isArray(options.master) ? options.master : options.master.split(','))
    .map((m) => m.trim())
    .filter(Boolean);
  if (masters.length === 0) throw new Error('option master names no master (expected host:port)');
  for (const m of masters) parseHostPort(m, DEFAULTS.masterPort);
  const port = options.port ?? DEFAULTS.agentPort;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`option port must be 0-65535, got ${port}`);
  const httpPort = options.httpPort ?? DEFAULT_HTTP_PORT;
  if (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65535) throw new Error(`option httpPort must be 0-65535, got ${httpPort}`);
  const reconnectMinMs = positive('reconnectMinMs', options.reconnectMinMs, DEFAULTS.reconnectMinMs);
  const statusUpdateRetryMs = positive('statusUpdateRetryMs', options.statusUpdateRetryMs, DEFAULTS.statusUpdateRetryMs);
  const hb = options.heartbeatIntervalSeconds;
  const isolation = options.isolation ?? 'auto';
  if (!['auto', 'cgroups', 'rlimits', 'none'].includes(isolation)) throw new Error(`option isolation must be auto, cgroups, rlimits or none, got '${String(isolation)}'`);
  const diskWatchIntervalMs = positive('diskWatchIntervalSeconds', options.diskWatchIntervalSeconds, 15) * 1000;
  if (diskWatchIntervalMs < 100) throw new Error('option diskWatchIntervalSeconds must be at least 0.1');
  return {
    masters: masters.map((m) => (m.includes(':') ? m : `${m}:${DEFAULTS.masterPort}`)),
    host: options.host ?? DEFAULTS.bindHost,
    port,
    httpPort,
    httpPortExplicit: options.httpPort !== undefined,
    workDir: path.resolve(options.workDir ?? path.join(DEFAULTS.workDir, 'agent')),
    resources: options.resources,
    attributes: options.attributes,
    hostname: options.hostname ?? os.hostname(),
    runner: options.runner ?? new ExecaTaskRunner(),
    clock: options.clock ?? systemClock,
    logger: options.logger ?? createLogger('agent'),
    heartbeatIntervalMs: hb === undefined ? undefined : positive('heartbeatIntervalSeconds', hb, 0) * 1000,
    reconnectMinMs,
    reconnectMaxMs: Math.max(reconnectMinMs, positive('reconnectMaxMs', options.reconnectMaxMs, DEFAULTS.reconnectMaxMs)),
    registrationTimeoutMs: positive('registrationTimeoutSeconds', options.registrationTimeoutSeconds, 10) * 1000,
    statusUpdateRetryMs,
    statusUpdateRetryMaxMs: Math.max(statusUpdateRetryMs, positive('statusUpdateRetryMaxMs', options.statusUpdateRetryMaxMs, DEFAULTS.statusUpdateRetryMaxMs)),
    killGracePeriodMs: positive('killGracePeriodSeconds', options.killGracePeriodSeconds, DEFAULTS.killGracePeriodSeconds) * 1000,
    executorRegistrationTimeoutMs: positive('executorRegistrationTimeoutSeconds', options.executorRegistrationTimeoutSeconds, DEFAULTS.executorRegistrationTimeoutSeconds) * 1000,
    fetchTimeoutMs: positive('fetchTimeoutSeconds', options.fetchTimeoutSeconds, 300) * 1000,
    isolation,
    taskPidsMax: Math.floor(positive('taskPidsMax', options.taskPidsMax, 4096)),
    dynamicUsers: options.dynamicUsers ?? true,
    dynamicUidRange: parseUidRange(options.dynamicUidRange ?? '61000-61999'),
    allowUser: options.allowUser ?? allowNonRootUsers,
    enforceDiskQuota: options.enforceDiskQuota ?? true,
    diskWatchIntervalMs,
    security: compileAgentSecurity(options.security),
  };
}

/**
 * Master options: the public shape with documented defaults, compiled once (CONVENTIONS §7)
 * into a full internal object in milliseconds, so nothing else handles `undefined` or units.
 */
import { createLogger, DEFAULTS, systemClock, type Clock, type Logger } from '@agora/core';
import { join } from 'node:path';
import { createSorter, SORTER_NAMES, type AgentOrder, type Sorter, type SorterName } from './allocator/index.js';
import { compileMasterSecurity, type CompiledMasterSecurity, type MasterSecurityOptions } from './auth/master-security.js';
import type { CompiledEtcdOptions } from './master-ha.js';
import { FileRegistry } from './registry-file.js';
import type { Registry } from './registry.js';

/** Options of a Master. Every field is optional. */
export interface MasterOptions {
  /** Address to bind and advertise. @default '127.0.0.1' */
  host?: string;
  /** gRPC port (schedulers, agents, operators); 0 picks a free one. @default 5050 */
  port?: number;
  /**
   * Port of the HTTP operator API and web UI (on `host`); 0 picks a free one; false serves no
   * HTTP. @default 5051, or 0 when `port` is 0 (an ephemeral master gets an ephemeral HTTP port)
   */
  httpPort?: number | false;
  /** Seconds between utilization samples (GET /utilization, the event stream). @default 2 */
  utilizationSampleSeconds?: number;
  /** Directory of the built web UI served at / and /ui/. @default the master package's dist/ui */
  uiDir?: string;
  /** Directory of the master's state; the registry lives in `${workDir}/registry`. @default './.agora/master' */
  workDir?: string;
  /** Durable state; overrides `workDir` (ignored with `etcd`). @default new FileRegistry(`${workDir}/registry`) */
  registry?: Registry;
  /** @default systemClock */
  clock?: Clock;
  /** @default createLogger('agora-master') */
  logger?: Logger;
  /** Seconds an offer stays outstanding before it is rescinded. @default 60 */
  offerTimeoutSeconds?: number;
  /**
   * Seconds of silence (no heartbeat, or a closed stream without re-registration) after which
   * an agent is UNREACHABLE: its tasks are reported TASK_UNREACHABLE to partition-aware
   * frameworks and TASK_LOST to the others. Agents heartbeat at a third of it (or more often).
   * @default 10
   */
  agentPingTimeoutSeconds?: number;
  /**
   * After a master (re)start or failover, seconds the agents known from the registry have to
   * re-register before they are UNREACHABLE. Until then explicit reconciliation of tasks that
   * may be on them is held (answered once the agent is back or the timeout passes), never
   * TASK_LOST. @default 60
   */
  agentReregisterTimeoutSeconds?: number;
  /**
   * Seconds an agent may stay UNREACHABLE before it is GONE: its tasks become TASK_GONE
   * (partition-aware frameworks), it leaves the registry's admitted agents and is told to shut
   * down if it ever comes back. 0: never. @default 600
   */
  agentGoneSeconds?: number;
  /** Grace period of `DrainAgent` when the request gives none (seconds). @default 60 */
  drainGraceSeconds?: number;
  /** Seconds between HEARTBEAT events to schedulers; also the agents' heartbeat interval. @default 5 */
  heartbeatIntervalSeconds?: number;
  /** Milliseconds allocation waits to batch events after the first one. @default 5 */
  allocationBatchMs?: number;
  /** Allocation also runs at least this often (ms). @default 1000 */
  allocationIntervalMs?: number;
  /** Filter length when DECLINE/ACCEPT give none (seconds). @default 5 */
  refuseSeconds?: number;
  /** Fairness: a built-in sorter's name ('drf', 'random', 'priority', 'round-robin') or a Sorter. @default 'drf' */
  sorter?: SorterName | Sorter;
  /** Seed of the 'random' sorter. @default 1 */
  sorterSeed?: number;
  /** Agent order: 'spread' (most free first) or 'binpack' (least free first). @default 'spread' */
  agentOrder?: AgentOrder;
  /**
   * 'on': roles below their quota guarantee or fair share, with waiting demand, reclaim tasks
   * from roles above theirs (inverse offer, then a kill after the grace period; the update says
   * REASON_CONTAINER_PREEMPTED). Tasks labelled `agora.preemptible=false` are never taken.
   * @default 'off'
   */
  preemption?: 'off' | 'on';
  /** Seconds between the inverse offer and the kill. @default 5 */
  preemptionGraceSeconds?: number;
  /** Completed tasks kept for the operator API and reconciliation. @default 10000 */
  maxCompletedTasks?: number;
  /**
   * etcd endpoints (`http://host:port`, one or several). Set: this master is one candidate of
   * several (high availability): it serves only once elected, keeps its registry in etcd
   * (`registry` and `workDir` are then ignored) and stops serving when it loses leadership.
   * @default undefined (a sole master with the file registry)
   */
  etcd?: string | string[];
  /** Lease TTL of the leader, whole seconds ≥ 2: a dead leader is replaced within about this long. @default 5 */
  etcdTtlSeconds?: number;
  /** Prefix of every key this master uses in etcd (several clusters can share one etcd). @default '/agora/' */
  etcdPrefix?: string;
  /**
   * Standbys watch the leader's port and, when it refuses connections (the leader's process is
   * gone), revoke its lease at once instead of waiting for the TTL. Turn off only where a
   * firewall may answer a live leader's port with TCP resets. @default true
   */
  etcdFastFailover?: boolean;
  /**
   * Called once when this master, having been elected, lost leadership (or could not take
   * over) and stopped serving. A deposed master never serves again: the CLI exits non-zero so
   * that a supervisor starts a fresh candidate, as Mesos masters do.
   * @default logs the reason
   */
  onLeadershipLost?: (reason: string) => void;
  /**
   * TLS, authentication (credentials, client certificates), ACLs and rate limits.
   * @default none: plaintext and open, which is allowed on loopback addresses only
   */
  security?: MasterSecurityOptions;
}

/**
 * Mesos waits 10 min (`agent_reregister_timeout`) for large clusters whose agents back off for
 * long; ours reconnect within seconds (backoff ≤ 5 s), so a minute covers a failover with room.
 */
export const DEFAULT_AGENT_REREGISTER_TIMEOUT_SECONDS = 60;
/** Unreachable for 10 min: long enough for a reboot or a network repair, short enough to free the books. */
export const DEFAULT_AGENT_GONE_SECONDS = 600;
/** The HTTP operator API's port (the gRPC port + 1, as Agora's other defaults are laid out). */
export const DEFAULT_HTTP_PORT = 5051;
/** A drain lets tasks finish for a minute before killing what is left. */
export const DEFAULT_DRAIN_GRACE_SECONDS = 60;

/** MasterOptions with every default filled in and durations in milliseconds. */
export interface CompiledMasterOptions {
  host: string;
  port: number;
  /** undefined: no HTTP server. */
  httpPort: number | undefined;
  utilizationSampleSeconds: number;
  uiDir: string | undefined;
  workDir: string;
  registry: Registry;
  clock: Clock;
  logger: Logger;
  offerTimeoutMs: number;
  agentPingTimeoutMs: number;
  agentReregisterTimeoutMs: number;
  /** 0: agents are never marked GONE. */
  agentGoneMs: number;
  drainGraceSeconds: number;
  /** Heartbeat interval given to agents: ≤ a third of the ping timeout, so one late beat is no failure. */
  agentHeartbeatIntervalSeconds: number;
  heartbeatIntervalSeconds: number;
  heartbeatIntervalMs: number;
  allocationBatchMs: number;
  allocationIntervalMs: number;
  refuseSeconds: number;
  sorter: Sorter;
  agentOrder: AgentOrder;
  preemption: boolean;
  preemptionGraceMs: number;
  maxCompletedTasks: number;
  /** etcd settings when running in high availability. */
  etcd: CompiledEtcdOptions | undefined;
  /** Undefined: the master only logs. */
  onLeadershipLost: ((reason: string) => void) | undefined;
  security: CompiledMasterSecurity;
}

function nonNegative(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new Error(`master option ${name} must be a finite number ≥ 0, got ${String(v)}`);
  return x;
}

function positive(name: string, v: number | undefined, dflt: number): number {
  const x = nonNegative(name, v, dflt);
  if (x === 0) throw new Error(`master option ${name} must be > 0`);
  return x;
}

function oneOf<T extends string>(name: string, v: T | undefined, allowed: readonly T[], dflt: T): T {
  const x = v ?? dflt;
  if (!allowed.includes(x)) throw new Error(`master option ${name} must be one of ${allowed.join(', ')}, got '${String(v)}'`);
  return x;
}

function checkedSorter(v: SorterName | undefined): SorterName {
  return oneOf('sorter', v, SORTER_NAMES, 'drf');
}

/** Fills in defaults and checks values; throws an Error naming the bad option. */
export function compileOptions(o: MasterOptions = {}): CompiledMasterOptions {
  const port = o.port ?? DEFAULTS.masterPort;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`master option port must be an integer 0-65535, got ${String(o.port)}`);
  const httpPort = o.httpPort === false ? undefined : o.httpPort ?? (port === 0 ? 0 : DEFAULT_HTTP_PORT);
  if (httpPort !== undefined && (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65535)) throw new Error(`master option httpPort must be an integer 0-65535 or false, got ${String(o.httpPort)}`);
  const workDir = o.workDir ?? join(DEFAULTS.workDir, 'master');
  const heartbeatIntervalSeconds = positive('heartbeatIntervalSeconds', o.heartbeatIntervalSeconds, DEFAULTS.heartbeatIntervalSeconds);
  const agentPingTimeoutSeconds = positive('agentPingTimeoutSeconds', o.agentPingTimeoutSeconds, DEFAULTS.agentPingTimeoutSeconds);
  return {
    host: o.host ?? DEFAULTS.bindHost,
    port,
    httpPort,
    utilizationSampleSeconds: positive('utilizationSampleSeconds', o.utilizationSampleSeconds, 2),
    uiDir: o.uiDir,
    workDir,
    registry: o.registry ?? new FileRegistry(join(workDir, 'registry')),
    clock: o.clock ?? systemClock,
    logger: o.logger ?? createLogger('agora-master'),
    offerTimeoutMs: positive('offerTimeoutSeconds', o.offerTimeoutSeconds, DEFAULTS.offerTimeoutSeconds) * 1000,
    agentPingTimeoutMs: agentPingTimeoutSeconds * 1000,
    agentReregisterTimeoutMs: positive('agentReregisterTimeoutSeconds', o.agentReregisterTimeoutSeconds, DEFAULT_AGENT_REREGISTER_TIMEOUT_SECONDS) * 1000,
    agentGoneMs: nonNegative('agentGoneSeconds', o.agentGoneSeconds, DEFAULT_AGENT_GONE_SECONDS) * 1000,
    drainGraceSeconds: nonNegative('drainGraceSeconds', o.drainGraceSeconds, DEFAULT_DRAIN_GRACE_SECONDS),
    agentHeartbeatIntervalSeconds: Math.min(heartbeatIntervalSeconds, agentPingTimeoutSeconds / 3),
    heartbeatIntervalSeconds,
    heartbeatIntervalMs: heartbeatIntervalSeconds * 1000,
    allocationBatchMs: nonNegative('allocationBatchMs', o.allocationBatchMs, DEFAULTS.allocationBatchMs),
    allocationIntervalMs: positive('allocationIntervalMs', o.allocationIntervalMs, DEFAULTS.allocationIntervalMs),
    refuseSeconds: nonNegative('refuseSeconds', o.refuseSeconds, DEFAULTS.refuseSeconds),
    sorter: typeof o.sorter === 'object' && o.sorter !== null ? o.sorter : createSorter(checkedSorter(o.sorter), o.sorterSeed ?? 1),
    agentOrder: oneOf('agentOrder', o.agentOrder, ['spread', 'binpack'] as const, 'spread'),
    preemption: oneOf('preemption', o.preemption, ['off', 'on'] as const, 'off') === 'on',
    preemptionGraceMs: nonNegative('preemptionGraceSeconds', o.preemptionGraceSeconds, 5) * 1000,
    maxCompletedTasks: Math.floor(nonNegative('maxCompletedTasks', o.maxCompletedTasks, DEFAULTS.maxCompletedTasks)),
    etcd: compileEtcd(o),
    onLeadershipLost: o.onLeadershipLost,
    security: compileMasterSecurity(o.security),
  };
}

function compileEtcd(o: MasterOptions): CompiledEtcdOptions | undefined {
  if (o.etcd === undefined) return undefined;
  const endpoints = (Array.isArray(o.etcd) ? o.etcd : o.etcd.split(',')).map((e) => e.trim()).filter(Boolean)
    .map((e) => (/^[a-z]+:\/\//i.test(e) ? e : `http://${e}`));
  if (endpoints.length === 0) throw new Error('master option etcd needs at least one endpoint, e.g. http://127.0.0.1:2379');
  const ttlSeconds = o.etcdTtlSeconds ?? 5;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 2) throw new Error(`master option etcdTtlSeconds must be a whole number ≥ 2, got ${String(o.etcdTtlSeconds)}`);
  let prefix = o.etcdPrefix ?? '/agora/';
  if (!prefix.endsWith('/')) prefix += '/';
  return { endpoints, ttlSeconds, prefix, fastFailover: o.etcdFastFailover !== false };
}

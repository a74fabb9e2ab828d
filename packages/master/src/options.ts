/**
 * Master options: the public shape with documented defaults, compiled once (CONVENTIONS §7)
 * into a full internal object in milliseconds, so nothing else handles `undefined` or units.
 */
import { createLogger, DEFAULTS, systemClock, type Clock, type Logger } from '@agora/core';
import { join } from 'node:path';
import { createSorter, type Sorter, type SorterName } from './allocator/index.js';
import { FileRegistry } from './registry-file.js';
import type { Registry } from './registry.js';

/** Options of a Master. Every field is optional. */
export interface MasterOptions {
  /** Address to bind and advertise. @default '127.0.0.1' */
  host?: string;
  /** gRPC port (schedulers, agents, operators); 0 picks a free one. @default 5050 */
  port?: number;
  /** Directory of the master's state; the registry lives in `${workDir}/registry`. @default './.agora/master' */
  workDir?: string;
  /** Durable state; overrides `workDir` (an etcd registry later). @default new FileRegistry(`${workDir}/registry`) */
  registry?: Registry;
  /** @default systemClock */
  clock?: Clock;
  /** @default createLogger('agora-master') */
  logger?: Logger;
  /** Seconds an offer stays outstanding before it is rescinded. @default 60 */
  offerTimeoutSeconds?: number;
  /** Seconds of silence after which an agent is marked inactive. @default 10 */
  agentPingTimeoutSeconds?: number;
  /** Seconds between HEARTBEAT events to schedulers; also the agents' heartbeat interval. @default 5 */
  heartbeatIntervalSeconds?: number;
  /** Milliseconds allocation waits to batch events after the first one. @default 5 */
  allocationBatchMs?: number;
  /** Allocation also runs at least this often (ms). @default 1000 */
  allocationIntervalMs?: number;
  /** Filter length when DECLINE/ACCEPT give none (seconds). @default 5 */
  refuseSeconds?: number;
  /** Fairness: a built-in sorter's name or a Sorter. @default 'drf' */
  sorter?: SorterName | Sorter;
  /** Completed tasks kept for the operator API and reconciliation. @default 10000 */
  maxCompletedTasks?: number;
}

/** MasterOptions with every default filled in and durations in milliseconds. */
export interface CompiledMasterOptions {
  host: string;
  port: number;
  workDir: string;
  registry: Registry;
  clock: Clock;
  logger: Logger;
  offerTimeoutMs: number;
  agentPingTimeoutMs: number;
  heartbeatIntervalSeconds: number;
  heartbeatIntervalMs: number;
  allocationBatchMs: number;
  allocationIntervalMs: number;
  refuseSeconds: number;
  sorter: Sorter;
  maxCompletedTasks: number;
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

/** Fills in defaults and checks values; throws an Error naming the bad option. */
export function compileOptions(o: MasterOptions = {}): CompiledMasterOptions {
  const port = o.port ?? DEFAULTS.masterPort;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`master option port must be an integer 0-65535, got ${String(o.port)}`);
  const workDir = o.workDir ?? join(DEFAULTS.workDir, 'master');
  const heartbeatIntervalSeconds = positive('heartbeatIntervalSeconds', o.heartbeatIntervalSeconds, DEFAULTS.heartbeatIntervalSeconds);
  return {
    host: o.host ?? DEFAULTS.bindHost,
    port,
    workDir,
    registry: o.registry ?? new FileRegistry(join(workDir, 'registry')),
    clock: o.clock ?? systemClock,
    logger: o.logger ?? createLogger('agora-master'),
    offerTimeoutMs: positive('offerTimeoutSeconds', o.offerTimeoutSeconds, DEFAULTS.offerTimeoutSeconds) * 1000,
    agentPingTimeoutMs: positive('agentPingTimeoutSeconds', o.agentPingTimeoutSeconds, DEFAULTS.agentPingTimeoutSeconds) * 1000,
    heartbeatIntervalSeconds,
    heartbeatIntervalMs: heartbeatIntervalSeconds * 1000,
    allocationBatchMs: nonNegative('allocationBatchMs', o.allocationBatchMs, DEFAULTS.allocationBatchMs),
    allocationIntervalMs: positive('allocationIntervalMs', o.allocationIntervalMs, DEFAULTS.allocationIntervalMs),
    refuseSeconds: nonNegative('refuseSeconds', o.refuseSeconds, DEFAULTS.refuseSeconds),
    sorter: typeof o.sorter === 'object' && o.sorter !== null ? o.sorter : createSorter(o.sorter ?? 'drf'),
    maxCompletedTasks: Math.floor(nonNegative('maxCompletedTasks', o.maxCompletedTasks, DEFAULTS.maxCompletedTasks)),
  };
}

/**
 * What `LongRunningService` is configured with, and the small pieces shared by the service and
 * the modules split out of it (probes.ts, views.ts): the per-app runtime record, the timing
 * constants and the id/time helpers. Kept apart so those modules can use them without importing
 * service.ts itself (which would make an import cycle).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { silentLogger, type Logger, type Resource } from '@agora/sdk';
import type { Plan } from './planner.js';

/** Options of `LongRunningService`. */
export interface LongRunningOptions {
  /** Master address(es) host:port. */
  master: string | string[];
  /** Where the state lives (long-running-state.json). */
  workDir: string;
  /** @default 'long-running' */
  name?: string;
  /** Roles the framework subscribes with; apps pick one. @default ['*'] */
  roles?: string[];
  /** How long the master keeps our tasks while we are away (failover). @default 604800 (a week, as Marathon) */
  failoverTimeoutSeconds?: number;
  /** A deployment that makes no progress for this long is reported stalled. @default 300 */
  deploymentStepTimeoutSeconds?: number;
  /** Offers considered per app kept for "why". @default 20 */
  offerLogSize?: number;
  /** @default silent */
  logger?: Logger;
  /** @default 15000 */
  connectTimeoutMs?: number;
  /** The REST API's base URL, registered as FrameworkInfo.webui_url (the master proxies it for operators). @default none */
  webuiUrl?: string;
}

/** `LongRunningOptions` with every default filled in. */
export interface Compiled {
  master: string | string[];
  workDir: string;
  name: string;
  roles: string[];
  failoverTimeoutSeconds: number;
  deploymentStepTimeoutSeconds: number;
  offerLogSize: number;
  logger: Logger;
  connectTimeoutMs: number;
  /** Set by startLongRunning once the API listens, before subscribing. */
  webuiUrl: string | undefined;
}

export function compile(o: LongRunningOptions): Compiled {
  return {
    master: o.master,
    workDir: o.workDir,
    name: o.name ?? 'long-running',
    roles: o.roles?.length ? [...o.roles] : ['*'],
    failoverTimeoutSeconds: o.failoverTimeoutSeconds ?? 604_800,
    deploymentStepTimeoutSeconds: o.deploymentStepTimeoutSeconds ?? 300,
    offerLogSize: o.offerLogSize ?? 20,
    logger: o.logger ?? silentLogger(),
    connectTimeoutMs: o.connectTimeoutMs ?? 15_000,
    webuiUrl: o.webuiUrl,
  };
}

/** One offer as seen by one app: what happened and why. */
export interface OfferRecord {
  at: string;
  offerId: string;
  agentId: string;
  hostname: string;
  /** 'launched' or the reason class: role, cpus, mem, disk, ports, constraint. */
  outcome: string;
  reason: string;
  launched?: number;
}

/** What the service knows of an app beyond its stored record (not persisted: re-learned after a restart). */
export interface AppRuntime {
  failures: number;
  delayUntil: number;
  lastFailure?: { at: string; taskId: string; state: string; message: string };
  offers: OfferRecord[];
  summary: Record<string, number>;
  plan?: Plan;
  /** Launches wanted now (after backoff and dependencies). */
  demand: number;
  blockedBy?: string;
}

export const HOUSEKEEPING_MS = 100;
export const STAGING_RECONCILE_MS = 10_000;
/** Kill re-sent when a task did not die within its grace + this. */
export const KILL_RETRY_MS = 5_000;

export function now(): number {
  return Date.now();
}

export function iso(ms = now()): string {
  return new Date(ms).toISOString();
}

export function deploymentId(): string {
  return randomUUID();
}

export function taskIdFor(appId: string): string {
  return `${appId.slice(1).replaceAll('/', '_')}.${randomBytes(6).toString('hex')}`;
}

/** Host ports of a task, in the order the agent exports them as PORT0…. */
export function portsOf(resources: readonly Resource[]): number[] {
  const out: number[] = [];
  for (const r of resources) {
    if (r.name !== 'ports') continue;
    for (const range of r.ranges?.range ?? []) for (let p = Number(range.begin); p <= Number(range.end); p++) out.push(p);
  }
  return out;
}

/**
 * The CLI's view of @agora/master, @agora/agent and @agora/sdk: the few entry points it uses,
 * typed here. The packages are imported lazily, so that a quick command such as
 * `agora agents` does not pay for loading the master, the agent and the SDK, and a missing
 * export becomes one clear error line rather than a crash at start-up.
 */
import type { FrameworkInfo, KillPolicy, Logger, MasterInfo, Offer, Resource, TaskInfo, TaskStatus, CommandInfo, Filters } from '@agora/core';
import { UserError } from './errors.js';

/** What the CLI uses of a running master. */
export interface MasterHandle { readonly address: string; readonly httpAddress?: string; readonly httpsServed?: boolean; readonly info?: MasterInfo; stop(): Promise<void> }
/** What the CLI uses of a running agent. */
export interface AgentHandle { readonly address: string; agentId: string | undefined; readonly httpAddress?: string; stop(): Promise<void> }

/** The subset of MasterOptions the CLI sets. */
export interface CliMasterOptions {
  host?: string; port?: number; workDir?: string; logger?: Logger;
  /** HTTP operator API and web UI port (0: any free port). */
  httpPort?: number;
  /** High availability: etcd endpoints, lease TTL, what to do on losing leadership. */
  etcd?: string[]; etcdTtlSeconds?: number; etcdPrefix?: string; onLeadershipLost?: (reason: string) => void;
  /** TLS, authentication, ACLs, rate limits (MasterSecurityOptions; see security-flags.ts). */
  security?: Record<string, unknown>;
}
/** The subset of AgentOptions the CLI sets. */
export interface CliAgentOptions {
  master: string | string[]; host?: string; port?: number; workDir?: string;
  resources?: string; attributes?: string; hostname?: string; logger?: Logger;
  /** Port of the agent's /metrics server (0: any free port). */
  httpPort?: number;
  /** Isolation (see AgentOptions): cgroups|rlimits|none|auto, dynamic users, pids, disk quota. */
  isolation?: 'auto' | 'cgroups' | 'rlimits' | 'none'; dynamicUsers?: boolean; dynamicUidRange?: string;
  taskPidsMax?: number; enforceDiskQuota?: boolean; diskWatchIntervalSeconds?: number;
  /** Whether a framework (by principal) may run tasks as `user` (see AgentOptions.allowUser). */
  allowUser?: (principal: string, user: string) => boolean;
  /** TLS, authentication, the agent's credential (AgentSecurityOptions; see security-flags.ts). */
  security?: Record<string, unknown>;
}

export type SchedulerEvent =
  | { type: 'subscribed'; frameworkId: string; masterInfo: MasterInfo }
  | { type: 'offers'; offers: Offer[] }
  | { type: 'rescind'; offerId: string }
  | { type: 'update'; status: TaskStatus }
  | { type: 'message'; agentId: string; executorId: string; data: Uint8Array }
  | { type: 'failure'; agentId: string; executorId?: string; status?: number }
  | { type: 'error'; message: string }
  | { type: 'disconnected' };

/** The subset of the SDK's SchedulerDriver the CLI uses. */
export interface SchedulerDriverLike {
  readonly frameworkId: string | undefined;
  start(): Promise<string>;
  stop(options?: { failover?: boolean }): Promise<void>;
  events(): AsyncIterable<SchedulerEvent>;
  launch(offerIds: string | string[], tasks: TaskInfo[], filters?: Filters): void;
  decline(offerIds: string | string[], filters?: Filters): void;
  revive(roles?: string[]): void;
  kill(taskId: string, agentId?: string, killPolicy?: KillPolicy): void;
}

export interface CommandTaskSpec {
  name: string; taskId?: string; command: string | { value: string; arguments?: string[]; shell?: boolean };
  cpus?: number; mem?: number; disk?: number; ports?: number; env?: Record<string, string>;
  uris?: CommandInfo['uris']; labels?: Record<string, string>; killGracePeriodSeconds?: number;
}

/** The SDK pieces the CLI uses (tests pass fakes to runTask). */
export interface SdkLike {
  SchedulerDriver: new (options: { master: string | string[]; framework: FrameworkInfo; autoAcknowledge?: boolean; logger?: Logger; connectTimeoutMs?: number }) => SchedulerDriverLike;
  commandTask(offer: Offer, spec: CommandTaskSpec): TaskInfo;
  offerFits(offer: Offer, need: { cpus?: number; mem?: number; disk?: number; ports?: number } | Resource[]): boolean;
}

function missing(pkg: string, what: string): UserError {
  return new UserError(`${pkg} does not export ${what} yet (is it built? run: npx tsc -b packages/cli)`);
}

/** `startMaster` of @agora/master. */
export async function startMaster(options: CliMasterOptions): Promise<MasterHandle> {
  const fn = ((await import('@agora/master')) as Record<string, unknown>).startMaster as ((o: CliMasterOptions) => Promise<MasterHandle>) | undefined;
  if (typeof fn !== 'function') throw missing('@agora/master', 'startMaster');
  return fn(options);
}

/** `startAgent` of @agora/agent. */
export async function startAgent(options: CliAgentOptions): Promise<AgentHandle> {
  const fn = ((await import('@agora/agent')) as Record<string, unknown>).startAgent as ((o: CliAgentOptions) => Promise<AgentHandle>) | undefined;
  if (typeof fn !== 'function') throw missing('@agora/agent', 'startAgent');
  return fn(options);
}

/** The SDK pieces `agora task run` needs. */
export async function loadSdk(): Promise<SdkLike> {
  const s = (await import('@agora/sdk')) as Record<string, unknown>;
  for (const name of ['SchedulerDriver', 'commandTask', 'offerFits']) if (typeof s[name] !== 'function') throw missing('@agora/sdk', name);
  return s as unknown as SdkLike;
}

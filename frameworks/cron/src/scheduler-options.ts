/** Options of the cron scheduler, and their compiled form (defaults applied once). */
import { silentLogger, systemClock, type Clock, type Logger } from '@agora/sdk';
import { defaultExecutorCommand } from './launch.js';

/** Options of `CronScheduler.open` (and `startCron`). */
export interface CronSchedulerOptions {
  /** Master address(es) host:port. */
  master: string | string[];
  /** Where the state (jobs, runs, cursors, framework ID) is kept. */
  workDir: string;
  /** @default 'agora-cron' */
  frameworkName?: string;
  /** @default '*' */
  role?: string;
  /** How long the master keeps our tasks while we are away (restart, crash). @default 604800 (a week) */
  failoverTimeoutSeconds?: number;
  /**
   * A run is launched this long before its instant onto the cron executor, which starts it at
   * the instant. 0 = launch at the instant as a command task (no executor).
   * @default 2000
   */
  launchAheadMs?: number;
  /** Runs whose launch time falls within this window are launched together (one ACCEPT per offer). @default 250 */
  launchBatchMs?: number;
  /** How the agent starts the cron executor. @default node + this package's executor.js */
  executorCommand?: string;
  /**
   * The cron executor's own resources on each agent, held while it runs (each run adds its
   * job's on top). Starting runs costs the executor CPU (a fork and an exec per run): under
   * cgroups its CPU share caps how many runs per second an agent can start on time, so raise
   * `cpus` for agents that start tens of runs a second. `mem` fits a Node process.
   * @default { cpus: 0.25, mem: 128 }
   */
  executorResources?: { cpus?: number; mem?: number };
  /** Offers are kept (and revived) this long before a launch, so runs start on time. @default 5000 */
  readyAheadMs?: number;
  /**
   * An instant handled more than this late counts as missed (the framework or cluster was
   * down) and follows the job's missedRunPolicy; a job's startingDeadlineSeconds wins.
   * @default 5000
   */
  missedAfterMs?: number;
  /** Finished runs kept per job. @default 100 */
  historyLimit?: number;
  /** Skip fsync of the journal (benchmarks only). @default false */
  noSync?: boolean;
  /** @default systemClock */
  clock?: Clock;
  /** @default silent */
  logger?: Logger;
  /** @default 15000 */
  connectTimeoutMs?: number;
}

/** The options with every default applied. */
export interface Compiled {
  masters: string[];
  workDir: string;
  frameworkName: string;
  role: string;
  failoverTimeoutSeconds: number;
  launchAheadMs: number;
  launchBatchMs: number;
  executorCommand: string | undefined;
  executorResources: { cpus: number; mem: number };
  readyAheadMs: number;
  missedAfterMs: number;
  historyLimit: number;
  noSync: boolean;
  clock: Clock;
  logger: Logger;
  connectTimeoutMs: number;
}

export function compileOptions(o: CronSchedulerOptions): Compiled {
  if (!o.workDir) throw new Error('cron: option `workDir` is required');
  for (const k of ['launchAheadMs', 'launchBatchMs', 'readyAheadMs', 'missedAfterMs'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) throw new Error(`cron: option \`${k}\` must be a non-negative number of ms, not ${String(v)}`);
  }
  const er = { cpus: o.executorResources?.cpus ?? 0.25, mem: o.executorResources?.mem ?? 128 };
  for (const [k, v] of Object.entries(er)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`cron: option \`executorResources.${k}\` must be a positive number, not ${String(v)}`);
  }
  return {
    masters: Array.isArray(o.master) ? o.master : [o.master],
    workDir: o.workDir,
    frameworkName: o.frameworkName ?? 'agora-cron',
    role: o.role ?? '*',
    failoverTimeoutSeconds: o.failoverTimeoutSeconds ?? 7 * 86_400,
    launchAheadMs: Math.max(0, o.launchAheadMs ?? 2000),
    launchBatchMs: Math.max(0, o.launchBatchMs ?? 250),
    executorCommand: (o.launchAheadMs ?? 2000) > 0 ? o.executorCommand ?? defaultExecutorCommand() : undefined,
    executorResources: er,
    readyAheadMs: o.readyAheadMs ?? 5000,
    missedAfterMs: o.missedAfterMs ?? 5000,
    historyLimit: o.historyLimit ?? 100,
    noSync: o.noSync ?? false,
    clock: o.clock ?? systemClock,
    logger: o.logger ?? silentLogger(),
    connectTimeoutMs: o.connectTimeoutMs ?? 15_000,
  };
}


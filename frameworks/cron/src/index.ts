/**
 * @agora/cron — recurring and dependent batch jobs on Agora, in the manner of Chronos.
 *
 * ```ts
 * import { startCron } from '@agora/cron';
 * const cron = await startCron({ master: '127.0.0.1:5050', workDir: './.agora/cron', port: 4400 });
 * await cron.scheduler.putJob({ name: 'hello', command: 'echo hello', schedule: '*\/5 * * * * *' });
 * // … GET http://127.0.0.1:4400/v1/jobs/hello/history
 * await cron.stop();   // tasks keep running; a restart with the same workDir takes over
 * ```
 */
import { buildApi, listenApi, DEFAULT_CRON_PORT } from './api.js';
import { CronScheduler, type CronSchedulerOptions } from './scheduler.js';
import type { TlsOptions } from '@agora/sdk';

export { CronScheduler, CronError, runId, runOfTask } from './scheduler.js';
export type { CronSchedulerOptions } from './scheduler.js';
export { buildApi, listenApi, DEFAULT_CRON_PORT } from './api.js';
export type { CronApiOptions } from './api.js';
export { parseSchedule, nextTimes, dueTimes, parsePeriod, parseStart, ScheduleError } from './schedule.js';
export type { Schedule } from './schedule.js';
export { validateJobSpec, validateGraph, compileJob, constraintsMatch, commandOf, JOB_DEFAULTS } from './job.js';
export type { Job, JobSpec, FieldError, ConcurrencyPolicy, MissedRunPolicy, Constraint, FetchUri } from './job.js';
export type { RunRecord, RunState, RunTrigger, JobStats } from './store.js';
export { percentile, graphDot } from './stats.js';
export { CronClient, CronApiError, DEFAULT_CRON_API } from './client.js';
export { CronMetrics } from './metrics.js';
export { EXECUTOR_ID, defaultExecutorCommand } from './launch.js';
export { encodeRunSpec, decodeRunSpec } from './run-spec.js';
export type { RunSpec } from './run-spec.js';

/** Options of `startCron`: the scheduler's, plus where the API listens. */
export interface StartCronOptions extends CronSchedulerOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 = any free port. @default 4400 */
  port?: number;
  /** Serve the REST API over HTTPS with this certificate and key (PEM paths or text). @default plain HTTP */
  apiTls?: TlsOptions;
}

export interface RunningCron {
  scheduler: CronScheduler;
  /** host:port of the REST API. */
  address: string;
  frameworkId: string;
  /** Closes the API, then disconnects (failover: tasks keep running) or tears down. */
  stop(options?: { failover?: boolean }): Promise<void>;
}

/** Opens the state, starts the REST API, then subscribes to the master and starts firing. */
export async function startCron(options: StartCronOptions): Promise<RunningCron> {
  const scheduler = await CronScheduler.open(options);
  const app = await buildApi(scheduler, options.apiTls);
  let address: string;
  try {
    address = await listenApi(app, { host: options.host, port: options.port ?? DEFAULT_CRON_PORT });
  } catch (e) {
    await scheduler.stop();
    throw e;
  }
  let frameworkId: string;
  try {
    scheduler.driver.setWebuiUrl(`http://${address}`);
    frameworkId = await scheduler.start();
  } catch (e) {
    await app.close();
    await scheduler.stop();
    throw e;
  }
  return {
    scheduler,
    address,
    frameworkId,
    async stop(o = { failover: true }) {
      await app.close().catch(() => undefined);
      await scheduler.stop(o);
    },
  };
}

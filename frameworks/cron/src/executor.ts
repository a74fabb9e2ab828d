/**
 * The cron executor: a process the agent starts once per agent for the cron framework (executor
 * ID `agora-cron`), reused for every run placed there. It receives runs ahead of their instant
 * and starts each at its instant (timed-runs.ts), reporting TASK_RUNNING at the real start and
 * TASK_FINISHED / TASK_FAILED / TASK_KILLED with the command's exit code.
 *
 * Run by the agent as `node …/dist/executor.js`; it needs nothing but @agora/sdk.
 *
 * If this process dies, the agent fails its unfinished tasks (REASON_EXECUTOR_TERMINATED); the
 * scheduler relaunches those that were still waiting for their instant (they never started).
 * Commands already started are killed with it on SIGTERM/SHUTDOWN; a SIGKILL of this process
 * leaves them running (their own process groups) — see the README.
 */
import path from 'node:path';
import { ExecutorDriver, TASK_ENV } from '@agora/sdk';
import { TimedRuns } from './timed-runs.js';

const sandbox = process.env[TASK_ENV.sandbox] ?? process.cwd();
let runs: TimedRuns | undefined;

const driver = new ExecutorDriver({
  callbacks: {
    launchTask(d, task) {
      runs!.launch(task.taskId?.value ?? '', task.data);
    },
    killTask(_d, taskId) {
      runs!.kill(taskId);
    },
    shutdown() {
      runs?.killAll();
    },
  },
});
runs = new TimedRuns({ dir: path.join(sandbox, 'runs'), report: (u) => driver.sendStatusUpdate(u) });

process.once('exit', () => runs?.killAllNow());
for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    runs?.killAll(500);
    setTimeout(() => process.exit(0), 700).unref();
  });
}

try {
  await driver.start();
} catch (e) {
  process.stderr.write(`cron executor: ${(e as Error).message}\n`);
  process.exit(1);
}

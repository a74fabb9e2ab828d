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
import { PosixSpawnStarter } from './launcher.js';
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
// Runs start through the posix_spawn helper once it is up (Node's spawn until then, and where
// it cannot run); AGORA_CRON_STARTER=node keeps Node's spawn.
let helper: PosixSpawnStarter | undefined;
if (process.env.AGORA_CRON_STARTER !== 'node') {
  void PosixSpawnStarter.open((ids) => runs?.starterDied(ids)).then((s) => {
    helper = s;
    if (s) runs?.useStarter(s);
    else process.stderr.write('cron executor: no python3 ≥ 3.8 for the posix_spawn helper; starting runs with Node\'s spawn\n');
  });
}
process.once('exit', () => helper?.close());

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

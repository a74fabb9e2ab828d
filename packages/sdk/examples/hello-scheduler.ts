/** The README's example framework: one task on our own executor, one plain command task. */
import { fileURLToPath } from 'node:url';
import { SchedulerDriver, commandTask, executorTask, idOf, isTerminalState, offerFits, taskStateName } from '@agora/sdk';

// The agent starts the executor with /bin/sh inside the task's sandbox: use absolute paths.
const executorFile = fileURLToPath(new URL('./hello-executor.ts', import.meta.url));
const executorCommand = `'${process.execPath}' --import '${import.meta.resolve('tsx')}' '${executorFile}'`;

/** Runs both tasks on the cluster at `master`; resolves with each task's final state. */
export function runHello(master: string): Promise<Record<string, string>> {
  const todo = ['hello-executor', 'hello-command'];
  const final: Record<string, string> = {};
  return new Promise((resolve, reject) => {
    const driver = new SchedulerDriver({
      master,
      framework: { name: 'hello' },
      callbacks: {
        resourceOffers(d, offers) {
          for (const offer of offers) {
            const name = todo[0];
            if (!name || !offerFits(offer, { cpus: 0.1, mem: 32 })) { d.decline(idOf(offer.id)); continue; }
            todo.shift();
            d.launch(idOf(offer.id), [name === 'hello-executor'
              ? executorTask(offer, { name, taskId: name, executor: { command: executorCommand } })
              : commandTask(offer, { name, taskId: name, command: 'echo hello from a command task' })]);
          }
        },
        statusUpdate(d, status) {
          if (!isTerminalState(status.state)) return;
          final[idOf(status.taskId)] = taskStateName(status.state);
          if (Object.keys(final).length === 2) void d.stop().then(() => resolve(final));
        },
      },
    });
    driver.start().catch(reject);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await runHello(process.argv[2] ?? '127.0.0.1:5050'));

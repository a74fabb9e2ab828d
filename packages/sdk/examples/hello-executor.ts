/** The README's example executor: says hello for each task it is given, then finishes it. */
import { ExecutorDriver, TaskState, idOf } from '@agora/sdk';

const driver = new ExecutorDriver({
  callbacks: {
    async launchTask(d, task) {
      const taskId = idOf(task.taskId);
      d.sendStatusUpdate({ taskId, state: TaskState.TASK_RUNNING });
      console.log(`hello from ${taskId}`); // lands in the sandbox's stdout file
      d.sendStatusUpdate({ taskId, state: TaskState.TASK_FINISHED, message: 'said hello' });
      await d.stop(); // one task per executor here: wait for the agent's acks, then let the process end
    },
  },
});
await driver.start();

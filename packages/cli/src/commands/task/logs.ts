import { Args, Flags } from '@oclif/core';
import { FilesClient, grpc, idOf, isTerminalState, type Task } from '@agora/core';
import { BaseCommand } from '../../base-command.js';
import { UserError, isGrpcError, peerError } from '../../errors.js';
import { masterFlag } from '../../flags.js';
import { pump, tailOffset, type OffsetReader } from '../../log-pump.js';
import { locateTask, taskFilePath } from '../../task-lookup.js';
import { shortState } from '../../table.js';

/** Exit code after Ctrl-C (128 + SIGINT), as shells report it. */
const INTERRUPTED = 130;
const AGENT_DEADLINE_MS = 5_000;

export default class TaskLogsCommand extends BaseCommand {
  static override summary = "Print a task's stdout (or stderr) from its sandbox; --follow streams it as it is written.";
  static override description = "The task is found through the master (any unambiguous prefix of its ID will do), the output is read from its agent's sandbox. With --follow the command keeps printing new output until the task has ended and everything it wrote is printed; Ctrl-C stops following (the task keeps running).";
  static override examples = [
    '<%= config.bin %> task logs splitter.1a2b3c4d',
    '<%= config.bin %> task logs splitter.1a2b --follow',
    '<%= config.bin %> task logs splitter.1a2b --stderr --tail 20',
  ];
  static override args = { id: Args.string({ description: 'Task ID (or a unique prefix; see `agora tasks --all`).', required: true }) };
  static override flags = {
    master: masterFlag,
    follow: Flags.boolean({ char: 'f', summary: 'Keep printing new output until the task ends (Ctrl-C stops).', default: false }),
    stderr: Flags.boolean({ summary: 'Print the task\'s stderr instead of its stdout.', default: false }),
    tail: Flags.integer({ char: 'n', summary: 'Start with the last N lines only.', min: 0, helpValue: 'N' }),
    json: Flags.boolean({ summary: 'Print JSON lines {"stream","offset","data"} instead of the raw output.', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TaskLogsCommand);
    const stream = flags.stderr ? 'stderr' : 'stdout';
    const { task, agent } = await this.withOperator(flags.master, (c) => locateTask(c, args.id));
    const taskId = idOf(task.taskId);
    const address = agent?.agentInfo?.address ?? '';
    if (!address) throw new UserError(`the master no longer knows the agent ${idOf(task.agentId) || '?'} of task ${taskId}; its output cannot be read`);

    const files = new FilesClient(address, AGENT_DEADLINE_MS);
    const controller = new AbortController();
    const onSignal = (): void => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    // A closed pipe (`| head`) ends the command quietly.
    process.stdout.on('error', onSignal);
    try {
      const read = await this.reader(files, task, stream, address);
      const start = flags.tail === undefined ? 0 : await tailOffset(read, flags.tail);
      if (!flags.follow && (await read(start, 0)) === 'missing') {
        throw new UserError(`task ${taskId} has no ${stream} on its agent yet (it is ${shortState(task.state)})`);
      }
      const end = await pump({
        read,
        startOffset: start,
        follow: flags.follow,
        signal: controller.signal,
        sink: flags.json
          ? (data, offset) => { process.stdout.write(`${JSON.stringify({ stream, offset, data: Buffer.from(data).toString('utf8') })}\n`); }
          : (data) => { process.stdout.write(data); },
        finished: () => this.withOperator(flags.master, async (c) => {
          const res = await c.getTasks({ frameworkId: task.frameworkId, agentId: task.agentId, includeCompleted: true });
          const now = (res.tasks ?? []).find((t) => idOf(t.taskId) === taskId);
          // A task the master has forgotten (pruned from the completed ones) is over too.
          return !now || isTerminalState(now.state ?? 0);
        // The master unreachable for a moment: keep following; Ctrl-C still stops.
        }).catch(() => false),
      });
      if (end === 'aborted' && !process.stdout.destroyed) this.exit(INTERRUPTED);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      files.close();
    }
  }

  /**
   * The reader for the task's stream. A task of a group has its own `tasks/<ID>/` directory
   * under the executor's sandbox; a custom executor's tasks write to the executor's files.
   */
  private async reader(files: FilesClient, task: Task, stream: 'stdout' | 'stderr', address: string): Promise<OffsetReader> {
    const base = { frameworkId: task.frameworkId, executorId: { value: idOf(task.executorId) || idOf(task.taskId) } };
    let path = taskFilePath(task, stream);
    const call = async (p: string, offset: number, length: number): Promise<{ data: Uint8Array; size: number } | 'missing'> => {
      try {
        // length 0 asks for the default chunk; 0 here means "just the size": ask for one byte.
        const res = await files.read({ ...base, path: p, offset, length: Math.max(1, length) });
        const data = length === 0 ? new Uint8Array() : (res.data ?? new Uint8Array());
        return { data, size: Number(res.size ?? 0) };
      } catch (err) {
        if (isGrpcError(err) && err.code === grpc.status.NOT_FOUND) return 'missing';
        throw peerError(err, 'agent', address, AGENT_DEADLINE_MS);
      }
    };
    if (path !== stream) {
      // Decide between the task's own directory and the executor's files once the sandbox exists.
      let decided = false;
      return async (offset, length) => {
        if (!decided) {
          const own = await call(path, 0, 0);
          if (own !== 'missing') decided = true;
          else if ((await call(stream, 0, 0)) !== 'missing') { path = stream; decided = true; }
          else return 'missing';
        }
        return call(path, offset, length);
      };
    }
    return (offset, length) => call(path, offset, length);
  }
}

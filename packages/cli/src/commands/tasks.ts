import { Flags } from '@oclif/core';
import { TaskState, agora, idOf, isTerminalState, type agora as A } from '@agora/core';
import { BaseCommand } from '../base-command.js';
import { UserError } from '../errors.js';
import { jsonFlag, masterFlag } from '../flags.js';
import { age, fmtResources, renderTable, shortState, toJson } from '../table.js';

/** RUNNING, running or TASK_RUNNING → TaskState.TASK_RUNNING. */
export function parseTaskState(text: string): A.v1.TaskState {
  const name = text.trim().toUpperCase().replace(/^(TASK_)?/, 'TASK_');
  const v = (TaskState as unknown as Record<string, number>)[name];
  if (v === undefined || name === 'TASK_UNKNOWN') {
    const names = Object.keys(TaskState).filter((k) => Number.isNaN(Number(k)) && k !== 'TASK_UNKNOWN').map((k) => k.replace(/^TASK_/, ''));
    throw new UserError(`unknown task state '${text}'; one of ${names.join(', ')}`);
  }
  return v as A.v1.TaskState;
}

export default class TasksCommand extends BaseCommand {
  static override summary = 'List tasks (running ones, or completed ones too with --all).';
  static override examples = ['<%= config.bin %> tasks', '<%= config.bin %> tasks --state RUNNING --framework fw-1234', '<%= config.bin %> tasks --all --json'];
  static override flags = {
    master: masterFlag,
    json: jsonFlag,
    state: Flags.string({ summary: 'Only tasks in this state (repeatable), e.g. RUNNING or FAILED.', multiple: true, helpValue: 'STATE' }),
    framework: Flags.string({ summary: 'Only tasks of this framework ID.', helpValue: 'ID' }),
    agent: Flags.string({ summary: 'Only tasks on this agent ID.', helpValue: 'ID' }),
    all: Flags.boolean({ summary: 'Include completed tasks.', default: false }),
    limit: Flags.integer({ summary: 'Show at most this many tasks (0: all).', default: 0, min: 0 }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TasksCommand);
    const states = (flags.state ?? []).flatMap((s) => s.split(',')).filter((s) => s.trim()).map(parseTaskState);
    // Asking for a terminal state means asking for completed tasks.
    const includeCompleted = flags.all || states.some((s) => isTerminalState(s));
    const res = await this.withOperator(flags.master, (c) => c.getTasks({
      frameworkId: flags.framework ? { value: flags.framework } : undefined,
      agentId: flags.agent ? { value: flags.agent } : undefined,
      states,
      includeCompleted,
      limit: flags.limit,
    }));
    const tasks = res.tasks ?? [];
    if (flags.json) {
      this.printJson({ total: res.total ?? tasks.length, tasks: tasks.map((t) => toJson(agora.v1.Task, t as agora.v1.Task)) });
      return;
    }
    if (tasks.length === 0) {
      this.log(includeCompleted ? 'No tasks.' : 'No running tasks (--all shows completed ones too).');
      return;
    }
    this.log(renderTable(
      ['ID', 'NAME', 'STATE', 'FRAMEWORK', 'AGENT', 'RESOURCES', 'AGE'],
      tasks.map((t) => [
        idOf(t.taskId),
        t.name ?? '',
        shortState(t.state),
        idOf(t.frameworkId),
        idOf(t.agentId),
        fmtResources(t.resources),
        age(t.launchedAt),
      ]),
    ));
    const total = res.total ?? tasks.length;
    if (total > tasks.length) this.log(`${tasks.length} of ${total} tasks shown (--limit).`);
  }
}

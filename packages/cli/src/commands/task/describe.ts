import { Args } from '@oclif/core';
import { idOf } from '@agora/core';
import { BaseCommand } from '../../base-command.js';
import { jsonFlag, masterFlag } from '../../flags.js';
import { RolesClient } from '../../roles-client.js';
import { describeJson, describeText, offersOf, sandboxOf, waitingReasons, type TaskDescription } from '../../task-describe.js';
import { locateTask } from '../../task-lookup.js';

export default class TaskDescribeCommand extends BaseCommand {
  static override summary = 'Show one task in detail: framework, agent, state history, resources, sandbox, command, and why it is waiting if it is.';
  static override examples = ['<%= config.bin %> task describe splitter.1a2b3c4d', '<%= config.bin %> task describe splitter.1a2b --json'];
  static override args = { id: Args.string({ description: 'Task ID (or a unique prefix; see `agora tasks --all`).', required: true }) };
  static override flags = { master: masterFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TaskDescribeCommand);
    const d = await this.withOperator(flags.master, async (c, address): Promise<TaskDescription> => {
      const { task, agent } = await locateTask(c, args.id);
      const frameworkId = idOf(task.frameworkId);
      const waiting = waitingReasons(task, agent);
      const roles = new RolesClient(address);
      try {
        const [frameworks, sandbox, offers] = await Promise.all([
          c.getFrameworks(),
          sandboxOf(task, agent?.agentInfo?.address ?? ''),
          waiting.length ? offersOf(roles, frameworkId) : Promise.resolve(undefined),
        ]);
        const framework = (frameworks.frameworks ?? []).find((f) => idOf(f.frameworkInfo?.id) === frameworkId);
        return { task, agent, framework, sandbox, waiting, offers };
      } finally {
        roles.close();
      }
    });
    if (flags.json) this.printJson(describeJson(d));
    else this.log(describeText(d));
  }
}

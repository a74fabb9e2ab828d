import { Args, Flags } from '@oclif/core';
import { CronClient, DEFAULT_CRON_API } from '@agora/cron/client';
import { BaseCommand } from '../../base-command.js';
import { jsonFlag } from '../../flags.js';

const apiFlag = Flags.string({ summary: 'Cron REST API.', env: 'AGORA_CRON_API', default: DEFAULT_CRON_API, helpValue: 'URL' });
const nameArg = Args.string({ description: 'Job name.', required: true });

export default class JobRemoveCommand extends BaseCommand {
  static override summary = 'Remove a job (its active runs are killed).';
  static override aliases = ['job:rm'];
  static override examples = ['<%= config.bin %> job remove backup'];
  static override args = { name: nameArg };
  static override flags = { api: apiFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(JobRemoveCommand);
    await new CronClient(flags.api).request('DELETE', `/v1/jobs/${encodeURIComponent(args.name)}`);
    if (flags.json) this.printJson({ name: args.name, removed: true });
    else process.stdout.write(`job ${args.name} removed\n`);
  }
}

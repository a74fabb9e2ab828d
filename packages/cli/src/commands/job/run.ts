import { Args, Flags } from '@oclif/core';
import { CronClient, DEFAULT_CRON_API } from '@agora/cron/client';
import { BaseCommand } from '../../base-command.js';
import { jsonFlag } from '../../flags.js';

const apiFlag = Flags.string({ summary: 'Cron REST API.', env: 'AGORA_CRON_API', default: DEFAULT_CRON_API, helpValue: 'URL' });
const nameArg = Args.string({ description: 'Job name.', required: true });

export default class JobRunCommand extends BaseCommand {
  static override summary = 'Run a job now, outside its schedule (extra arguments after --).';
  static override examples = ['<%= config.bin %> job run backup', '<%= config.bin %> job run report -- --month 2025-01'];
  static override strict = false;
  static override args = { name: nameArg };
  static override flags = { api: apiFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(JobRunCommand);
    const extra = (argv as string[]).slice(1);
    const run = await new CronClient(flags.api).request<{ id: string }>('POST', `/v1/jobs/${encodeURIComponent(args.name)}/run`, { arguments: extra });
    if (flags.json) this.printJson(run);
    else process.stdout.write(`run ${run.id} started\n`);
  }
}

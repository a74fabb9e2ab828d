import { Args, Flags } from '@oclif/core';
import { CronClient, DEFAULT_CRON_API } from '@agora/cron/client';
import { BaseCommand } from '../../base-command.js';
import { jsonFlag } from '../../flags.js';

const apiFlag = Flags.string({ summary: 'Cron REST API.', env: 'AGORA_CRON_API', default: DEFAULT_CRON_API, helpValue: 'URL' });
const nameArg = Args.string({ description: 'Job name.', required: true });

export default class JobShowCommand extends BaseCommand {
  static override summary = 'Show a job, its stats and its next run.';
  static override examples = ['<%= config.bin %> job show backup'];
  static override args = { name: nameArg };
  static override flags = { api: apiFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(JobShowCommand);
    const client = new CronClient(flags.api);
    const name = encodeURIComponent(args.name);
    const [job, stats] = await Promise.all([client.request('GET', `/v1/jobs/${name}`), client.request('GET', `/v1/jobs/${name}/stats`)]);
    this.printJson(flags.json ? { job, stats } : { ...(job as object), stats });
  }
}

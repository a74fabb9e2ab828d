import { Args, Flags } from '@oclif/core';
import { CronClient, DEFAULT_CRON_API } from '@agora/cron/client';
import { BaseCommand } from '../../base-command.js';
import { jsonFlag } from '../../flags.js';

const apiFlag = Flags.string({ summary: 'Cron REST API.', env: 'AGORA_CRON_API', default: DEFAULT_CRON_API, helpValue: 'URL' });
const nameArg = Args.string({ description: 'Job name.', required: true });

export default class JobKillCommand extends BaseCommand {
  static override summary = 'Kill the running (and waiting) runs of a job; they are not retried.';
  static override examples = ['<%= config.bin %> job kill backup'];
  static override args = { name: nameArg };
  static override flags = { api: apiFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(JobKillCommand);
    const out = await new CronClient(flags.api).request<{ killed: string[] }>('POST', `/v1/jobs/${encodeURIComponent(args.name)}/kill`, {});
    if (flags.json) this.printJson(out);
    else process.stdout.write(out.killed.length ? `killing ${out.killed.join(', ')}\n` : `no active run of ${args.name}\n`);
  }
}

import { Args, Flags } from '@oclif/core';
import { CronClient, DEFAULT_CRON_API } from '@agora/cron/client';
import { BaseCommand } from '../../base-command.js';
import { jsonFlag } from '../../flags.js';

const apiFlag = Flags.string({ summary: 'Cron REST API.', env: 'AGORA_CRON_API', default: DEFAULT_CRON_API, helpValue: 'URL' });
const nameArg = Args.string({ description: 'Job name.', required: true });

export default class JobNextCommand extends BaseCommand {
  static override summary = 'The next fire times of a job, in UTC and in its time zone.';
  static override examples = ['<%= config.bin %> job next backup', '<%= config.bin %> job next backup -n 10 --json'];
  static override args = { name: nameArg };
  static override flags = {
    count: Flags.integer({ char: 'n', summary: 'How many fire times.', default: 5, min: 1, max: 1000 }),
    api: apiFlag,
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(JobNextCommand);
    const out = await new CronClient(flags.api).request<{ timezone: string; parents: string[]; next: string[] }>('GET', `/v1/jobs/${encodeURIComponent(args.name)}/next?n=${flags.count}`);
    if (flags.json) { this.printJson(out); return; }
    if (out.next.length === 0) { process.stdout.write(out.parents.length ? `${args.name} runs after ${out.parents.join(', ')}, not on a schedule\n` : 'no further fire times\n'); return; }
    const local = new Intl.DateTimeFormat('sv-SE', { timeZone: out.timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
    for (const t of out.next) process.stdout.write(`${t}  ${out.timezone !== 'UTC' ? local.format(new Date(t)) : ''}`.trimEnd() + '\n');
  }
}

import { Args, Flags } from '@oclif/core';
import { CronClient, DEFAULT_CRON_API } from '@agora/cron/client';
import { BaseCommand } from '../../base-command.js';
import { jsonFlag } from '../../flags.js';
import { readJsonInput } from '../../json-input.js';
import { UserError } from '../../errors.js';

const apiFlag = Flags.string({ summary: 'Cron REST API.', env: 'AGORA_CRON_API', default: DEFAULT_CRON_API, helpValue: 'URL' });
const nameArg = Args.string({ description: 'Job name.', required: true });

export default class JobAddCommand extends BaseCommand {
  static override summary = 'Add or replace jobs from a JSON file (one job or a list).';
  static override description = 'A job: {"name": "backup", "command": "tar czf /tmp/b.tgz /data", "schedule": "0 2 * * *", "timezone": "Europe/Berlin", "retries": 2}. Schedules are ISO 8601 R[n]/start/period or cron expressions (5 fields, or 6 with seconds first); dependent jobs give "parents" instead. Jobs of a list are saved in order (parents first). An invalid job is refused with every bad field named.';
  static override examples = ['<%= config.bin %> job add -f job.json', '<%= config.bin %> job add -f jobs.json --api http://cron.example:4400'];
  static override flags = {
    file: Flags.string({ char: 'f', summary: 'JSON file with a job or a list of jobs ("-" for stdin).', required: true, helpValue: 'job.json' }),
    api: apiFlag,
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(JobAddCommand);
    const parsed = await readJsonInput(flags.file);
    const jobs = Array.isArray(parsed) ? parsed : [parsed];
    const client = new CronClient(flags.api);
    const saved: unknown[] = [];
    for (const job of jobs) {
      const name = (job as { name?: unknown })?.name;
      if (typeof name !== 'string' || !name) throw new UserError('invalid job: name: is required');
      const out = await client.request<{ name: string; nextRunAt: string | null; parents: string[] }>('PUT', `/v1/jobs/${encodeURIComponent(name)}`, job);
      saved.push(out);
      if (!flags.json) process.stdout.write(`job ${out.name} saved${out.nextRunAt ? `; next run ${out.nextRunAt}` : out.parents.length ? `; runs after ${out.parents.join(', ')}` : ''}\n`);
    }
    if (flags.json) this.printJson(Array.isArray(parsed) ? saved : saved[0]);
  }
}

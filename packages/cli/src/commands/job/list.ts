import { Args, Flags } from '@oclif/core';
import { CronClient, DEFAULT_CRON_API } from '@agora/cron/client';
import { BaseCommand } from '../../base-command.js';
import { jsonFlag } from '../../flags.js';
import { renderTable } from '../../table.js';

const apiFlag = Flags.string({ summary: 'Cron REST API.', env: 'AGORA_CRON_API', default: DEFAULT_CRON_API, helpValue: 'URL' });
const nameArg = Args.string({ description: 'Job name.', required: true });

interface JobRow { name: string; schedule?: string; parents: string[]; timezone: string; disabled: boolean; nextRunAt: string | null; lastRun: { state: string } | null; activeRuns: number; owner: string }

export default class JobListCommand extends BaseCommand {
  static override summary = 'List jobs (optionally those matching a search).';
  static override examples = ['<%= config.bin %> job list', '<%= config.bin %> job list -q backup --json'];
  static override flags = {
    query: Flags.string({ char: 'q', summary: 'Only jobs whose name, description, owner or command contains this.', helpValue: 'TEXT' }),
    api: apiFlag,
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(JobListCommand);
    const jobs = await new CronClient(flags.api).request<JobRow[]>('GET', `/v1/jobs${flags.query ? `?q=${encodeURIComponent(flags.query)}` : ''}`);
    if (flags.json) { this.printJson(jobs); return; }
    if (jobs.length === 0) { process.stdout.write('no jobs\n'); return; }
    process.stdout.write(`${renderTable(['NAME', 'SCHEDULE', 'NEXT RUN', 'LAST', 'ACTIVE', 'OWNER'], jobs.map((j) => [
      j.name,
      j.schedule ? `${j.schedule}${j.timezone !== 'UTC' ? ` (${j.timezone})` : ''}` : `after ${j.parents.join(', ')}`,
      j.disabled ? 'disabled' : (j.nextRunAt ?? '-'),
      j.lastRun?.state ?? '-',
      String(j.activeRuns),
      j.owner || '-',
    ]))}\n`);
  }
}

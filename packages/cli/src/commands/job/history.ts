import { Args, Flags } from '@oclif/core';
import { CronClient, DEFAULT_CRON_API } from '@agora/cron/client';
import { BaseCommand } from '../../base-command.js';
import { jsonFlag } from '../../flags.js';
import { renderTable } from '../../table.js';

const apiFlag = Flags.string({ summary: 'Cron REST API.', env: 'AGORA_CRON_API', default: DEFAULT_CRON_API, helpValue: 'URL' });
const nameArg = Args.string({ description: 'Job name.', required: true });

interface Run { id: string; scheduledAt: string; trigger: string; state: string; attempt: number; startedAt: string | null; durationMs: number | null; exitCode: number | null; jitterMs: number | null; message: string | null }

export default class JobHistoryCommand extends BaseCommand {
  static override summary = 'Active and recent runs of a job, newest first.';
  static override examples = ['<%= config.bin %> job history backup -n 50'];
  static override args = { name: nameArg };
  static override flags = {
    limit: Flags.integer({ char: 'n', summary: 'How many runs.', default: 20, min: 1, max: 1000 }),
    api: apiFlag,
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(JobHistoryCommand);
    const runs = await new CronClient(flags.api).request<Run[]>('GET', `/v1/jobs/${encodeURIComponent(args.name)}/history?limit=${flags.limit}`);
    if (flags.json) { this.printJson(runs); return; }
    if (runs.length === 0) { process.stdout.write(`no runs of ${args.name} yet\n`); return; }
    process.stdout.write(`${renderTable(['SCHEDULED', 'STATE', 'TRIGGER', 'TRY', 'DURATION', 'EXIT', 'JITTER', 'MESSAGE'], runs.map((r) => [
      r.scheduledAt, r.state, r.trigger, String(r.attempt),
      r.durationMs === null ? '-' : `${(r.durationMs / 1000).toFixed(2)} s`,
      r.exitCode === null ? '-' : String(r.exitCode),
      r.jitterMs === null ? '-' : `${r.jitterMs} ms`,
      r.message ?? '',
    ]))}\n`);
  }
}

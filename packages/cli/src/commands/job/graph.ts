import { Flags } from '@oclif/core';
import { CronClient, DEFAULT_CRON_API } from '@agora/cron/client';
import { BaseCommand } from '../../base-command.js';

export default class JobGraphCommand extends BaseCommand {
  static override summary = 'The job dependency graph in Graphviz dot (pipe to: dot -Tsvg > jobs.svg).';
  static override examples = ['<%= config.bin %> job graph | dot -Tsvg > jobs.svg'];
  static override flags = { api: Flags.string({ summary: 'Cron REST API.', env: 'AGORA_CRON_API', default: DEFAULT_CRON_API, helpValue: 'URL' }) };

  async run(): Promise<void> {
    const { flags } = await this.parse(JobGraphCommand);
    process.stdout.write(await new CronClient(flags.api).request<string>('GET', '/v1/graph'));
  }
}

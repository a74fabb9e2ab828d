import { AppsClient } from '@agora/long-running';
import { BaseCommand } from '../../base-command.js';
import { jsonFlag } from '../../flags.js';
import { renderTable } from '../../table.js';
import { apiFlag, call } from './deploy.js';

interface AppView { id: string; instances: number; tasksRunning: number; tasksHealthy: number; tasksStaged: number; healthChecks: unknown[]; deployments: { id: string }[]; cmd?: string; args?: string[]; cpus: number; mem: number }

export default class AppListCommand extends BaseCommand {
  static override summary = 'List the apps of the long-running framework.';
  static override examples = ['<%= config.bin %> app list', '<%= config.bin %> app list --json'];
  static override flags = { api: apiFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(AppListCommand);
    const { apps } = await call(() => new AppsClient(flags.api).request<{ apps: AppView[] }>('GET', '/v2/apps'));
    if (flags.json) { this.printJson(apps); return; }
    if (apps.length === 0) { this.log('No apps. Deploy one with: agora app deploy -f app.json'); return; }
    this.log(renderTable(['ID', 'INSTANCES', 'RUNNING', 'HEALTHY', 'STAGED', 'CPUS', 'MEM', 'DEPLOYING', 'CMD'], apps.map((a) => [
      a.id, String(a.instances), String(a.tasksRunning), a.healthChecks.length ? String(a.tasksHealthy) : '-', String(a.tasksStaged),
      String(a.cpus), String(a.mem), a.deployments.map((d) => d.id).join(' ') || '-', a.cmd ?? (a.args ?? []).join(' '),
    ])));
  }
}

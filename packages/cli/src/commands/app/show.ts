import { Args } from '@oclif/core';
import { AppsClient } from '@agora/long-running';
import { BaseCommand } from '../../base-command.js';
import { jsonFlag } from '../../flags.js';
import { renderTable } from '../../table.js';
import { apiFlag, call } from './deploy.js';

interface Task { id: string; host: string; ports: number[]; state: string; version: string; startedAt?: string; healthCheckResults?: { alive: boolean; detail: string }[]; killReason?: string }

export default class AppShowCommand extends BaseCommand {
  static override summary = 'Show an app: its definition, counts, deployments and instances.';
  static override examples = ['<%= config.bin %> app show /shop/web', '<%= config.bin %> app show /shop/web --json'];
  static override args = { id: Args.string({ description: 'App ID, e.g. /shop/web.', required: true }) };
  static override flags = { api: apiFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AppShowCommand);
    const { app } = await call(() => new AppsClient(flags.api).request<{ app: Record<string, unknown> & { tasks: Task[] } }>('GET', AppsClient.appPath(args.id)));
    if (flags.json) { this.printJson(app); return; }
    const { tasks, ...def } = app;
    const keys = ['id', 'cmd', 'args', 'instances', 'cpus', 'mem', 'disk', 'version', 'tasksRunning', 'tasksHealthy', 'tasksStaged', 'constraints', 'healthChecks', 'upgradeStrategy', 'deployments', 'lastTaskFailure'];
    for (const k of keys) if (def[k] !== undefined && !(Array.isArray(def[k]) && (def[k] as unknown[]).length === 0)) this.log(`${k.padEnd(16)} ${typeof def[k] === 'string' ? def[k] : JSON.stringify(def[k])}`);
    if (tasks.length) {
      this.log('');
      this.log(renderTable(['TASK', 'HOST:PORTS', 'STATE', 'HEALTH', 'VERSION'], tasks.map((t) => [
        t.id, `${t.host}:${t.ports.join(',')}`, t.state, t.healthCheckResults ? `${t.healthCheckResults[0]?.alive ? 'healthy' : 'unhealthy'} (${t.healthCheckResults[0]?.detail})` : '-', t.version,
      ])));
    }
  }
}

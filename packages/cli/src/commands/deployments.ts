import { Flags } from '@oclif/core';
import { AppsClient, type DeploymentInfo } from '@agora/long-running';
import { BaseCommand } from '../base-command.js';
import { jsonFlag } from '../flags.js';
import { renderTable } from '../table.js';
import { apiFlag, call, follow } from './app/deploy.js';

export default class DeploymentsCommand extends BaseCommand {
  static override summary = 'List the deployments of the long-running framework, each with what it waits for; roll one back.';
  static override examples = ['<%= config.bin %> deployments', '<%= config.bin %> deployments --rollback 1a2b3c4d-…', '<%= config.bin %> deployments --cancel 1a2b3c4d-…'];
  static override flags = {
    api: apiFlag,
    json: jsonFlag,
    rollback: Flags.string({ summary: 'Roll this deployment back (to the app\'s previous version) and follow the rollback.', helpValue: 'ID', exclusive: ['cancel'] }),
    cancel: Flags.string({ summary: 'Stop this deployment where it is, without rolling back.', helpValue: 'ID' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DeploymentsCommand);
    const client = new AppsClient(flags.api);
    if (flags.rollback) {
      const r = await call(() => client.request<{ deploymentId: string }>('DELETE', `/v2/deployments/${encodeURIComponent(flags.rollback!)}`));
      await follow(client, r.deploymentId, `rollback of ${flags.rollback}`, (s) => this.log(s));
      return;
    }
    if (flags.cancel) {
      await call(() => client.request('DELETE', `/v2/deployments/${encodeURIComponent(flags.cancel!)}?force=true`));
      this.log(`deployment ${flags.cancel} cancelled`);
      return;
    }
    const list = await call(() => client.request<DeploymentInfo[]>('GET', '/v2/deployments'));
    if (flags.json) { this.printJson(list); return; }
    if (list.length === 0) { this.log('No deployments in progress.'); return; }
    this.log(renderTable(['ID', 'APP', 'KIND', 'STATUS', 'SINCE', 'WAITING FOR'], list.map((d) => [d.id, d.affectedApps.join(' '), d.kind, d.status, d.createdAt.slice(11, 19), d.waitingFor])));
  }
}

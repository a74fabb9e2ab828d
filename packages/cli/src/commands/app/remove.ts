import { Args } from '@oclif/core';
import { AppsClient } from '@agora/long-running';
import { BaseCommand } from '../../base-command.js';
import { jsonFlag } from '../../flags.js';
import { apiFlag, call, detachFlag, follow, forceFlag } from './deploy.js';

export default class AppRemoveCommand extends BaseCommand {
  static override summary = 'Remove an app: kill its instances and forget it.';
  static override examples = ['<%= config.bin %> app remove /shop/web'];
  static override args = { id: Args.string({ description: 'App ID.', required: true }) };
  static override flags = { api: apiFlag, force: forceFlag, detach: detachFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AppRemoveCommand);
    const client = new AppsClient(flags.api);
    const r = await call(() => client.request<{ deploymentId: string }>('DELETE', `${AppsClient.appPath(args.id)}${flags.force ? '?force=true' : ''}`));
    const log = flags.json ? () => undefined : (s: string) => this.log(s);
    if (flags.detach) log(`removing ${args.id} (deployment ${r.deploymentId})`);
    else await follow(client, r.deploymentId, `remove ${args.id}`, log, flags.json);
    if (flags.json) this.printJson({ id: args.id, deploymentId: r.deploymentId, done: !flags.detach });
  }
}

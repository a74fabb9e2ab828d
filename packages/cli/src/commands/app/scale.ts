import { Args, Flags } from '@oclif/core';
import { AppsClient } from '@agora/long-running';
import { BaseCommand } from '../../base-command.js';
import { jsonFlag } from '../../flags.js';
import { apiFlag, call, detachFlag, follow, forceFlag } from './deploy.js';

export default class AppScaleCommand extends BaseCommand {
  static override summary = 'Change the number of instances of an app (no restart of the others).';
  static override examples = ['<%= config.bin %> app scale /shop/web 10'];
  static override args = {
    id: Args.string({ description: 'App ID.', required: true }),
    instances: Args.integer({ description: 'Number of instances.', required: true, min: 0 }),
  };
  static override flags = { api: apiFlag, force: forceFlag, detach: detachFlag, quiet: Flags.boolean({ char: 'q', summary: 'Print nothing on success.', default: false }), json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AppScaleCommand);
    const client = new AppsClient(flags.api);
    const r = await call(() => client.request<{ deploymentId: string }>('PUT', `${AppsClient.appPath(args.id)}${flags.force ? '?force=true' : ''}`, { instances: args.instances }));
    const log = flags.quiet || flags.json ? () => undefined : (s: string) => this.log(s);
    if (flags.detach) log(`scaling ${args.id} to ${args.instances} (deployment ${r.deploymentId})`);
    else await follow(client, r.deploymentId, `scale ${args.id} to ${args.instances}`, log, flags.json);
    if (flags.json) this.printJson({ id: args.id, instances: args.instances, deploymentId: r.deploymentId, done: !flags.detach });
  }
}

import { Flags } from '@oclif/core';
import { AppsClient } from '@agora/long-running';
import { readJsonInput } from '../../json-input.js';
import { BaseCommand } from '../../base-command.js';
import { UserError, oneLine } from '../../errors.js';
import { jsonFlag } from '../../flags.js';
import { Progress } from '../../progress.js';

export const apiFlag = Flags.string({
  summary: 'Address of the long-running framework\'s REST API.',
  env: 'AGORA_APPS_API',
  default: 'http://127.0.0.1:8080',
  helpValue: 'URL',
});

export const detachFlag = Flags.boolean({ summary: 'Return once the deployment started instead of waiting for it.', default: false });
export const forceFlag = Flags.boolean({ summary: 'Override a deployment in progress that locks the app.', default: false });

/** Waits for a deployment, showing what it waits for (terminal only); one line at the end. */
export async function follow(client: AppsClient, deploymentId: string, what: string, log: (s: string) => void, quiet = false): Promise<void> {
  const progress = new Progress(quiet);
  const t0 = Date.now();
  try {
    await client.waitForDeployment(deploymentId, {
      onProgress: (d) => progress.update(`${what}: ${d.waitingFor || d.status} (${((Date.now() - t0) / 1000).toFixed(0)} s)`),
    });
  } catch (err) {
    progress.clear();
    throw new UserError(oneLine(err));
  }
  progress.clear();
  log(`${what}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s (deployment ${deploymentId})`);
}

/** Runs an API call, turning its failure into one line. */
export async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new UserError(oneLine(err));
  }
}

export default class AppDeployCommand extends BaseCommand {
  static override summary = 'Create or update an app from its JSON definition (Marathon format) and follow the deployment.';
  static override description = 'The file holds one app ({ "id": "/shop/web", "cmd": …, "instances": 3, … }) or an array of apps. An existing app is updated by a rolling deployment that honours its upgradeStrategy. Invalid definitions are refused with every bad field named; nothing is stored.';
  static override examples = ['<%= config.bin %> app deploy -f web.json', '<%= config.bin %> app deploy -f web.json --detach --api http://10.0.0.5:8080'];
  static override flags = {
    file: Flags.string({ char: 'f', summary: 'App definition (JSON); - for stdin.', required: true, helpValue: 'FILE' }),
    api: apiFlag,
    force: forceFlag,
    detach: detachFlag,
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(AppDeployCommand);
    const defs = await readJsonInput(flags.file);
    const list = Array.isArray(defs) ? defs : [defs];
    const client = new AppsClient(flags.api);
    const results: { id: string; deploymentId: string; version: string }[] = [];
    for (const def of list) {
      const id = typeof (def as { id?: unknown })?.id === 'string' ? (def as { id: string }).id : '';
      if (!id) throw new UserError(`${flags.file}: an app definition needs an "id"`);
      const r = await call(() => client.request<{ deploymentId: string; version: string }>('PUT', `${AppsClient.appPath(id)}${flags.force ? '?force=true' : ''}`, def));
      results.push({ id, ...r });
      if (!flags.json) this.log(`deploying ${id} (deployment ${r.deploymentId}, version ${r.version})`);
    }
    if (!flags.detach) for (const r of results) await follow(client, r.deploymentId, `deploy ${r.id}`, flags.json ? () => undefined : (s) => this.log(s), flags.json);
    if (flags.json) this.printJson(results);
  }
}

import { agora, idOf } from '@agora/core';
import { BaseCommand } from '../base-command.js';
import { jsonFlag, masterFlag } from '../flags.js';
import { age, fmtResources, renderTable, toJson } from '../table.js';

export default class FrameworksCommand extends BaseCommand {
  static override summary = 'List the frameworks known to the master.';
  static override examples = ['<%= config.bin %> frameworks', '<%= config.bin %> frameworks --json'];
  static override flags = { master: masterFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(FrameworksCommand);
    const res = await this.withOperator(flags.master, (c) => c.getFrameworks());
    if (flags.json) {
      this.printJson((res.frameworks ?? []).map((f) => toJson(agora.v1.FrameworkState, f as agora.v1.FrameworkState)));
      return;
    }
    const fws = res.frameworks ?? [];
    if (fws.length === 0) {
      this.log('No frameworks.');
      return;
    }
    this.log(renderTable(
      ['ID', 'NAME', 'ROLES', 'STATUS', 'TASKS', 'ALLOCATED', 'SHARE', 'UP'],
      fws.map((f) => [
        idOf(f.frameworkInfo?.id),
        f.frameworkInfo?.name ?? '',
        (f.frameworkInfo?.roles ?? []).join(',') || '*',
        !f.active ? 'inactive' : f.connected ? (f.suppressed ? 'suppressed' : 'connected') : 'disconnected',
        String(f.taskCount ?? 0),
        fmtResources(f.allocatedResources),
        `${Math.round((f.dominantShare ?? 0) * 1000) / 10}%`,
        age(f.registeredTime),
      ]),
    ));
  }
}

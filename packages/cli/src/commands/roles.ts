import { agora } from '@agora/core';
import { BaseCommand } from '../base-command.js';
import { jsonFlag, masterFlag } from '../flags.js';
import { withRoles } from '../roles-client.js';
import { fmtResources, renderTable, toJson } from '../table.js';

export default class RolesCommand extends BaseCommand {
  static override summary = 'List roles: weight, quota, allocated, offered and share.';
  static override description = 'Roles are hierarchical (eng, eng/web). Set weights and quota with `agora roles set`.';
  static override examples = ['<%= config.bin %> roles', '<%= config.bin %> roles --json'];
  static override flags = { master: masterFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(RolesCommand);
    const res = await withRoles(flags.master, (c) => c.getRoles());
    const roles = res.roles ?? [];
    if (flags.json) {
      this.printJson(roles.map((r) => toJson(agora.v1.RoleState, r as agora.v1.RoleState)));
      return;
    }
    if (roles.length === 0) {
      this.log('No roles.');
      return;
    }
    this.log(renderTable(
      ['ROLE', 'WEIGHT', 'GUARANTEE', 'LIMIT', 'ALLOCATED', 'OFFERED', 'SHARE', 'FRAMEWORKS'],
      roles.map((r) => [
        r.name ?? '', String(r.weight ?? 1), fmtResources(r.guarantee) || '-', fmtResources(r.limit) || '-',
        fmtResources(r.allocated) || '-', fmtResources(r.offered) || '-', `${Math.round((r.share ?? 0) * 1000) / 10}%`, String((r.frameworkIds ?? []).length),
      ]),
    ));
  }
}

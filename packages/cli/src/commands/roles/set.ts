import { Args, Flags } from '@oclif/core';
import { agora, resources, type Resource } from '@agora/core';
import { BaseCommand } from '../../base-command.js';
import { UserError } from '../../errors.js';
import { jsonFlag, masterFlag } from '../../flags.js';
import { withRoles } from '../../roles-client.js';
import { fmtResources, toJson } from '../../table.js';

function scalars(flag: string, text: string | undefined): Resource[] {
  if (text === undefined || text.trim() === '' || text.trim() === 'none') return [];
  try {
    return resources.parseResources(text);
  } catch (e) {
    throw new UserError(`--${flag}: ${(e as Error).message}`);
  }
}

export default class RolesSetCommand extends BaseCommand {
  static override summary = "Set a role's weight and/or quota (persisted by the master).";
  static override examples = [
    '<%= config.bin %> roles set eng --weight 3',
    '<%= config.bin %> roles set eng/web --guarantee "cpus:4;mem:4096" --limit "cpus:16;mem:65536"',
    '<%= config.bin %> roles set eng/web --guarantee none --limit none   # remove the quota',
  ];
  static override args = { role: Args.string({ description: 'Role name, e.g. eng or eng/web.', required: true }) };
  static override flags = {
    master: masterFlag,
    json: jsonFlag,
    weight: Flags.string({ summary: 'DRF weight (> 0); shares are divided by it.' }),
    guarantee: Flags.string({ summary: 'Quota guarantee, e.g. "cpus:4;mem:4096" ("none" to clear).' }),
    limit: Flags.string({ summary: 'Quota limit, e.g. "cpus:16;mem:65536" ("none" to clear).' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(RolesSetCommand);
    const req: agora.v1.UpdateRoleRequest.$Properties = { role: args.role };
    if (flags.weight !== undefined) {
      const w = Number(flags.weight);
      if (flags.weight.trim() === '' || !Number.isFinite(w) || w <= 0) throw new UserError(`--weight: '${flags.weight}' is not a number > 0`);
      req.weight = w;
    }
    if (flags.guarantee !== undefined || flags.limit !== undefined) {
      const current = (await withRoles(flags.master, (c) => c.getRoles())).roles?.find((r) => r.name === args.role);
      req.setQuota = true;
      req.guarantee = flags.guarantee !== undefined ? scalars('guarantee', flags.guarantee) : current?.guarantee ?? [];
      req.limit = flags.limit !== undefined ? scalars('limit', flags.limit) : current?.limit ?? [];
    }
    if (req.weight === undefined && !req.setQuota) throw new UserError('nothing to set: give --weight, --guarantee and/or --limit');
    const res = await withRoles(flags.master, (c) => c.updateRole(req));
    if (flags.json) {
      this.printJson(toJson(agora.v1.RoleState, (res.role ?? {}) as agora.v1.RoleState));
      return;
    }
    const r = res.role;
    this.log(`role ${r?.name}: weight ${r?.weight ?? 1}, guarantee ${fmtResources(r?.guarantee) || '-'}, limit ${fmtResources(r?.limit) || '-'}`);
  }
}

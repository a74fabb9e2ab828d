import { Args } from '@oclif/core';
import { agora, idOf } from '@agora/core';
import { BaseCommand } from '../base-command.js';
import { jsonFlag, masterFlag } from '../flags.js';
import { withRoles } from '../roles-client.js';
import { renderTable, toJson } from '../table.js';

export default class WhyCommand extends BaseCommand {
  static override summary = 'Explain, agent by agent, why a framework is or is not offered resources.';
  static override description = 'Reasons: filtered (declined) until a time, reserved for another role, quota limit of a role reached, too little free, suppressed, or offerable (waiting for its turn).';
  static override examples = ['<%= config.bin %> why fw-1a2b3c4d-0001', '<%= config.bin %> why fw-1a2b3c4d-0001 --json'];
  static override args = { framework: Args.string({ description: 'Framework ID (see `agora frameworks`).', required: true }) };
  static override flags = { master: masterFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(WhyCommand);
    const res = await withRoles(flags.master, (c) => c.explainOffers(args.framework));
    if (flags.json) {
      this.printJson(toJson(agora.v1.ExplainOffersResponse, res));
      return;
    }
    for (const n of res.notes ?? []) this.log(`note: ${n}`);
    const agents = res.agents ?? [];
    if (agents.length === 0) {
      this.log('No agents.');
      return;
    }
    this.log(renderTable(['AGENT', 'HOST', 'OFFERABLE', 'WHY'], agents.map((a) => [idOf(a.agentId), a.hostname ?? '', a.offerable ? 'yes' : 'no', (a.reasons ?? []).join('; ')])));
  }
}

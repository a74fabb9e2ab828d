import { Args } from '@oclif/core';
import { agora } from '@agora/core';
import { BaseCommand } from '../../base-command.js';
import { UserError } from '../../errors.js';
import { jsonFlag, masterFlag } from '../../flags.js';
import { toJson } from '../../table.js';
import { refusal } from './drain.js';

export default class AgentReactivateCommand extends BaseCommand {
  static override summary = 'End the drain of an agent: it is offered again.';
  static override examples = ['<%= config.bin %> agent reactivate agent-0f3a…'];
  static override args = { id: Args.string({ description: 'Agent ID (see `agora agents`).', required: true }) };
  static override flags = { master: masterFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AgentReactivateCommand);
    let refused: UserError | undefined;
    const res = await this.withOperator(flags.master, (c) => c.reactivateAgent(args.id).catch((err: unknown) => {
      refused = refusal(err);
      if (refused) return undefined;
      throw err;
    }));
    if (refused || !res) throw refused ?? new UserError('no answer from the master');
    if (flags.json) {
      this.printJson(toJson(agora.v1.AgentState, (res.agent ?? {}) as agora.v1.AgentState));
      return;
    }
    this.log(`agent ${args.id}: reactivated (offered again)`);
  }
}

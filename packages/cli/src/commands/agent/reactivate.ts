import { Args } from '@oclif/core';
import { AgentCommand } from '../../agent-command.js';
import { jsonFlag, masterFlag } from '../../flags.js';

export default class AgentReactivateCommand extends AgentCommand {
  static override summary = 'End the drain of an agent: it is offered again.';
  static override examples = ['<%= config.bin %> agent reactivate agent-0f3a…'];
  static override args = { id: Args.string({ description: 'Agent ID (see `agora agents`).', required: true }) };
  static override flags = { master: masterFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AgentReactivateCommand);
    if (!(await this.agentCall(flags.master, flags.json, (c) => c.reactivateAgent(args.id)))) return;
    this.log(`agent ${args.id}: reactivated (offered again)`);
  }
}

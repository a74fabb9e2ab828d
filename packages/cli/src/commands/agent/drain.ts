import { Args, Flags } from '@oclif/core';
import { AgentCommand } from '../../agent-command.js';
import { jsonFlag, masterFlag } from '../../flags.js';
import { drainName } from '../agents.js';

export default class AgentDrainCommand extends AgentCommand {
  static override summary = 'Drain an agent for maintenance: no more offers, tasks may finish, the rest are killed after the grace period.';
  static override description = 'Outstanding offers of the agent are rescinded. Tasks still running when the grace period ends are killed; their TASK_KILLED says REASON_AGENT_DRAINING. The agent shows DRAINING, then DRAINED once no task is left, in `agora agents`, and stays unoffered until `agora agent reactivate`. The drain is kept in the registry.';
  static override examples = ['<%= config.bin %> agent drain agent-0f3a… --grace 120', '<%= config.bin %> agent drain agent-0f3a… --grace 0   # kill now'];
  static override args = { id: Args.string({ description: 'Agent ID (see `agora agents`).', required: true }) };
  static override flags = {
    master: masterFlag,
    json: jsonFlag,
    grace: Flags.integer({ summary: "Seconds the agent's tasks get to finish before they are killed (default: the master's, 60).", min: 0 }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AgentDrainCommand);
    const a = await this.agentCall(flags.master, flags.json, (c) => c.drainAgent(args.id, flags.grace));
    if (!a) return;
    const deadline = a?.drainDeadline ? new Date(a.drainDeadline * 1000).toISOString() : '-';
    this.log(`agent ${args.id}: ${drainName(a)}, ${a?.taskCount ?? 0} task(s) left; still running at ${deadline} are killed`);
  }
}

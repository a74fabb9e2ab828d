import { Args, Flags } from '@oclif/core';
import { agora, grpc } from '@agora/core';
import { BaseCommand } from '../../base-command.js';
import { UserError } from '../../errors.js';
import { jsonFlag, masterFlag } from '../../flags.js';
import { toJson } from '../../table.js';
import { drainName } from '../agents.js';

/** A refusal by the master (unknown agent, bad grace) is the answer, not an unreachable master. */
export function refusal(err: unknown): UserError | undefined {
  const code = (err as { code?: number }).code;
  if (code === grpc.status.INVALID_ARGUMENT || code === grpc.status.NOT_FOUND) return new UserError((err as { details?: string }).details ?? String(err));
  return undefined;
}

export default class AgentDrainCommand extends BaseCommand {
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
    let refused: UserError | undefined;
    const res = await this.withOperator(flags.master, (c) => c.drainAgent(args.id, flags.grace).catch((err: unknown) => {
      refused = refusal(err);
      if (refused) return undefined;
      throw err;
    }));
    if (refused || !res) throw refused ?? new UserError('no answer from the master');
    if (flags.json) {
      this.printJson(toJson(agora.v1.AgentState, (res.agent ?? {}) as agora.v1.AgentState));
      return;
    }
    const a = res.agent;
    const deadline = a?.drainDeadline ? new Date(a.drainDeadline * 1000).toISOString() : '-';
    this.log(`agent ${args.id}: ${drainName(a)}, ${a?.taskCount ?? 0} task(s) left; still running at ${deadline} are killed`);
  }
}

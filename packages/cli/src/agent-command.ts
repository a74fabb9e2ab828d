/** What `agora agent drain` and `agora agent reactivate` share: one operator call about an agent. */
import { agora, grpc, type OperatorClient } from '@agora/core';
import { BaseCommand } from './base-command.js';
import { UserError } from './errors.js';
import { toJson } from './table.js';

/** A refusal by the master (unknown agent, bad grace) is the answer, not an unreachable master. */
export function refusal(err: unknown): UserError | undefined {
  const code = (err as { code?: number }).code;
  if (code === grpc.status.INVALID_ARGUMENT || code === grpc.status.NOT_FOUND) return new UserError((err as { details?: string }).details ?? String(err));
  return undefined;
}

export abstract class AgentCommand extends BaseCommand {
  /**
   * Makes `call` on the master and returns the agent's state it answers with; a refusal
   * becomes a one-line UserError. With `json`, prints that state and returns undefined.
   */
  protected async agentCall(master: string, json: boolean, call: (c: OperatorClient) => Promise<{ agent?: agora.v1.IAgentState | null }>): Promise<agora.v1.IAgentState | undefined> {
    let refused: UserError | undefined;
    const res = await this.withOperator(master, (c) => call(c).catch((err: unknown) => {
      refused = refusal(err);
      if (refused) return undefined;
      throw err;
    }));
    if (refused || !res) throw refused ?? new UserError('no answer from the master');
    if (json) {
      this.printJson(toJson(agora.v1.AgentState, (res.agent ?? {}) as agora.v1.AgentState));
      return undefined;
    }
    return res.agent ?? {};
  }
}

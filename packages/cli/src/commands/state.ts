import { agora, resources } from '@agora/core';
import { BaseCommand } from '../base-command.js';
import { jsonFlag, masterFlag } from '../flags.js';
import { age, fmtResources, renderPairs, shortState, toJson } from '../table.js';

export default class StateCommand extends BaseCommand {
  static override summary = "Show a summary of the cluster's state.";
  static override examples = ['<%= config.bin %> state', '<%= config.bin %> state --json --master 10.0.0.1:5050'];
  static override flags = { master: masterFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(StateCommand);
    const state = await this.withOperator(flags.master, (c) => c.getState({}));
    if (flags.json) {
      this.printJson(toJson(agora.v1.State, state));
      return;
    }
    const mi = state.masterInfo;
    const agents = state.agents ?? [];
    const frameworks = state.frameworks ?? [];
    const byState = new Map<string, number>();
    for (const t of state.tasks ?? []) byState.set(shortState(t.state), (byState.get(shortState(t.state)) ?? 0) + 1);
    const total = resources.sum(agents.filter((a) => a.active).map((a) => a.totalResources ?? []));
    const used = resources.sum(agents.map((a) => a.allocatedResources ?? []));
    const offered = resources.sum(agents.map((a) => a.offeredResources ?? []));
    const pairs: [string, string][] = [
      ['master', `${mi?.address ?? '?'}${mi?.leader ? ' (leader)' : mi?.leaderAddress ? ` (leader: ${mi.leaderAddress})` : ''}`],
      ['master id', mi?.id || '-'],
      ['version', mi?.version || '-'],
      ['up', age(mi?.startTime)],
      ['agents', `${agents.filter((a) => a.active).length} active, ${agents.length} known`],
      ['frameworks', `${frameworks.filter((f) => f.active).length} active, ${frameworks.length} known`],
      ['tasks', byState.size ? [...byState].map(([s, n]) => `${n} ${s}`).join(', ') : 'none running'],
      ['completed tasks', String((state.completedTasks ?? []).length)],
      ['outstanding offers', String((state.offers ?? []).length)],
      ['total resources', fmtResources(total)],
      ['allocated', fmtResources(used)],
      ['offered', fmtResources(offered)],
      ['idle', fmtResources(resources.subtract(resources.subtract(total, resources.stripAllocation(used)), resources.stripAllocation(offered)))],
    ];
    this.log(renderPairs(pairs));
    if (agents.length === 0) this.log(`No agent has registered yet: start one with '${this.config.bin} agent --master ${mi?.address || flags.master}'.`);
  }
}

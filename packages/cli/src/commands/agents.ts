import { agora, idOf, type Attribute } from '@agora/core';
import { BaseCommand } from '../base-command.js';
import { jsonFlag, masterFlag } from '../flags.js';
import { age, fmtResources, renderTable, toJson } from '../table.js';

/** `rack:r1;zone:a`. */
export function fmtAttributes(attrs: readonly Attribute[] | null | undefined): string {
  return (attrs ?? []).map((a) => {
    const v = a.text?.value ?? (a.scalar ? String(a.scalar.value) : a.set ? `{${(a.set.item ?? []).join(',')}}` : a.ranges ? `[${(a.ranges.range ?? []).map((r) => `${r.begin}-${r.end}`).join(',')}]` : '');
    return `${a.name}:${v}`;
  }).join(';') || '-';
}

export default class AgentsCommand extends BaseCommand {
  static override summary = 'List the agents known to the master.';
  static override examples = ['<%= config.bin %> agents', '<%= config.bin %> agents --json'];
  static override flags = { master: masterFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { flags } = await this.parse(AgentsCommand);
    const res = await this.withOperator(flags.master, (c) => c.getAgents());
    if (flags.json) {
      this.printJson((res.agents ?? []).map((a) => toJson(agora.v1.AgentState, a as agora.v1.AgentState)));
      return;
    }
    const agents = res.agents ?? [];
    if (agents.length === 0) {
      this.log('No agents.');
      return;
    }
    this.log(renderTable(
      ['ID', 'HOSTNAME', 'ADDRESS', 'ACTIVE', 'TASKS', 'RESOURCES', 'ALLOCATED', 'ATTRIBUTES', 'HEARTBEAT'],
      agents.map((a) => [
        idOf(a.agentInfo?.id),
        a.agentInfo?.hostname ?? '',
        a.agentInfo?.address ?? '',
        a.active ? 'yes' : 'no',
        String(a.taskCount ?? 0),
        fmtResources(a.totalResources),
        fmtResources(a.allocatedResources),
        fmtAttributes(a.agentInfo?.attributes),
        a.lastHeartbeat ? `${age(a.lastHeartbeat)} ago` : '-',
      ]),
    ));
  }
}

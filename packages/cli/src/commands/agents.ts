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

/** REACHABLE / DISCONNECTED / UNREACHABLE / RECOVERING, as the master sees the agent. */
export function reachabilityName(a: agora.v1.AgentState.$Properties | null | undefined): string {
  const r = a?.reachability ?? 0;
  if (r === 0) return a?.active ? 'REACHABLE' : 'INACTIVE';
  return agora.v1.AgentState.Reachability[r] ?? String(r);
}

/** '' / DRAINING / DRAINED. */
export function drainName(a: agora.v1.AgentState.$Properties | null | undefined): string {
  const d = a?.drain ?? 0;
  return d === 0 ? '' : agora.v1.AgentState.Drain[d] ?? String(d);
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
      ['ID', 'HOSTNAME', 'ADDRESS', 'STATE', 'TASKS', 'RESOURCES', 'ALLOCATED', 'ATTRIBUTES', 'HEARTBEAT'],
      agents.map((a) => [
        idOf(a.agentInfo?.id),
        a.agentInfo?.hostname ?? '',
        a.agentInfo?.address ?? '',
        [reachabilityName(a), drainName(a)].filter(Boolean).join(' '),
        String(a.taskCount ?? 0),
        fmtResources(a.totalResources),
        fmtResources(a.allocatedResources),
        fmtAttributes(a.agentInfo?.attributes),
        a.lastHeartbeat ? `${age(a.lastHeartbeat)} ago` : '-',
      ]),
    ));
  }
}

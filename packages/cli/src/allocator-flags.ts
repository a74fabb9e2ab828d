/**
 * Allocation policy flags shared by `agora master` and `agora local`: the sorter, the agent
 * order and preemption (see @agora/master's MasterOptions for what each does).
 */
import { Flags } from '@oclif/core';

export const allocatorFlags = {
  sorter: Flags.string({ summary: 'Who is offered first: drf (fair shares), priority (framework priority), round-robin or random.', options: ['drf', 'priority', 'round-robin', 'random'], default: 'drf' }),
  'agent-order': Flags.string({ summary: 'Agent order: spread (most free first) or binpack (fill used agents first).', options: ['spread', 'binpack'], default: 'spread' }),
  preemption: Flags.string({ summary: 'on: roles below their guarantee or fair share reclaim tasks from roles above (inverse offer, then kill).', options: ['off', 'on'], default: 'off' }),
  'preemption-grace': Flags.integer({ summary: 'Seconds between the inverse offer and the kill (with --preemption on).', default: 5, min: 0 }),
};

/** The master options the allocator flags select. */
export function allocatorOptions(flags: { sorter: string; 'agent-order': string; preemption: string; 'preemption-grace': number }): Record<string, unknown> {
  return { sorter: flags.sorter, agentOrder: flags['agent-order'], preemption: flags.preemption, preemptionGraceSeconds: flags['preemption-grace'] };
}

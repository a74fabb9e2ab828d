/**
 * Failure-detection flags shared by `agora master` and `agora local` (see @agora/master's
 * MasterOptions: agentPingTimeoutSeconds, agentReregisterTimeoutSeconds, agentGoneSeconds,
 * drainGraceSeconds). Unset flags leave the master's defaults in force.
 */
import { Flags } from '@oclif/core';

export const failureFlags = {
  'agent-ping-timeout': Flags.integer({ summary: 'Seconds of agent silence before it is unreachable (its tasks reported TASK_UNREACHABLE / TASK_LOST). Default 10.', min: 1 }),
  'agent-reregister-timeout': Flags.integer({ summary: 'Seconds known agents have to re-register after a master start before they are unreachable. Default 60.', min: 1 }),
  'agent-gone': Flags.integer({ summary: 'Seconds an agent may stay unreachable before it is GONE (0: never). Default 600.', min: 0 }),
  'drain-grace': Flags.integer({ summary: 'Default grace period of `agora agent drain`, in seconds. Default 60.', min: 0 }),
};

/** The master options the failure flags select (only those given). */
export function failureOptions(flags: { 'agent-ping-timeout'?: number; 'agent-reregister-timeout'?: number; 'agent-gone'?: number; 'drain-grace'?: number }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (flags['agent-ping-timeout'] !== undefined) out.agentPingTimeoutSeconds = flags['agent-ping-timeout'];
  if (flags['agent-reregister-timeout'] !== undefined) out.agentReregisterTimeoutSeconds = flags['agent-reregister-timeout'];
  if (flags['agent-gone'] !== undefined) out.agentGoneSeconds = flags['agent-gone'];
  if (flags['drain-grace'] !== undefined) out.drainGraceSeconds = flags['drain-grace'];
  return out;
}

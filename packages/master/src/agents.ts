/**
 * Agents as the master tracks them: identity and connection. Their resources live in the
 * ledger (ledger.ts), their tasks in the task table (tasks.ts).
 */
import type { AgentEvent, AgentInfo } from '@agora/core';

/** Where an agent's events go (its AgentLink stream). */
export interface AgentSink {
  send(event: AgentEvent): void;
  end(): void;
  readonly closed: boolean;
}

export class AgentEntry {
  /** Registered and heard from within the ping timeout. */
  active = false;
  sink: AgentSink | undefined;
  /** Milliseconds since the epoch of its latest call (heartbeat or any other). */
  lastSeenMs = 0;
  /** Seconds since the epoch of its latest heartbeat, for the operator API. */
  lastHeartbeat = 0;

  constructor(readonly id: string, public info: AgentInfo, public registeredTime: number) {}

  get hostname(): string {
    return this.info.hostname ?? '';
  }

  send(event: AgentEvent): boolean {
    if (!this.active || !this.sink) return false;
    this.sink.send(event);
    return true;
  }
}

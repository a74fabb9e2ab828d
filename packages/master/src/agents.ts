/**
 * Agents as the master tracks them: identity and connection. Their resources live in the
 * ledger (ledger.ts), their tasks in the task table (tasks.ts).
 */
import type { AgentEvent, AgentInfo, TimerHandle } from '@agora/core';

/** Where an agent's events go (its AgentLink stream). */
export interface AgentSink {
  send(event: AgentEvent): void;
  end(): void;
  readonly closed: boolean;
}

/** How the master hears from an agent (see the README's glossary). */
export type Reachability = 'reachable' | 'disconnected' | 'unreachable' | 'recovering';

/** A drain in progress (or done) on one agent. */
export interface DrainState {
  /** ms since the epoch when the tasks still running are killed. */
  deadline: number;
  /** True once the deadline passed and the kills went out. */
  killed: boolean;
  timer: TimerHandle | undefined;
}

export class AgentEntry {
  /** Registered, its stream open, and heard from within the ping timeout. */
  active = false;
  /**
   * Known from the registry after a master (re)start and not yet re-registered: its tasks are
   * unknown to this master, so reconciliation about it waits (see reconciliation.ts).
   */
  recovering = false;
  /** ms since the epoch when it was marked unreachable (undefined: it is not). */
  unreachableSince: number | undefined;
  /** Set while drained or draining (`DrainAgent`); cleared by `ReactivateAgent`. */
  drain: DrainState | undefined;
  sink: AgentSink | undefined;
  /** Milliseconds since the epoch of its latest call (heartbeat or any other). */
  lastSeenMs = 0;
  /** Seconds since the epoch of its latest heartbeat, for the operator API. */
  lastHeartbeat = 0;

  constructor(readonly id: string, public info: AgentInfo, public registeredTime: number) {}

  get reachability(): Reachability {
    if (this.active) return 'reachable';
    if (this.unreachableSince !== undefined) return 'unreachable';
    return this.recovering ? 'recovering' : 'disconnected';
  }

  get hostname(): string {
    return this.info.hostname ?? '';
  }

  send(event: AgentEvent): boolean {
    if (!this.active || !this.sink) return false;
    this.sink.send(event);
    return true;
  }
}

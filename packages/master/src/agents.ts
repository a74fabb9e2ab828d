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
  private isActive = false;
  private unreachableAt: number | undefined;
  private drainState: DrainState | undefined;
  private current: AgentInfo;
  /**
   * Known from the registry after a master (re)start and not yet re-registered: its tasks are
   * unknown to this master, so reconciliation about it waits (see reconciliation.ts).
   */
  recovering = false;
  sink: AgentSink | undefined;
  /** Milliseconds since the epoch of its latest call (heartbeat or any other). */
  lastSeenMs = 0;
  /** Seconds since the epoch of its latest heartbeat, for the operator API. */
  lastHeartbeat = 0;
  /** Called when what operators see of it changes (set by the books it is in; see events.ts). */
  onChange: (() => void) | undefined;

  constructor(readonly id: string, info: AgentInfo, public registeredTime: number) {
    this.current = info;
  }

  /** Registered, its stream open, and heard from within the ping timeout. */
  get active(): boolean {
    return this.isActive;
  }

  set active(v: boolean) {
    const changed = v !== this.isActive;
    this.isActive = v;
    if (changed) this.onChange?.();
  }

  /** ms since the epoch when it was marked unreachable (undefined: it is not). */
  get unreachableSince(): number | undefined {
    return this.unreachableAt;
  }

  set unreachableSince(v: number | undefined) {
    const changed = v !== this.unreachableAt;
    this.unreachableAt = v;
    if (changed) this.onChange?.();
  }

  /** Set while drained or draining (`DrainAgent`); cleared by `ReactivateAgent`. */
  get drain(): DrainState | undefined {
    return this.drainState;
  }

  set drain(v: DrainState | undefined) {
    const changed = v !== this.drainState;
    this.drainState = v;
    if (changed) this.onChange?.();
  }

  /** As the agent last registered with it. */
  get info(): AgentInfo {
    return this.current;
  }

  set info(v: AgentInfo) {
    this.current = v;
    this.onChange?.();
  }

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

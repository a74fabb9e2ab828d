/**
 * Frameworks as the master tracks them: identity, connection, filters, suppression and what
 * they hold (the usage DRF orders by). A FrameworkEntry is itself the allocator's
 * FrameworkSlot, so an allocation round copies nothing per framework.
 */
import { FrameworkCapability, type Event, type FrameworkInfo, type Resource, type TimerHandle } from '@agora/core';
import type { FrameworkSlot } from './allocator/index.js';
import type { Scalars } from './ledger.js';

/** Where a framework's events go (its scheduler stream). */
export interface EventSink {
  send(event: Event): void;
  end(): void;
  readonly closed: boolean;
}

/** A refusal of an agent's resources until `until` (ms), for resources within `resources`. */
export interface Filter {
  until: number;
  resources: Resource[];
}

export class FrameworkEntry implements FrameworkSlot {
  /** Connected to a scheduler stream right now. */
  connected = false;
  sink: EventSink | undefined;
  suppressed = false;
  /** Torn down; kept only by stale references. */
  removed = false;
  readonly filters = new Map<string, Filter>();
  readonly usage: Scalars = new Map();
  failoverTimer: TimerHandle | undefined;
  /** Seconds since the epoch of the latest (re-)subscription. */
  subscribedTime = 0;

  constructor(readonly id: string, public info: FrameworkInfo, public registeredTime: number) {}

  /** The role its offers are allocated to: its first role, '*' when it gave none. */
  get role(): string {
    return this.info.roles?.[0] || '*';
  }

  get priority(): number {
    return this.info.priority ?? 0;
  }

  hasCapability(c: FrameworkCapability): boolean {
    return (this.info.capabilities ?? []).includes(c);
  }

  get partitionAware(): boolean {
    return this.hasCapability(FrameworkCapability.PARTITION_AWARE);
  }

  send(event: Event): void {
    if (this.connected && this.sink) this.sink.send(event);
  }
}

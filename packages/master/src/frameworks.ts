/**
 * Frameworks as the master tracks them: identity, connection, filters, suppression and what
 * they hold (the usage DRF orders by). A FrameworkEntry is itself the allocator's
 * FrameworkSlot, so an allocation round copies nothing per framework.
 */
import { FrameworkCapability, type Event, type FrameworkInfo, type Resource, type TimerHandle } from '@agora/core';
import type { FrameworkSlot } from './allocator/index.js';
import { addScalars, type Scalars } from './ledger.js';

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
  /** Roles suppressed with SUPPRESS{roles}; the framework's other roles still get offers. */
  readonly suppressedRoles = new Set<string>();
  /** Torn down; kept only by stale references. */
  removed = false;
  readonly filters = new Map<string, Filter>();
  /** Allocated + offered over all roles. */
  readonly usage: Scalars = new Map();
  /** Allocated + offered per role (kept with `usage` by `charge`). */
  readonly roleUsage = new Map<string, Scalars>();
  failoverTimer: TimerHandle | undefined;
  /** Seconds since the epoch of the latest (re-)subscription. */
  subscribedTime = 0;

  constructor(readonly id: string, public info: FrameworkInfo, public registeredTime: number) {}

  /** Its first role ('*' when it gave none): the role of tasks that name none. */
  get role(): string {
    return this.info.roles?.[0] || '*';
  }

  /** May take offers now (the allocator still counts the usage of inactive ones). */
  get active(): boolean {
    return this.connected && !this.removed;
  }

  /** Every role it subscribed with (MULTI_ROLE), '*' when it gave none. */
  get roles(): readonly string[] {
    const r = this.info.roles ?? [];
    return r.length > 0 ? r : ['*'];
  }

  /** Counts `res` (sign 1) or stops counting it (-1) for `role`, in the total and per role. */
  charge(role: string, res: readonly Resource[], sign: 1 | -1): void {
    addScalars(this.usage, res, sign);
    let u = this.roleUsage.get(role);
    if (!u) {
      if (sign < 0) return;
      this.roleUsage.set(role, (u = new Map()));
    }
    addScalars(u, res, sign);
    if (u.size === 0) this.roleUsage.delete(role);
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

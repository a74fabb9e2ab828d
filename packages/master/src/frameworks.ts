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

/** A set that reports every change, so the owner can bump its version. */
class WatchedSet extends Set<string> {
  constructor(private readonly changed: () => void) {
    super();
  }

  override add(value: string): this {
    if (!this.has(value)) this.changed();
    return super.add(value);
  }

  override delete(value: string): boolean {
    const had = super.delete(value);
    if (had) this.changed();
    return had;
  }

  override clear(): void {
    if (this.size > 0) this.changed();
    super.clear();
  }
}

export class FrameworkEntry implements FrameworkSlot {
  /**
   * Bumped on every change the allocator orders by (connection, suppression, roles, priority,
   * usage), so that the allocator's kept role tree re-reads only the frameworks that changed
   * (see AllocatorState). Filters are read live and need no bump.
   */
  version = 0;
  private isConnected = false;
  private isSuppressed = false;
  private isRemoved = false;
  private current: FrameworkInfo;
  sink: EventSink | undefined;
  /** Roles suppressed with SUPPRESS{roles}; the framework's other roles still get offers. */
  readonly suppressedRoles = new WatchedSet(() => this.version++);
  readonly filters = new Map<string, Filter>();
  /** Allocated + offered over all roles. */
  readonly usage: Scalars = new Map();
  /** Allocated + offered per role (kept with `usage` by `charge`). */
  readonly roleUsage = new Map<string, Scalars>();
  failoverTimer: TimerHandle | undefined;
  /** Seconds since the epoch of the latest (re-)subscription. */
  subscribedTime = 0;
  /**
   * Called when what operators see of it changes: connection, suppression, removal, info (set
   * by the books it is in; see events.ts). Usage changes do not call it: they come with tasks.
   */
  onChange: (() => void) | undefined;

  constructor(readonly id: string, info: FrameworkInfo, public registeredTime: number) {
    this.current = info;
  }

  /** Connected to a scheduler stream right now. */
  get connected(): boolean {
    return this.isConnected;
  }

  set connected(v: boolean) {
    if (v === this.isConnected) return;
    this.version++;
    this.isConnected = v;
    this.onChange?.();
  }

  /** SUPPRESS without roles: no offers at all until REVIVE. */
  get suppressed(): boolean {
    return this.isSuppressed;
  }

  set suppressed(v: boolean) {
    if (v === this.isSuppressed) return;
    this.version++;
    this.isSuppressed = v;
    this.onChange?.();
  }

  /** Torn down; kept only by stale references. */
  get removed(): boolean {
    return this.isRemoved;
  }

  set removed(v: boolean) {
    if (v === this.isRemoved) return;
    this.version++;
    this.isRemoved = v;
    this.onChange?.();
  }

  /** As the scheduler last subscribed with it (roles, priority, capabilities, …). */
  get info(): FrameworkInfo {
    return this.current;
  }

  set info(v: FrameworkInfo) {
    this.version++;
    this.current = v;
    this.onChange?.();
  }

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
    this.version++;
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

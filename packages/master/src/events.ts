/**
 * The master's change feed: a small synchronous event bus the books emit on (agents and
 * frameworks added, updated, removed; tasks updated), read by the HTTP event stream, the
 * metrics and the task history. Events carry references to the live entries, not copies:
 * turning them into JSON is the listener's business, and is skipped entirely when nobody
 * listens, so the feed costs one branch per change on the hot path.
 */
import type { TaskState } from '@agora/core';
import type { AgentEntry } from './agents.js';
import type { FrameworkEntry } from './frameworks.js';
import type { TaskRecord } from './tasks.js';

/** One change of the master's books. */
export type MasterEvent =
  | { type: 'agent_added' | 'agent_updated' | 'agent_removed'; agent: AgentEntry }
  | { type: 'framework_added' | 'framework_updated' | 'framework_removed'; framework: FrameworkEntry }
  /** A task was added (`previous` undefined) or changed state (or got a new status). */
  | { type: 'task_updated'; task: TaskRecord; previous: TaskState | undefined };

/** Event type names, as the HTTP event stream names them. */
export type MasterEventType = MasterEvent['type'];

export type MasterEventListener = (event: MasterEvent) => void;

/** A synchronous fan-out; a listener that throws is logged by the caller's `onError`, never breaks the emitter. */
export class MasterEvents {
  private readonly listeners = new Set<MasterEventListener>();

  constructor(private readonly onError: (e: unknown) => void = () => undefined) {}

  /** True when someone listens (emitters may skip building events otherwise). */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  /** Subscribes; returns the unsubscribe function. */
  on(listener: MasterEventListener): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  emit(event: MasterEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (e) {
        this.onError(e);
      }
    }
  }
}

/** Something whose changes can be reported (agents and frameworks call it from their setters). */
export interface Observed {
  onChange: (() => void) | undefined;
}

/**
 * A Map of agents or frameworks that reports additions and removals, and wires each entry's
 * `onChange` to an update event while it is in the map. Keeps the books' code unaware of
 * the feed: they keep calling `set` and `delete`.
 */
export class WatchedMap<V extends Observed> extends Map<string, V> {
  constructor(private readonly report: (kind: 'added' | 'updated' | 'removed', value: V) => void) {
    super();
  }

  override set(key: string, value: V): this {
    const prev = super.get(key);
    if (prev === value) return this;
    if (prev) prev.onChange = undefined;
    super.set(key, value);
    value.onChange = () => this.report('updated', value);
    // The constructor of Map calls set() before `report` exists (never with entries here).
    if (this.report) this.report(prev ? 'updated' : 'added', value);
    return this;
  }

  override delete(key: string): boolean {
    const prev = super.get(key);
    if (!super.delete(key)) return false;
    if (prev) {
      prev.onChange = undefined;
      this.report('removed', prev);
    }
    return true;
  }

  override clear(): void {
    for (const key of [...this.keys()]) this.delete(key);
  }
}

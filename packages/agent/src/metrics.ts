/**
 * What the agent counts for its Prometheus metrics: plain numbers, moved as things happen and
 * kept from the first moment (before the metrics server, loaded lazily, is up). The registry
 * and the HTTP server that expose them live in metrics-server.ts.
 */
import { taskStateName } from '@agora/core';
import type { PersistedEntry } from './status-updates.js';

/** How a task came to the agent. */
export type LaunchKind = 'command' | 'group' | 'custom';

export class AgentCounters {
  /** Tasks handed to the agent, by how. */
  readonly launched = new Map<LaunchKind, number>();
  /** Status updates generated, by state name (retransmissions not counted). */
  readonly updates = new Map<string, number>();

  /** Counts tasks handed to the agent. */
  launch(kind: LaunchKind, tasks = 1): void {
    this.launched.set(kind, (this.launched.get(kind) ?? 0) + tasks);
  }

  /** Sees every entry the status update manager persists: each new update exactly once. */
  persisted(entry: PersistedEntry): void {
    if (entry.kind !== 'update') return;
    const state = taskStateName(entry.status.state ?? 0);
    this.updates.set(state, (this.updates.get(state) ?? 0) + 1);
  }
}

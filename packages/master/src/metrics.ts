/**
 * Counters and timings the operator API reports (GetMetrics). Plain numbers bumped in place:
 * metrics sit on the hot path of every offer and update, so no maps or labels here.
 */
export class MasterMetrics {
  offersSent = 0;
  offersDeclined = 0;
  offersRescinded = 0;
  offersAccepted = 0;
  tasksLaunched = 0;
  tasksError = 0;
  tasksDropped = 0;
  statusUpdatesReceived = 0;
  statusUpdatesForwarded = 0;
  acknowledgementsForwarded = 0;
  frameworkMessages = 0;
  executorMessages = 0;
  invalidCalls = 0;
  allocationRuns = 0;
  allocationLastMs = 0;
  allocationTotalMs = 0;
  agentsRegistered = 0;
  agentsReregistered = 0;
  agentsDeactivated = 0;
  /** Marked unreachable (silent past the ping timeout, or not back after a master restart). */
  agentsUnreachable = 0;
  /** Back after being unreachable. */
  agentsReachableAgain = 0;
  agentsGone = 0;
  /** Reconciliation questions held while a recovering agent might still hold the task. */
  reconciliationsHeld = 0;
  frameworksSubscribed = 0;
  frameworksTornDown = 0;
  /** Terminal task states seen, by state name. */
  readonly terminal = new Map<string, number>();

  /** Told of each allocation round's duration (the Prometheus histogram; see prometheus.ts). */
  onAllocation: ((ms: number) => void) | undefined;

  recordAllocation(ms: number): void {
    this.allocationRuns++;
    this.allocationLastMs = ms;
    this.allocationTotalMs += ms;
    this.onAllocation?.(ms);
  }

  countTerminal(state: string): void {
    this.terminal.set(state, (this.terminal.get(state) ?? 0) + 1);
  }

  /** Counters as `name → value` (gauges are added by the operator API). */
  counters(): [string, number][] {
    const out: [string, number][] = [
      ['master/offers_sent', this.offersSent],
      ['master/offers_declined', this.offersDeclined],
      ['master/offers_rescinded', this.offersRescinded],
      ['master/offers_accepted', this.offersAccepted],
      ['master/tasks_launched', this.tasksLaunched],
      ['master/tasks_error', this.tasksError],
      ['master/tasks_dropped', this.tasksDropped],
      ['master/status_updates_received', this.statusUpdatesReceived],
      ['master/status_updates_forwarded', this.statusUpdatesForwarded],
      ['master/acknowledgements_forwarded', this.acknowledgementsForwarded],
      ['master/framework_messages', this.frameworkMessages],
      ['master/executor_messages', this.executorMessages],
      ['master/invalid_calls', this.invalidCalls],
      ['master/allocation_runs', this.allocationRuns],
      ['master/allocation_last_ms', this.allocationLastMs],
      ['master/allocation_avg_ms', this.allocationRuns > 0 ? this.allocationTotalMs / this.allocationRuns : 0],
      ['master/agents_registered', this.agentsRegistered],
      ['master/agents_reregistered', this.agentsReregistered],
      ['master/agents_deactivated', this.agentsDeactivated],
      ['master/agents_unreachable', this.agentsUnreachable],
      ['master/agents_reachable_again', this.agentsReachableAgain],
      ['master/agents_gone', this.agentsGone],
      ['master/reconciliations_held', this.reconciliationsHeld],
      ['master/frameworks_subscribed', this.frameworksSubscribed],
      ['master/frameworks_torn_down', this.frameworksTornDown],
    ];
    for (const [state, n] of this.terminal) out.push([`master/tasks_terminal/${state}`, n]);
    return out;
  }
}

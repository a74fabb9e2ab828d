/**
 * A small scripted scheduler on the public SDK for integration tests: it launches queued tasks
 * on offers that fit and records every status update per task.
 */
import { SchedulerDriver, commandTask, offerFits, isTerminalState, resources as R, taskStateName, type FrameworkInfo, type Offer, type Resource, type TaskStatus } from '@agora/sdk';

export interface Wanted {
  name: string;
  command: string;
  cpus?: number;
  mem?: number;
  /** MiB of sandbox disk (a quota the agent enforces). */
  disk?: number;
  /** Environment variables whose values are secret. */
  secrets?: Record<string, string>;
  /** CommandInfo.user: the account the task runs as. */
  user?: string;
  killGracePeriodSeconds?: number;
}

export class TestScheduler {
  readonly driver: SchedulerDriver;
  readonly updates = new Map<string, TaskStatus[]>();
  readonly launchedOn = new Map<string, string>();
  /** When each task was handed to the driver (ms since the epoch). */
  readonly launchedAt = new Map<string, number>();
  /** Task name → ID of the offer it was launched on (`o-<master>-<n>`: names the master that made it). */
  readonly launchedWith = new Map<string, string>();
  private queue: Wanted[] = [];
  private listeners = new Set<() => void>();
  /** Most tasks launched per offer (undefined: as many as fit). */
  perOffer: number | undefined;
  /** Offers seen, for tests that inspect them. */
  offersSeen = 0;

  constructor(master: string | string[], name = 'test-scheduler', options: {
    perOffer?: number; refuseSeconds?: number; failoverTimeoutSeconds?: number;
    /** FrameworkInfo capabilities, e.g. PARTITION_AWARE. */
    capabilities?: FrameworkInfo['capabilities'];
    /** Re-subscribe as this framework (failover). */
    frameworkId?: string;
  } = {}) {
    this.perOffer = options.perOffer;
    const refuseSeconds = options.refuseSeconds ?? 0;
    this.driver = new SchedulerDriver({
      master,
      framework: {
        name, failoverTimeoutSeconds: options.failoverTimeoutSeconds ?? 0,
        ...(options.capabilities ? { capabilities: options.capabilities } : {}),
        ...(options.frameworkId ? { id: { value: options.frameworkId } } : {}),
      },
      callbacks: {
        resourceOffers: (driver, offers) => {
          for (const offer of offers) {
            this.offersSeen++;
            const tasks = this.take(offer);
            if (tasks.length) driver.launch(offer.id?.value ?? '', tasks, { refuseSeconds });
            // Nothing fits (or nothing is wanted): don't ask for the same crumbs again at once.
            else driver.decline(offer.id?.value ?? '', { refuseSeconds: this.queue.length ? Math.max(refuseSeconds, 1) : 5 });
          }
        },
        statusUpdate: (_driver, status) => {
          const id = status.taskId?.value ?? '';
          const list = this.updates.get(id) ?? [];
          list.push(status);
          this.updates.set(id, list);
          for (const l of [...this.listeners]) l();
        },
      },
    });
  }

  private take(offer: Offer) {
    const tasks = [];
    let rest = offer;
    while (this.queue.length && (this.perOffer === undefined || tasks.length < this.perOffer)) {
      const w = this.queue[0]!;
      const need = { cpus: w.cpus ?? 0.1, mem: w.mem ?? 16, ...(w.disk ? { disk: w.disk } : {}) };
      if (!offerFits(rest, need)) break;
      this.queue.shift();
      const t = commandTask(rest, {
        name: w.name, taskId: w.name, command: w.command, ...need, killGracePeriodSeconds: w.killGracePeriodSeconds,
        ...(w.secrets ? { secrets: w.secrets } : {}),
      });
      if (w.user && t.command) t.command.user = w.user;
      tasks.push(t);
      this.launchedOn.set(w.name, offer.agentId?.value ?? '');
      this.launchedAt.set(w.name, Date.now());
      this.launchedWith.set(w.name, offer.id?.value ?? '');
      rest = { ...rest, resources: subtractTask(rest, t.resources ?? []) };
    }
    return tasks;
  }

  /** Queues tasks and revives offers. */
  submit(...wanted: Wanted[]): void {
    this.queue.push(...wanted);
    this.driver.revive();
  }

  pending(): number {
    return this.queue.length;
  }

  /** Latest state name of a task ('' when none yet). */
  state(taskId: string): string {
    const list = this.updates.get(taskId);
    return list?.length ? taskStateName(list[list.length - 1]!.state) : '';
  }

  /** Resolves when the predicate over the updates holds. */
  waitUntil(pred: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => { if (pred()) { done(); resolve(); } };
      const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}`)); }, timeoutMs);
      // Also poll: a predicate may depend on more than this scheduler's own updates.
      const poll = setInterval(check, 50);
      const done = () => { clearTimeout(timer); clearInterval(poll); this.listeners.delete(check); };
      this.listeners.add(check);
      check();
    });
  }

  /** Resolves when every named task reached a terminal state. */
  waitTerminal(ids: string[], timeoutMs = 60_000): Promise<void> {
    return this.waitUntil(() => ids.every((id) => {
      const l = this.updates.get(id);
      return !!l?.length && isTerminalState(l[l.length - 1]!.state);
    }), timeoutMs, `${ids.length} tasks to end`);
  }
}

function subtractTask(offer: Offer, used: Resource[]): Resource[] {
  return R.subtract(offer.resources ?? [], used);
}

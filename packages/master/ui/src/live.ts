/**
 * The cluster as the UI sees it, kept current by the master's event stream (GET /events):
 * a `snapshot` on every (re)connect, then one event per change. Pages read it through
 * `useLive()`; re-renders are coalesced (one per 50 ms) however fast events arrive.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Agent, ClusterState, Framework, Role, Task, Utilization, UtilizationSample } from './api-types.js';
import { getJson } from './api.js';
import { addSample } from './utilization.js';

/** Tasks kept in memory for live views; older ones are fetched page by page when needed. */
const MAX_TASKS = 2000;
/** Coalescing of re-renders: at most one per this many ms. */
const RENDER_EVERY_MS = 50;

export interface LiveState {
  /** True while the event stream is open. */
  connected: boolean;
  /** Why the last connection or fetch failed, if it did. */
  error?: string;
  master?: ClusterState['master'];
  agents: Map<string, Agent>;
  frameworks: Map<string, Framework>;
  roles: Role[];
  /** The most recent tasks (snapshot + every update since), by ID. */
  tasks: Map<string, Task>;
  /** Tasks known to the master when the snapshot was taken, plus new ones since. */
  taskTotal: number;
  utilization: UtilizationSample[];
  /** Sampling interval of the master's utilisation ring buffer, in seconds. */
  intervalSeconds: number;
  /** Snapshots received: more than one means the stream reconnected (views may have missed events). */
  snapshots: number;
  /** Bumped on every change (what hooks compare). */
  version: number;
}

type Listener = () => void;
type TaskListener = (task: Task) => void;

class LiveStore {
  state: LiveState = {
    connected: false, agents: new Map(), frameworks: new Map(), roles: [], tasks: new Map(),
    taskTotal: 0, utilization: [], intervalSeconds: 2, snapshots: 0, version: 0,
  };
  private listeners = new Set<Listener>();
  private taskListeners = new Set<TaskListener>();
  private source?: EventSource;
  private pending?: ReturnType<typeof setTimeout>;

  /** Opens the event stream (once) and loads the utilisation history. */
  start(): void {
    if (this.source) return;
    const es = new EventSource('/events');
    this.source = es;
    es.onopen = () => this.update((s) => { s.connected = true; s.error = undefined; });
    // EventSource reconnects by itself; the next snapshot replaces everything.
    es.onerror = () => this.update((s) => { s.connected = false; s.error = 'lost the event stream; reconnecting…'; });
    this.on('snapshot', (d: ClusterState) => this.applySnapshot(d));
    this.on('agent_added', (d: { agent: Agent }) => this.put('agents', d.agent));
    this.on('agent_updated', (d: { agent: Agent }) => this.put('agents', d.agent));
    this.on('agent_removed', (d: { agent?: Agent; id?: string }) => this.remove('agents', d.agent?.id ?? d.id));
    this.on('framework_added', (d: { framework: Framework }) => this.put('frameworks', d.framework));
    this.on('framework_updated', (d: { framework: Framework }) => this.put('frameworks', d.framework));
    this.on('framework_removed', (d: { framework?: Framework; id?: string }) => this.remove('frameworks', d.framework?.id ?? d.id));
    this.on('task_updated', (d: { task: Task }) => this.putTask(d.task));
    this.on('utilization', (d: { sample: UtilizationSample }) =>
      this.update((s) => { s.utilization = addSample(s.utilization, d.sample); }));
    void this.loadUtilization();
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Called with every task update as it arrives (not coalesced). */
  onTask(fn: TaskListener): () => void {
    this.taskListeners.add(fn);
    return () => this.taskListeners.delete(fn);
  }

  /**
   * Re-reads every agent or framework. The event stream reports their state changes, not each
   * change of their allocation, so pages that show resources call this every few seconds.
   */
  async refresh(kind: 'agents' | 'frameworks'): Promise<void> {
    try {
      const body = await getJson<{ agents?: Agent[]; frameworks?: Framework[] }>(`/${kind}`);
      const items = (kind === 'agents' ? body.agents : body.frameworks) ?? [];
      this.update((s) => {
        const map = s[kind] as Map<string, Agent | Framework>;
        map.clear();
        for (const item of items) map.set(item.id, item);
      });
    } catch {
      // The event stream's error line already tells when the master is away.
    }
  }

  private on<T>(type: string, apply: (data: T) => void): void {
    this.source!.addEventListener(type, (ev) => {
      let data: T;
      try {
        data = JSON.parse((ev as MessageEvent<string>).data) as T;
      } catch {
        return; // a malformed event is skipped, never fatal
      }
      apply(data);
    });
  }

  private async loadUtilization(): Promise<void> {
    try {
      const u = await getJson<Utilization>('/utilization?seconds=600');
      this.update((s) => {
        s.intervalSeconds = u.intervalSeconds || s.intervalSeconds;
        let merged = s.utilization;
        for (const sample of u.samples) merged = addSample(merged, sample);
        s.utilization = merged;
      });
    } catch (err) {
      this.update((s) => { s.error = `utilisation: ${(err as Error).message}`; });
    }
  }

  private applySnapshot(d: ClusterState): void {
    this.update((s) => {
      s.master = d.master;
      s.agents = new Map((d.agents ?? []).map((a) => [a.id, a]));
      s.frameworks = new Map((d.frameworks ?? []).map((f) => [f.id, f]));
      s.roles = d.roles ?? [];
      s.tasks = new Map((d.tasks?.items ?? []).map((t) => [t.id, t]));
      s.taskTotal = d.tasks?.total ?? s.tasks.size;
      s.connected = true;
      s.error = undefined;
      s.snapshots++;
    });
  }

  private put(key: 'agents', item: Agent): void;
  private put(key: 'frameworks', item: Framework): void;
  private put(key: 'agents' | 'frameworks', item: Agent | Framework): void {
    if (!item?.id) return;
    this.update((s) => { (s[key] as Map<string, Agent | Framework>).set(item.id, item); });
  }

  private remove(key: 'agents' | 'frameworks', id: string | undefined): void {
    if (!id) return;
    this.update((s) => { s[key].delete(id); });
  }

  private putTask(task: Task): void {
    if (!task?.id) return;
    this.update((s) => {
      if (!s.tasks.has(task.id)) s.taskTotal++;
      s.tasks.delete(task.id); // re-insert: the map stays in update order, newest last
      s.tasks.set(task.id, task);
      if (s.tasks.size > MAX_TASKS) s.tasks.delete(s.tasks.keys().next().value!);
    });
    for (const fn of this.taskListeners) fn(task);
  }

  private update(change: (s: LiveState) => void): void {
    change(this.state);
    this.state.version++;
    // A timer rather than requestAnimationFrame: frames stop in background tabs, events do not.
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      for (const fn of this.listeners) fn();
    }, RENDER_EVERY_MS);
  }
}

/** Calls `reload` each time the event stream reconnects (not on the first connection). */
export function useReloadOnReconnect(reload: () => void): void {
  const { snapshots } = useLive();
  useEffect(() => { if (snapshots > 1) reload(); }, [snapshots]);
}

/** The one store of the page. */
export const live = new LiveStore();

/** The live cluster state; re-renders the caller on every change (coalesced). */
export function useLive(): LiveState {
  const [, setVersion] = useState(live.state.version);
  useEffect(() => live.subscribe(() => setVersion(live.state.version)), []);
  return live.state;
}

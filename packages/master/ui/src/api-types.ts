/**
 * The shapes of the master's HTTP operator API (JSON, camelCase, enums as strings), as far as
 * the web UI reads them. Kept free of DOM types so that unit tests under Node can import it.
 */

/** Scalar resources plus port ranges. */
export interface Resources {
  cpus: number;
  mem: number;
  disk: number;
  ports?: Array<[number, number]>;
}

export interface Agent {
  id: string;
  hostname: string;
  address: string;
  active: boolean;
  draining: boolean;
  unreachable: boolean;
  registeredTime?: number;
  resources: { total: Resources; allocated: Resources; offered: Resources; available: Resources };
  taskCount: number;
}

export interface Framework {
  id: string;
  name: string;
  user?: string;
  roles: string[];
  principal?: string;
  webuiUrl?: string;
  active: boolean;
  connected: boolean;
  registeredTime?: number;
  failoverTimeoutSeconds?: number;
  resources?: { allocated?: Resources; offered?: Resources };
  taskCounts?: Record<string, number>;
}

export interface Role {
  name: string;
  weight: number;
  quota?: Partial<Resources>;
  allocated?: Partial<Resources>;
  offered?: Partial<Resources>;
  frameworks: string[];
}

export interface TaskStatus {
  state: string;
  timestamp: number;
  message?: string;
  reason?: string;
  source?: string;
}

export interface Task {
  id: string;
  name: string;
  frameworkId: string;
  agentId: string;
  state: string;
  statuses: TaskStatus[];
  resources: Partial<Resources>;
  labels?: Record<string, string>;
  sandbox?: string;
  command?: string;
  executorId?: string;
  startedAt?: number;
  updatedAt?: number;
  /** Only on GET /tasks/:id: why a staging task is not running yet. */
  waiting?: string;
}

export interface TaskPage {
  total: number;
  offset: number;
  limit: number;
  items: Task[];
}

export interface ClusterState {
  master: { id: string; address: string; httpAddress: string; hostname: string; version: string; startTime: number; leader: boolean };
  agents: Agent[];
  frameworks: Framework[];
  roles: Role[];
  offers?: { outstanding: number; byFramework: Record<string, number> };
  tasks: TaskPage;
}

/** A resource triple as sampled by the master's utilisation ring buffer. */
export interface Usage {
  cpus: number;
  mem: number;
  disk: number;
}

export interface UtilizationSample {
  /** Milliseconds since the epoch. */
  t: number;
  total: Usage;
  allocated: Usage;
  byRole: Record<string, Usage>;
}

export interface Utilization {
  intervalSeconds: number;
  samples: UtilizationSample[];
}

export interface FileEntry {
  path: string;
  name: string;
  size: number;
  mtime: number;
  isDir: boolean;
  mode?: string | number;
}

export interface Browse {
  path: string;
  entries: FileEntry[];
}

export interface FileChunk {
  data: string;
  offset: number;
  length: number;
  eof: boolean;
  size: number;
}

/** Task states that will not change again. */
export const TERMINAL_STATES: ReadonlySet<string> = new Set([
  'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR',
]);

/** The states offered by the task filter, in lifecycle order. */
export const TASK_STATES: readonly string[] = [
  'TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED',
  'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED', 'TASK_UNREACHABLE', 'TASK_GONE', 'TASK_UNKNOWN',
];

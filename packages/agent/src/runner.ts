/**
 * The seam between the agent and the operating system's processes (CONVENTIONS §8): the agent
 * decides *what* runs (sandbox, environment, argv) and *when* it is killed; a TaskRunner only
 * starts a process in its own process group and reports its exit. Production uses
 * ExecaTaskRunner; unit tests may pass a fake.
 */

/** Everything needed to start one process. */
export interface ProcessSpec {
  /** Executable (`/bin/sh` for shell commands). */
  file: string;
  /** Arguments after the executable (argv[1..]). */
  args: string[];
  /**
   * argv[0] as the process sees it, when it must differ from `file` (Mesos non-shell
   * commands pass their own argv[0]). Runners may ignore it.
   */
  argv0?: string;
  /** Working directory (the sandbox). */
  cwd: string;
  /** Environment added to the agent's own. */
  env: Record<string, string>;
  /** Files that receive the process's stdout and stderr (appended, created when missing). */
  stdoutPath: string;
  stderrPath: string;
  /**
   * When set, the process must outlive the agent observably: its exit code is written to this
   * file when it ends, even if the agent is gone by then (ExecaTaskRunner runs it under a tiny
   * waiting shell, see runner-execa.ts). Runners that cannot do this may ignore it.
   */
  exitStatusPath?: string;
  /**
   * Shell lines the process runs first, before the command (joining its cgroups, setting
   * rlimits; see isolation/). They run as the process's user; a failing line must `exit`.
   * Runners that cannot run them ignore them (the agent then places the process itself).
   */
  prelude?: string[];
  /** The user the process runs as (root agents only); the output and exit files become its. */
  user?: { uid: number; gid: number };
}

/** How a process ended. */
export interface ProcessExit {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  /** Signal that ended it, or null. */
  signal: NodeJS.Signals | null;
}

/** A process started by a runner. */
export interface RunningProcess {
  /** Its pid, which is also the id of its process group. */
  readonly pid: number;
  /**
   * Its start time (clock ticks after boot, /proc/PID/stat field 22) when the runner can tell:
   * with the pid, an identity that survives pid reuse, checkpointed for recovery. A promise
   * because reading /proc right after spawn blocks until the child's exec is done.
   */
  readonly startTime?: Promise<number | undefined>;
  /** Resolves (never rejects) when the main process has exited. */
  readonly exited: Promise<ProcessExit>;
  /**
   * Sends a signal to the whole process group (`kill(-pid)`), so children die with it.
   * Returns false when no process of the group is left.
   */
  signalGroup(signal: NodeJS.Signals): boolean;
}

/** Starts processes, each in its own process group (detached, so they outlive a crashed agent). */
export interface TaskRunner {
  /**
   * Starts the process. Resolves as soon as it is spawned; rejects with an Error whose message
   * says why when it cannot be started (missing executable, bad cwd …).
   */
  start(spec: ProcessSpec): Promise<RunningProcess>;
}

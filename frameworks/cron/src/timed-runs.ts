/**
 * The heart of the cron executor: runs received ahead of their instant wait here and start at
 * the instant, each as its own process group.
 *
 * Why: starting a run costs an offer round, a LAUNCH through master and agent, and a process
 * start — hundreds of ms on a busy cluster. The scheduler hands the run over a lead time before
 * its instant; everything that can be done early is done here on receipt (decode, run dir,
 * output files made), so at the instant only the process start is left (launcher.ts: posix_spawn
 * in a helper, or Node's spawn). TASK_RUNNING is sent once the starter reports the process
 * running (exec done), so its timestamp is the real start.
 *
 * A run never starts before its instant: timers may fire a little early (the event loop's cached
 * time), so the instant is checked against the wall clock and the remaining sliver is waited out
 * with setImmediate. Runs due at one instant share one timer and are spawned in one pass.
 *
 * The command gets its own process group (`detached`) so a kill reaches the whole tree (a shell
 * and its children) without touching the executor; on shutdown every group is killed.
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import path from 'node:path';
import { TaskState, type ExecutorStatusUpdate } from '@agora/sdk';
import { NodeStarter, type Exit, type ProcessStarter } from './launcher.js';
import { decodeRunSpec, encodeStarted, type RunSpec } from './run-spec.js';

/** Options of TimedRuns. */
export interface TimedRunsOptions {
  /** Where run directories (cwd, stdout, stderr) are made: `<dir>/<task id>/`. */
  dir: string;
  /** Sends a status update (ExecutorDriver.sendStatusUpdate). */
  report: (u: ExecutorStatusUpdate) => void;
  /** The executor's own environment, the base of each command's. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** SIGTERM → SIGKILL grace of a kill. @default 3000 */
  killGraceMs?: number;
  /** Finished run directories kept (older ones are removed). @default 50 */
  keepRunDirs?: number;
  /** How processes are started. @default NodeStarter (the executor swaps in the posix_spawn helper once it is up) */
  starter?: ProcessStarter;
}

interface Waiting { taskId: string; spec: RunSpec; dir: string }
interface Running { taskId: string; pid: number | undefined; killing: boolean; killTimer?: NodeJS.Timeout }

/** Executor-side environment variables a command must not inherit (they name the executor). */
const EXECUTOR_ONLY = ['AGORA_AGENT_ENDPOINT', 'AGORA_EXECUTOR_ID'];

export class TimedRuns {
  private readonly waiting = new Map<string, Waiting>();
  /** instant → task IDs due then, with the one timer of that instant. */
  private readonly byInstant = new Map<number, { ids: Set<string>; timer: NodeJS.Timeout | undefined }>();
  private readonly running = new Map<string, Running>();
  private readonly doneDirs: string[] = [];
  private readonly env: Record<string, string>;
  private readonly killGraceMs: number;
  private readonly keepRunDirs: number;
  private starter: ProcessStarter;

  constructor(private readonly o: TimedRunsOptions) {
    const env = { ...(o.env ?? process.env) } as Record<string, string>;
    for (const k of EXECUTOR_ONLY) delete env[k];
    this.env = env;
    this.killGraceMs = o.killGraceMs ?? 3000;
    this.keepRunDirs = o.keepRunDirs ?? 50;
    this.starter = o.starter ?? new NodeStarter();
    mkdirSync(o.dir, { recursive: true });
  }

  /** How runs are started from now on (runs already started are unaffected). */
  useStarter(starter: ProcessStarter): void {
    this.starter = starter;
  }

  /** The current starter's kind ('posix_spawn' or 'node'). */
  get starterKind(): string { return this.starter.kind; }

  /**
   * A starter died with these runs still going: their end can no longer be learnt, so they are
   * killed and reported failed (rather than left running unwatched), and Node's spawn is used
   * from now on.
   */
  starterDied(taskIds: string[]): void {
    this.starter = new NodeStarter();
    for (const id of taskIds) {
      const r = this.running.get(id);
      if (!r) continue;
      this.running.delete(id);
      if (r.killTimer) clearTimeout(r.killTimer);
      if (r.pid !== undefined) signalGroup(r.pid, 'SIGKILL');
      this.o.report({ taskId: id, state: TaskState.TASK_FAILED, message: 'the process starter died: the run was killed, its exit code cannot be known' });
    }
  }

  /** Runs waiting for their instant. */
  get waitingCount(): number { return this.waiting.size; }
  /** Runs whose process is alive. */
  get runningCount(): number { return this.running.size; }

  /** A task arrived: prepare it now, start it at its instant (at once when that has passed). */
  launch(taskId: string, data: Uint8Array | null | undefined): void {
    if (this.waiting.has(taskId) || this.running.has(taskId)) return; // re-delivered after a reconnect
    let spec: RunSpec;
    let w: Waiting;
    try {
      spec = decodeRunSpec(data);
      // Leading dots become '_' too, so no task ID ('..', '.x') names a directory outside this one.
      const dir = path.join(this.o.dir, taskId.replace(/[^A-Za-z0-9_.@:-]/g, '_').replace(/^\.+/, (m) => '_'.repeat(m.length)));
      mkdirSync(dir, { recursive: true });
      // Made now, so that a run that cannot write its output fails on receipt, not at its instant.
      for (const f of ['stdout', 'stderr']) closeSync(openSync(path.join(dir, f), 'a'));
      w = { taskId, spec, dir };
    } catch (e) {
      this.o.report({ taskId, state: TaskState.TASK_FAILED, message: `cannot prepare the run: ${(e as Error).message}` });
      return;
    }
    this.waiting.set(taskId, w);
    const slot = this.byInstant.get(spec.startAt);
    if (slot) { slot.ids.add(taskId); return; }
    this.byInstant.set(spec.startAt, { ids: new Set([taskId]), timer: undefined });
    this.arm(spec.startAt);
  }

  /** Kills a run: a waiting one never starts; a running one gets SIGTERM, then SIGKILL. */
  kill(taskId: string, graceMs = this.killGraceMs): void {
    const w = this.waiting.get(taskId);
    if (w) {
      this.unwait(w);
      this.o.report({ taskId, state: TaskState.TASK_KILLED, message: 'killed before its instant (never started)' });
      this.retire(w.dir);
      return;
    }
    const r = this.running.get(taskId);
    if (!r || r.killing) return;
    r.killing = true;
    // Not started yet (the starter has not answered): the kill is applied when it does.
    if (r.pid === undefined) return;
    signalGroup(r.pid, 'SIGTERM');
    r.killTimer = setTimeout(() => signalGroup(r.pid, 'SIGKILL'), graceMs);
  }

  /** Shutdown: waiting runs end KILLED, running process groups get SIGTERM (SIGKILL soon after). */
  killAll(graceMs = 1000): void {
    for (const id of [...this.waiting.keys()]) this.kill(id);
    for (const id of [...this.running.keys()]) this.kill(id, graceMs);
  }

  /** Last resort at process exit: SIGKILL every process group still alive (synchronous). */
  killAllNow(): void {
    for (const r of this.running.values()) signalGroup(r.pid, 'SIGKILL');
  }

  private arm(at: number): void {
    const slot = this.byInstant.get(at);
    if (!slot) return;
    const wait = at - Date.now();
    if (wait <= 0) { this.fire(at); return; }
    // Timers can fire early by the loop's stale clock: re-check the wall clock in fire().
    // Node fires timers over 2^31-1 ms after 1 ms: wait at most that long and re-arm in fire().
    slot.timer = wait > 2 ? setTimeout(() => this.fire(at), Math.min(wait, 2 ** 31 - 1)) : undefined;
    if (!slot.timer) setImmediate(() => this.fire(at));
  }

  private fire(at: number): void {
    const slot = this.byInstant.get(at);
    if (!slot) return;
    if (Date.now() < at) { this.arm(at); return; }
    this.byInstant.delete(at);
    for (const id of slot.ids) {
      const w = this.waiting.get(id);
      if (!w) continue;
      this.waiting.delete(id);
      this.start(w);
    }
  }

  private unwait(w: Waiting): void {
    this.waiting.delete(w.taskId);
    const slot = this.byInstant.get(w.spec.startAt);
    if (!slot) return;
    slot.ids.delete(w.taskId);
    if (slot.ids.size === 0) {
      if (slot.timer) clearTimeout(slot.timer);
      this.byInstant.delete(w.spec.startAt);
    }
  }

  private start(w: Waiting): void {
    const { taskId, spec } = w;
    const env = { ...this.env, ...spec.env, AGORA_TASK_ID: taskId, AGORA_SANDBOX: w.dir };
    const argv = spec.command.shell
      ? { file: '/bin/sh', args: ['-c', spec.command.value], argv0: undefined }
      : { file: spec.command.value, args: (spec.command.arguments ?? []).slice(1), argv0: spec.command.arguments?.[0] };
    const r: Running = { taskId, pid: undefined, killing: false };
    this.running.set(taskId, r);
    const starter = this.starter;
    starter.start({
      id: taskId, file: argv.file, args: argv.args, ...(argv.argv0 ? { argv0: argv.argv0 } : {}),
      cwd: w.dir, env, stdout: path.join(w.dir, 'stdout'), stderr: path.join(w.dir, 'stderr'),
    }).then(({ pid, exited }) => {
      if (this.running.get(taskId) !== r) { signalGroup(pid, 'SIGKILL'); return; } // the starter died meanwhile
      const startedAt = Date.now();
      r.pid = pid;
      this.o.report({ taskId, state: TaskState.TASK_RUNNING, message: `started (pid ${pid})`, data: encodeStarted(startedAt) });
      if (r.killing) {
        // Killed while it was being started.
        signalGroup(pid, 'SIGTERM');
        r.killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), this.killGraceMs);
      }
      void exited.then((exit) => this.ended(w, r, startedAt, exit));
    }, (e: Error) => {
      if (this.running.get(taskId) !== r) return;
      this.running.delete(taskId);
      // The starter died before starting it (it never ran): start it with its replacement.
      if (this.starter !== starter && !r.killing) {
        this.start(w);
        return;
      }
      if (r.killing) this.o.report({ taskId, state: TaskState.TASK_KILLED, message: 'killed before it started' });
      else this.o.report({ taskId, state: TaskState.TASK_FAILED, message: e.message, exitCode: 127 });
      this.retire(w.dir);
    });
  }

  private ended(w: Waiting, r: Running, startedAt: number, exit: Exit): void {
    if (this.running.get(r.taskId) !== r) return;
    if (r.killTimer) clearTimeout(r.killTimer);
    // The shell may be gone while its children linger in the group: end them too.
    signalGroup(r.pid, 'SIGKILL');
    this.running.delete(r.taskId);
    const { code, signal } = exit;
    const signo = signal ? (osConstants.signals as Record<string, number>)[signal] ?? 0 : 0;
    const exitCode = code ?? 128 + signo;
    const how = code !== null ? `exited with code ${code}` : `terminated by signal ${signal ?? 'unknown'}`;
    let state: TaskState = code === 0 ? TaskState.TASK_FINISHED : TaskState.TASK_FAILED;
    if (r.killing) state = TaskState.TASK_KILLED;
    this.o.report({ taskId: r.taskId, state, message: r.killing ? `killed (${how})` : how, exitCode, data: encodeStarted(startedAt) });
    this.retire(w.dir);
  }

  /** Keeps the latest run directories for inspection; removes older ones. */
  private retire(dir: string): void {
    this.doneDirs.push(dir);
    while (this.doneDirs.length > this.keepRunDirs) void rm(this.doneDirs.shift()!, { recursive: true, force: true }).catch(() => undefined);
  }
}

function signalGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try { process.kill(-pid, sig); } catch { /* the group is gone */ }
}

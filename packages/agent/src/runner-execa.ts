/**
 * The production TaskRunner: execa 9 with `detached: true` (own process group, survives the
 * agent) and stdout/stderr handed to the child as file descriptors. Why descriptors: piping
 * output through Node costs a stream, buffers and event-loop work per task for bytes the
 * agent never looks at, and a task's output would stop when the agent dies.
 */
import { accessSync, closeSync, constants, fchownSync, openSync } from 'node:fs';
import path from 'node:path';
import { execa, type Options } from 'execa';
import { readProcStatAsync } from './proc-stat.js';
import type { ProcessExit, ProcessSpec, RunningProcess, TaskRunner } from './runner.js';

/**
 * The waiting wrapper that lets a task's exit be known after the agent died.
 *
 * Why: once the agent is gone nobody can waitpid() a task (only a parent can, and the orphan's
 * new parent — PID 1 here — never reaps it), so something that outlives the agent must see the
 * exit. Two designs were weighed:
 *  - a long-lived per-agent launcher process, parent of every task, which the agent talks to over
 *    a socket: one more daemon with its own protocol, crash handling and upgrade story, and
 *    every launch pays a round trip to it;
 *  - this: each task runs under a few lines of `/bin/sh` (dash: ~100 KiB, no exec of its own)
 *    that waits for the command and writes `$?` to a file before exiting — what Mesos does with
 *    its per-container `status` file. No shared point of failure, no protocol, and the cost on
 *    the launch path is one extra fork inside the task's own process (about a millisecond,
 *    measured: `npm run bench:launch` unchanged within noise), not in the agent.
 *
 * The shell command runs in a subshell through `eval` rather than a second `/bin/sh -c`, which
 * would cost a full exec (~10 ms on small VMs). The wrapper traps HUP/INT/TERM/QUIT so that a
 * kill of the process group (SIGTERM to -pid) ends the task but not the waiter: it still records
 * the status (128+N for death by signal N, as any shell reports it), then exits with it. Traps
 * are reset in the subshell, so the task sees default signal handling. Positional parameters are
 * cleared so the command sees what `sh -c` would give it.
 */
const SHELL_WRAPPER = [
  'trap : HUP INT TERM QUIT',
  '__agora_f=$1 __agora_c=$2',
  '( trap - HUP INT TERM QUIT; set --; unset __agora_f; eval "$__agora_c" )',
  '__agora_s=$?',
  'echo $__agora_s > "$__agora_f"',
  'exit $__agora_s',
].join('\n');
/** The same for a non-shell command (argv given): the subshell execs it. */
const EXEC_WRAPPER = [
  'trap : HUP INT TERM QUIT',
  '__agora_f=$1; shift',
  '( trap - HUP INT TERM QUIT; exec "$@" )',
  '__agora_s=$?',
  'echo $__agora_s > "$__agora_f"',
  'exit $__agora_s',
].join('\n');

/**
 * True when a spec can run under the wrapper: dash cannot exec with a chosen argv[0], so when
 * it matters (not just the file's own name) the command runs unwrapped: it still recovers, only
 * its exit code during an outage is unknown, and the agent places it in its cgroups itself.
 */
export function canWrap(spec: ProcessSpec): boolean {
  return spec.argv0 === undefined || spec.argv0 === spec.file || spec.argv0 === path.basename(spec.file);
}

/** The wrapped argv of a spec, or undefined when it cannot be wrapped faithfully. */
export function wrappedArgv(spec: ProcessSpec, exitStatusPath: string): { file: string; args: string[] } | undefined {
  // The prelude (isolation) runs in the wrapper itself, before it forks the command.
  const prelude = spec.prelude?.length ? `${spec.prelude.join('\n')}\n` : '';
  if (spec.file === '/bin/sh' && spec.args.length === 2 && spec.args[0] === '-c' && spec.argv0 === undefined) {
    return { file: '/bin/sh', args: ['-c', prelude + SHELL_WRAPPER, '/bin/sh', exitStatusPath, spec.args[1] as string] };
  }
  if (!canWrap(spec)) return undefined;
  return { file: '/bin/sh', args: ['-c', prelude + EXEC_WRAPPER, 'agora-task', exitStatusPath, spec.file, ...spec.args] };
}

/**
 * Checks that a wrapped executable can be started, so that a missing binary is still a launch
 * failure (reported as such) rather than an exit code 127 from the wrapper.
 */
function checkExecutable(file: string, cwd: string, env: Record<string, string>): void {
  const candidates = file.includes('/')
    ? [path.resolve(cwd, file)]
    : (env.PATH ?? process.env.PATH ?? '').split(':').filter(Boolean).map((d) => path.join(d, file));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return;
    } catch {
      // next
    }
  }
  throw new Error(`cannot start '${file}': spawn ${file} ENOENT`);
}

const OUTPUT_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND;

/** Sends `signal` to process group `pid`; false when the group is gone (or not ours). */
export function signalProcessGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Runs tasks as real local processes with execa. */
export class ExecaTaskRunner implements TaskRunner {
  async start(spec: ProcessSpec): Promise<RunningProcess> {
    const stdout = openSync(spec.stdoutPath, OUTPUT_FLAGS, 0o644);
    let stderr: number | undefined;
    try {
      stderr = openSync(spec.stderrPath, OUTPUT_FLAGS, 0o644);
      if (spec.user) {
        // The task's own files: it may reopen, truncate or rotate them.
        fchownSync(stdout, spec.user.uid, spec.user.gid);
        fchownSync(stderr, spec.user.uid, spec.user.gid);
        // The wrapper writes the exit status as the task's user, into the agent's directory.
        if (spec.exitStatusPath) {
          const fd = openSync(spec.exitStatusPath, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
          try { fchownSync(fd, spec.user.uid, spec.user.gid); } finally { closeSync(fd); }
        }
      }
    } catch (err) {
      closeSync(stdout);
      if (stderr !== undefined) closeSync(stderr);
      throw err;
    }
    let subprocess: ReturnType<typeof execa>;
    let file = spec.file;
    let args = spec.args;
    let argv0 = spec.argv0;
    try {
      const wrapped = spec.exitStatusPath ? wrappedArgv(spec, spec.exitStatusPath) : undefined;
      if (wrapped) {
        if (wrapped.args[2] === 'agora-task') checkExecutable(spec.file, spec.cwd, spec.env);
        ({ file, args } = wrapped);
        argv0 = undefined;
      }
      const options: Options = {
        cwd: spec.cwd,
        env: spec.env,
        extendEnv: true,
        ...(argv0 !== undefined ? { argv0 } : {}),
        detached: true,
        // Node drops the supplementary groups too (setgroups(0) before setgid/setuid).
        ...(spec.user ? { uid: spec.user.uid, gid: spec.user.gid } : {}),
        // execa's cleanup would kill the task when the agent exits; tasks must survive an
        // agent crash (a later recovery re-attaches to them), and stop() kills them itself.
        cleanup: false,
        // execa's types list only small fd literals; at runtime any open descriptor is handed
        // to child_process.spawn as is.
        stdio: ['ignore', stdout as 3, stderr as 3],
        reject: false,
        buffer: false,
        stripFinalNewline: false,
      };
      subprocess = execa(file, args, options);
    } finally {
      // The child has its own copies once spawn returned (execa spawns synchronously).
      closeSync(stdout);
      closeSync(stderr);
    }
    const exited: Promise<ProcessExit> = subprocess.then(
      (r) => ({ code: r.exitCode ?? null, signal: (r.signal as NodeJS.Signals | undefined) ?? null }),
      () => ({ code: null, signal: null }),
    );
    const pid = subprocess.pid;
    if (pid === undefined) {
      // Spawn failed (ENOENT, EACCES, bad cwd); execa resolves with the reason.
      const r = await subprocess.then((x) => x, (e: unknown) => e as { shortMessage?: string; message?: string });
      const why = (r as { originalMessage?: string }).originalMessage ?? (r as { shortMessage?: string }).shortMessage ?? 'spawn failed';
      throw new Error(`cannot start '${spec.file}': ${why}`);
    }
    // The pid names this process until the agent reaps it, which needs the exit event, which
    // comes after this read is queued; a process gone by then needs no identity anyway.
    return {
      pid,
      ...(spec.exitStatusPath ? { startTime: readProcStatAsync(pid).then((s) => s?.startTime) } : {}),
      exited,
      signalGroup: (signal) => signalProcessGroup(pid, signal),
    };
  }
}

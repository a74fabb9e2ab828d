/**
 * The production TaskRunner: execa 9 with `detached: true` (own process group, survives the
 * agent) and stdout/stderr handed to the child as file descriptors. Why descriptors: piping
 * output through Node costs a stream, buffers and event-loop work per task for bytes the
 * agent never looks at, and a task's output would stop when the agent dies.
 */
import { closeSync, constants, openSync } from 'node:fs';
import { execa, type Options } from 'execa';
import type { ProcessExit, ProcessSpec, RunningProcess, TaskRunner } from './runner.js';

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
    let stderr: number;
    try {
      stderr = openSync(spec.stderrPath, OUTPUT_FLAGS, 0o644);
    } catch (err) {
      closeSync(stdout);
      throw err;
    }
    let subprocess: ReturnType<typeof execa>;
    try {
      const options: Options = {
        cwd: spec.cwd,
        env: spec.env,
        extendEnv: true,
        ...(spec.argv0 !== undefined ? { argv0: spec.argv0 } : {}),
        detached: true,
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
      subprocess = execa(spec.file, spec.args, options);
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
    return {
      pid,
      exited,
      signalGroup: (signal) => signalProcessGroup(pid, signal),
    };
  }
}

/** Running the real `agora` binary from tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'run.js');

export interface Result { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs `agora ARGS` to completion (killed after `timeoutMs`). */
export function agora(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, AGORA_MASTER: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => { clearTimeout(t); resolve({ code, signal, stdout, stderr }); });
  });
}

/** Starts a long-running `agora ARGS` and returns it with its output so far. */
export function agoraBackground(args: string[]): { child: ChildProcess; output: () => { stdout: string; stderr: string }; waitFor: (re: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  const poke = (): void => { for (const w of waiters.splice(0)) w(); };
  child.stdout?.on('data', (d) => { stdout += d; poke(); });
  child.stderr?.on('data', (d) => { stderr += d; poke(); });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => { poke(); resolve(code); }));
  const waitFor = (re: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> => new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${re}; stdout:\n${stdout}\nstderr:\n${stderr}`)), timeoutMs);
    const check = (): void => {
      const m = re.exec(stdout);
      if (m) { clearTimeout(t); resolve(m); return; }
      if (child.exitCode !== null) { clearTimeout(t); reject(new Error(`exited ${child.exitCode} before ${re}; stdout:\n${stdout}\nstderr:\n${stderr}`)); return; }
      waiters.push(check);
    };
    check();
  });
  return { child, output: () => ({ stdout, stderr }), waitFor, exited };
}

/** A TCP port nobody listens on (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Real processes for integration tests: the `agora` binary as a user runs it, on loopback.
 * Every process started here is killed (with its process group) by `stopAll()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const AGORA_BIN = join(ROOT, 'packages/cli/bin/run.js');

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * A fresh temporary directory, removed by `cleanup()`. Searchable (not listable) by other users,
 * like a real agent's work dir, so agents under it run tasks as unprivileged users.
 */
export function tempDir(prefix = 'agora-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o711);
  dirs.push(dir);
  return dir;
}

/**
 * A directory any task may write to (mode 1777, like /tmp): tasks run as unprivileged users of
 * their own, so files a test wants from them (pid files) cannot go into a 0711 test directory.
 */
export function dropDir(prefix = 'agora-drop-'): string {
  const dir = tempDir(prefix);
  chmodSync(dir, 0o1777);
  return dir;
}

const dirs: string[] = [];
const procs: ChildProcess[] = [];

export interface Proc {
  child: ChildProcess;
  /** Everything the process printed so far (stdout + stderr). */
  output(): string;
  /** Resolves when the output matches, rejects after timeoutMs or if the process exits first. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends a signal to the process group. */
  kill(signal?: NodeJS.Signals): void;
  exited: Promise<number | null>;
}

/** Starts `agora ARGS…` as its own process group. */
export function agora(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [AGORA_BIN, ...args], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    // An ephemeral HTTP port for every master unless the caller names one (5051 would collide).
    env: { ...process.env, AGORA_LOG_LEVEL: process.env.AGORA_LOG_LEVEL ?? 'warn', AGORA_HTTP_PORT: process.env.AGORA_HTTP_PORT ?? '0', ...env },
  });
  procs.push(child);
  let out = '';
  const waiters = new Set<() => void>();
  const onData = (d: Buffer) => { out += d.toString(); for (const w of [...waiters]) w(); };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => { for (const w of [...waiters]) w(); resolve(code); }));
  let done = false;
  child.on('exit', () => { done = true; });
  return {
    child,
    output: () => out,
    exited,
    kill(signal = 'SIGTERM') {
      try { if (child.pid) process.kill(-child.pid, signal); } catch { /* already gone */ }
    },
    waitFor(re, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.match(re);
          if (m) { cleanup(); resolve(m); return; }
          if (done) { cleanup(); reject(new Error(`process exited before printing ${re}; output:\n${out}`)); }
        };
        const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for ${re}; output:\n${out}`)); }, timeoutMs);
        const cleanup = () => { clearTimeout(timer); waiters.delete(check); };
        waiters.add(check);
        check();
      });
    },
  };
}

/** Runs `agora ARGS…` to completion. */
export async function agoraRun(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; output: string }> {
  const p = agora(args);
  const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
  const code = await p.exited;
  clearTimeout(timer);
  return { code, output: p.output() };
}

/** A master and `agents` agents as separate `agora` processes on loopback. */
export async function startProcessCluster(options: { agents: number; agentResources?: string; workDir?: string; masterPort?: number }) {
  const workDir = options.workDir ?? tempDir();
  const port = options.masterPort ?? (await freePort());
  const master = agora(['master', '--port', String(port), '--work-dir', join(workDir, 'master')]);
  const address = `127.0.0.1:${port}`;
  await waitForHealth(address);
  const agents: Proc[] = [];
  for (let i = 0; i < options.agents; i++) {
    agents.push(await startAgentProcess(address, join(workDir, `agent-${i}`), options.agentResources));
  }
  return { master, agents, address, workDir };
}

/** Starts one `agora agent` process and waits until the master lists it. */
export async function startAgentProcess(master: string, workDir: string, resources?: string, port?: number): Promise<Proc> {
  const agentPort = port ?? (await freePort());
  const args = ['agent', '--master', master, '--port', String(agentPort), '--work-dir', workDir];
  if (resources) args.push('--resources', resources);
  const proc = agora(args);
  const { OperatorClient } = await import('@agora/core');
  const op = new OperatorClient(master);
  try {
    await until(async () => {
      const { agents } = await op.getAgents();
      return agents.some((a) => a.active && a.agentInfo?.address === `127.0.0.1:${agentPort}`);
    }, 20_000, () => `agent on port ${agentPort} did not register; output:\n${proc.output()}`);
  } finally {
    op.close();
  }
  return proc;
}

/** Resolves once the master answers GetHealth. */
export async function waitForHealth(address: string, timeoutMs = 20_000): Promise<void> {
  const { OperatorClient } = await import('@agora/core');
  const op = new OperatorClient(address, 1_000);
  try {
    await until(async () => (await op.getHealth()).healthy, timeoutMs, () => `master at ${address} never became healthy`);
  } finally {
    op.close();
  }
}

/** Polls `check` until it returns true (exceptions count as false). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, what: () => string = () => 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try { if (await check()) return; } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Kills every process started here and removes temp dirs. */
export async function stopAll(): Promise<void> {
  const all = procs.splice(0);
  for (const c of all) {
    try { if (c.pid && c.exitCode === null) process.kill(-c.pid, 'SIGTERM'); } catch { /* gone */ }
  }
  await new Promise((r) => setTimeout(r, 300));
  for (const c of all) {
    try { if (c.pid) process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** True while the process runs; a zombie (dead, not yet reaped by init — PID 1 here does not reap orphans) counts as gone. */
export function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

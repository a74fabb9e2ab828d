/**
 * A throw-away single-member etcd for tests: ephemeral loopback ports, a temp data dir, killed
 * (and its dir removed) by `stop()`. Needs the `etcd` binary (Debian: etcd-server); tests that
 * use it skip with a clear message when it is missing (`etcdMissing()`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface EtcdServer {
  /** Client URL, e.g. http://127.0.0.1:40123 */
  url: string;
  child: ChildProcess;
  /** Kills etcd and removes its data dir. */
  stop(): Promise<void>;
}

function port(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** A reason to skip, or undefined when the etcd binary is there. */
export function etcdMissing(): string | undefined {
  const r = spawnSync('etcd', ['--version'], { stdio: 'ignore' });
  return r.error || r.status !== 0 ? 'etcd is not installed (Debian: apt-get install etcd-server); skipping the HA test' : undefined;
}

/** Starts etcd and resolves once it serves (its /health answers true). */
export async function startEtcd(timeoutMs = 20_000): Promise<EtcdServer> {
  const dir = mkdtempSync(join(tmpdir(), 'agora-etcd-'));
  const [client, peer] = [await port(), await port()];
  const url = `http://127.0.0.1:${client}`;
  const peerUrl = `http://127.0.0.1:${peer}`;
  const child = spawn('etcd', [
    '--name', 'default', '--data-dir', dir,
    '--listen-client-urls', url, '--advertise-client-urls', url,
    '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `default=${peerUrl}`, '--log-level', 'error',
  ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    try { if (child.pid && child.exitCode === null) process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok && ((await res.json()) as { health?: string }).health === 'true') break;
    } catch { /* not yet */ }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`etcd did not start on ${url}: ${err.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, child, stop };
}

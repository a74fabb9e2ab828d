/**
 * Health and readiness probes, run by the framework itself against HOST:PORT of each instance
 * (the agent's hostname from the offer, the host port it was given). The agent does not run
 * TaskInfo health checks, so COMMAND checks run here too, with HOST, PORT, PORT0… in their
 * environment — which is exact on a one-host cluster and for commands that only talk to
 * HOST:PORT over the network.
 */
import { exec } from 'node:child_process';
import net from 'node:net';
import type { HealthCheck, ReadinessCheck } from './app.js';

export interface ProbeTarget {
  host: string;
  ports: number[];
}

export interface ProbeResult {
  ok: boolean;
  /** Why not (status code, connection refused, timeout…). */
  detail: string;
}

async function httpProbe(url: string, timeoutMs: number, ok: (status: number) => boolean): Promise<ProbeResult> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.body?.cancel().catch(() => undefined);
    return { ok: ok(res.status), detail: `HTTP ${res.status}` };
  } catch (e) {
    const err = e as Error & { cause?: { code?: string } };
    return { ok: false, detail: err.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err.cause?.code ?? err.message) };
  }
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (r: ProbeResult): void => { s.destroy(); resolve(r); };
    s.setTimeout(timeoutMs, () => done({ ok: false, detail: `no connection within ${timeoutMs} ms` }));
    s.once('connect', () => done({ ok: true, detail: 'connected' }));
    s.once('error', (e: NodeJS.ErrnoException) => done({ ok: false, detail: e.code ?? e.message }));
  });
}

function commandProbe(command: string, target: ProbeTarget, port: number | undefined, timeoutMs: number): Promise<ProbeResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOST: target.host, PORTS: target.ports.join(',') };
  if (port !== undefined) env.PORT = String(port);
  target.ports.forEach((p, i) => { env[`PORT${i}`] = String(p); });
  return new Promise((resolve) => {
    exec(command, { env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err) => {
      if (!err) resolve({ ok: true, detail: 'exit 0' });
      else resolve({ ok: false, detail: err.killed ? `no exit within ${timeoutMs} ms` : `exit ${String(err.code ?? err.signal)}` });
    });
  });
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

export function runHealthCheck(check: HealthCheck, target: ProbeTarget): Promise<ProbeResult> {
  const port = target.ports[check.portIndex];
  const timeoutMs = Math.round(check.timeoutSeconds * 1000);
  switch (check.protocol) {
    case 'HTTP':
      if (port === undefined) return Promise.resolve({ ok: false, detail: `the instance has no port ${check.portIndex}` });
      return httpProbe(`http://${hostForUrl(target.host)}:${port}${check.path.startsWith('/') ? '' : '/'}${check.path}`, timeoutMs, (s) => s >= 200 && s < 400);
    case 'TCP':
      if (port === undefined) return Promise.resolve({ ok: false, detail: `the instance has no port ${check.portIndex}` });
      return tcpProbe(target.host, port, timeoutMs);
    case 'COMMAND':
      return commandProbe(check.command?.value ?? 'false', target, port, timeoutMs);
  }
}

export function runReadinessCheck(check: ReadinessCheck, target: ProbeTarget): Promise<ProbeResult> {
  const port = target.ports[check.portIndex];
  if (port === undefined) return Promise.resolve({ ok: false, detail: `the instance has no port ${check.portIndex}` });
  return httpProbe(`http://${hostForUrl(target.host)}:${port}${check.path}`, Math.round(check.timeoutSeconds * 1000), (s) => check.httpStatusCodesForReady.includes(s));
}

/**
 * A small client of the REST API (what `agora app …` and `agora deployments` use). Every failure
 * becomes an Error with one line a user can act on: the API's message and each bad field, or
 * "cannot reach the long-running API at … (connection refused)".
 */

export interface DeploymentInfo {
  id: string;
  version: string;
  kind: string;
  status: string;
  affectedApps: string[];
  waitingFor: string;
  createdAt: string;
  secondsSinceProgress: number;
  stepTimeoutSeconds: number;
}

export class ApiRequestError extends Error {
  constructor(readonly status: number, message: string, readonly body?: unknown) {
    super(message);
    this.name = 'ApiRequestError';
  }
}

function describe(status: number, body: unknown): string {
  const b = (body ?? {}) as { message?: string; details?: { path: string; errors: string[] }[] };
  const details = (b.details ?? []).flatMap((d) => d.errors.map((e) => (d.path && d.path !== '/' ? `${d.path}: ${e}` : e)));
  const head = b.message ?? `HTTP ${status}`;
  return details.length ? `${head} (${status}): ${details.join('; ')}` : head;
}

export class AppsClient {
  readonly base: string;

  constructor(base: string, readonly timeoutMs = 5_000) {
    const b = /^https?:\/\//.test(base) ? base : `http://${base}`;
    this.base = b.replace(/\/+$/, '');
  }

  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: body !== undefined ? { 'content-type': 'application/json' } : {},
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const err = e as Error & { cause?: { code?: string; message?: string; errors?: { code?: string }[] } };
      const code = err.cause?.code ?? err.cause?.errors?.[0]?.code;
      const why = err.name === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : code === 'ECONNREFUSED' ? 'connection refused' : (code ?? err.cause?.message ?? err.message);
      throw new ApiRequestError(0, `cannot reach the long-running API at ${this.base} (${why}); is it running? (agora local, or agora app serve)`);
    }
    const text = await res.text();
    let json: unknown = text;
    try { json = text ? JSON.parse(text) : undefined; } catch { /* plain text */ }
    if (!res.ok) throw new ApiRequestError(res.status, describe(res.status, json), json);
    return json as T;
  }

  static appPath(id: string): string {
    return `/v2/apps/${id.replace(/^\/+/, '')}`;
  }

  /**
   * Polls the deployment until it is gone (finished or rolled back). `onProgress` gets each
   * state; a stalled deployment rejects with what it waits for unless `untilStalled` is false.
   */
  async waitForDeployment(id: string, options: { onProgress?: (d: DeploymentInfo) => void; timeoutMs?: number; pollMs?: number; failOnStall?: boolean } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    for (;;) {
      const list = await this.request<DeploymentInfo[]>('GET', '/v2/deployments');
      const d = list.find((x) => x.id === id);
      if (!d) return;
      options.onProgress?.(d);
      if (d.status === 'stalled' && options.failOnStall !== false) {
        throw new ApiRequestError(0, `deployment ${id} of ${d.affectedApps.join(', ')} stalled (no progress for ${Math.round(d.secondsSinceProgress)} s): ${d.waitingFor}; roll it back with: agora deployments --rollback ${id}`);
      }
      if (Date.now() > deadline) throw new ApiRequestError(0, `deployment ${id} still running after ${Math.round((options.timeoutMs ?? 600_000) / 1000)} s: ${d.waitingFor}`);
      await new Promise((r) => setTimeout(r, options.pollMs ?? 250));
    }
  }
}

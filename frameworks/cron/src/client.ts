/**
 * A small client of the cron REST API (used by `agora job …`). Every failure becomes one
 * CronApiError line a user can act on: unreachable API, unknown job, or the fields a 422 named.
 */

export const DEFAULT_CRON_API = 'http://127.0.0.1:4400';

export class CronApiError extends Error {
  constructor(message: string, readonly status = 0) {
    super(message);
    this.name = 'CronApiError';
  }
}

export class CronClient {
  readonly base: string;

  constructor(api: string = DEFAULT_CRON_API, private readonly timeoutMs = 5000) {
    let url: URL;
    try {
      url = new URL(/^https?:\/\//.test(api) ? api : `http://${api}`);
    } catch {
      throw new CronApiError(`bad cron API address '${api}' (expected e.g. http://127.0.0.1:4400)`);
    }
    this.base = url.toString().replace(/\/+$/, '');
  }

  /** Sends a request; resolves with the parsed JSON (or text) of a 2xx answer. */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.base}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      const why = cause === 'ECONNREFUSED' ? 'connection refused' : cause === 'TimeoutError' ? `no answer within ${this.timeoutMs / 1000} s` : cause === 'ENOTFOUND' ? 'unknown host' : (e as Error).message;
      throw new CronApiError(`cannot reach the cron API at ${this.base} (${why}); is it running? (agora local starts it; --api or AGORA_CRON_API point elsewhere)`);
    }
    const text = await res.text();
    let json: unknown;
    try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
    if (!res.ok) {
      const b = json as { error?: string; fields?: { field: string; message: string }[] } | undefined;
      const fields = b?.fields?.length ? b.fields.map((f) => `${f.field}: ${f.message}`).join('; ') : '';
      const msg = res.status === 422 && fields ? `invalid job: ${fields}` : (b?.error ?? `${res.status} ${res.statusText}`);
      throw new CronApiError(msg, res.status);
    }
    return (json ?? text) as T;
  }
}

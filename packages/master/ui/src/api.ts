/**
 * Calls to the master's HTTP API. Every path is relative to the page's origin: the UI is
 * served by the master itself, so there is no CORS and no other host is ever contacted.
 */

/** An API answer other than 2xx, carrying the server's one-line `error`. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** GET a JSON document; throws ApiError with the server's message on a non-2xx answer. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: 'application/json' }, signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, `the master did not answer ${path}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(res.status, `${path} answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) {
    const msg = (body as { error?: unknown } | undefined)?.error;
    throw new ApiError(res.status, typeof msg === 'string' ? msg : `${path} answered ${res.status}`);
  }
  return body as T;
}

/** Builds `path?k=v&…`, skipping undefined and empty values. */
export function withQuery(path: string, query: Record<string, string | number | undefined>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

/** The base path of a framework's own API, reached through the master's reverse proxy. */
export function frameworkApi(frameworkId: string, path: string): string {
  return `/frameworks/${encodeURIComponent(frameworkId)}/api${path.startsWith('/') ? path : `/${path}`}`;
}

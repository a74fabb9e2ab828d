/**
 * GET /frameworks/:id/api/*: a read-only reverse proxy to the `webui_url` a framework
 * registered (the long-running framework's and cron's REST API base), so that the web UI can
 * show apps and jobs from the master's origin without CORS. GET only: the operator surface
 * changes frameworks through their own APIs, not through the master.
 */
import type { FastifyInstance } from 'fastify';
import type { HttpContext } from './context.js';
import { badRequest, HttpError } from './query.js';

/** How long the framework's API has to answer. */
const PROXY_TIMEOUT_MS = 10_000;
/** Largest answer passed through (the UI reads lists, not bulk data). */
const MAX_PROXY_BYTES = 16 << 20;

/** The URL to fetch for `rest` (the part after /api/) and the raw query string. */
export function proxyTarget(webuiUrl: string, rest: string, search: string): URL {
  let base: URL;
  try {
    base = new URL(webuiUrl);
  } catch {
    throw new HttpError(502, `the framework's webuiUrl '${webuiUrl}' is not a URL`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new HttpError(502, `the framework's webuiUrl '${webuiUrl}' is not http(s)`);
  const segments = rest.split('/');
  if (segments.some((s) => s === '..' || s === '.' || s.includes('\\'))) throw badRequest(`path '${rest}' may not contain '.' or '..' segments or backslashes`);
  const url = new URL(base.href);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}/${rest}`;
  url.search = search;
  return url;
}

export function proxyRoutes(app: FastifyInstance, ctx: HttpContext): void {
  app.get('/frameworks/:id/api/*', async (req, reply) => {
    const { id, '*': rest } = req.params as { id: string; '*': string };
    const fw = ctx.state.frameworks.get(id);
    if (!fw) throw new HttpError(404, `framework '${id}' is not known to the master`);
    const webui = fw.info.webuiUrl ?? '';
    if (!webui) throw new HttpError(404, `framework '${id}' (${fw.info.name ?? ''}) registered no webuiUrl to proxy to`);
    const q = req.url.indexOf('?');
    const url = proxyTarget(webui, rest ?? '', q >= 0 ? req.url.slice(q) : '');
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(PROXY_TIMEOUT_MS), headers: { accept: req.headers.accept ?? '*/*' }, redirect: 'manual' });
    } catch (e) {
      throw new HttpError(502, `framework '${id}' at ${url.origin} did not answer: ${(e as Error).message}`);
    }
    const body = Buffer.from(await res.arrayBuffer());
    if (body.length > MAX_PROXY_BYTES) throw new HttpError(502, `framework '${id}' answered more than ${MAX_PROXY_BYTES} bytes`);
    reply.code(res.status);
    const type = res.headers.get('content-type');
    if (type) reply.header('content-type', type);
    return reply.send(body);
  });
}

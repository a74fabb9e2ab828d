/**
 * The master's HTTP operator API and web UI server (fastify): JSON views of the books, the
 * SSE change feed, sandbox files proxied from agents, framework API proxying, Prometheus
 * metrics and the UI's static files. See packages/master/README.md ("HTTP API") for routes.
 *
 * A standby answers every route but /health and /metrics with a 307 to the same path on the
 * leader (or 503 while no leader is elected): its books are empty until it is elected.
 */
import { performance } from 'node:perf_hooks';
import Fastify, { type FastifyInstance } from 'fastify';
import type { HttpContext } from './context.js';
import { HttpError } from './query.js';
import { EventHub, eventRoutes } from './routes-events.js';
import { fileRoutes, FilesProxy } from './routes-files.js';
import { proxyRoutes } from './routes-proxy.js';
import { stateRoutes } from './routes-state.js';
import { isUiPath, uiRoutes } from './routes-ui.js';

/** Routes a standby answers itself. */
const LOCAL_ROUTES = new Set(['/health', '/metrics']);

/** A running HTTP server. */
export interface HttpServer {
  /** `host:port` it listens on. */
  readonly address: string;
  /** The SSE hub (utilization samples are pushed through it). */
  readonly hub: EventHub;
  close(): Promise<void>;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q >= 0 ? url.slice(0, q) : url;
}

/** Builds the fastify app (not listening). */
export async function buildHttpApp(ctx: HttpContext): Promise<{ app: FastifyInstance; hub: EventHub; files: FilesProxy }> {
  const app = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1000 }, ...(ctx.https ? { https: ctx.https } : {}) } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  const hub = new EventHub(ctx);
  const files = new FilesProxy(ctx);

  // Errors: one JSON line naming what is wrong; never a stack trace.
  app.setErrorHandler((e, req, reply) => {
    const err = e as Error & { statusCode?: number };
    if (err instanceof HttpError) return reply.code(err.status).send({ error: err.message });
    const status = err.statusCode;
    if (status && status >= 400 && status < 500) return reply.code(status).send({ error: err.message });
    ctx.log.error({ err: err.stack, url: req.url }, 'http request failed');
    return reply.code(500).send({ error: `internal error: ${err.message}` });
  });

  let uiServed = false;
  app.setNotFoundHandler((req, reply) => {
    if (uiServed && req.method === 'GET' && isUiPath(pathOf(req.url))) return reply.sendFile('index.html', { maxAge: 0, immutable: false });
    return reply.code(404).send({ error: `no route ${req.method} ${pathOf(req.url)}` });
  });

  // How long the master spent on each answer (building and serializing it), for operators and
  // bench:state: `Server-Timing: app;dur=<ms>`. Set when the payload is ready, before it is sent.
  app.addHook('onRequest', async (req) => { (req as { startedAt?: number }).startedAt = performance.now(); });
  app.addHook('onSend', async (req, reply, payload) => {
    const t0 = (req as { startedAt?: number }).startedAt;
    if (t0 !== undefined && !reply.sent) reply.header('server-timing', `app;dur=${(performance.now() - t0).toFixed(2)}`);
    return payload;
  });

  // The same authentication as the gRPC port, and the operator_api ACL, before anything else:
  // the HTTP API shows every task. Only /health stays open (probes).
  if (ctx.authenticate) {
    const authenticate = ctx.authenticate;
    app.addHook('onRequest', async (req, reply) => {
      const path = pathOf(req.url);
      if (path === '/health') return;
      const verdict = authenticate(req.raw as unknown as { headers: Record<string, string | string[] | undefined>; socket: unknown }, `http:${path}`);
      if ('code' in verdict) {
        // 16 = UNAUTHENTICATED: the browser may ask for a secret (Basic); anything else is 403.
        if (verdict.code === 16) reply.header('www-authenticate', 'Basic realm="agora"');
        return reply.code(verdict.code === 16 ? 401 : 403).send({ error: verdict.details });
      }
      (req as { principal?: string }).principal = verdict.principal;
      // Sandbox files answer to access_sandboxes (checked per task by the file routes), not to
      // operator_api: an operator may be kept out of /state yet read its own tasks' output.
      if (path.startsWith('/files/') && ctx.authorizeSandbox) return;
      const denied = ctx.authorize?.(verdict.principal, path);
      if (denied) return reply.code(403).send({ error: denied });
    });
  }

  // Standbys send operators to the leader.
  app.addHook('onRequest', async (req, reply) => {
    if (ctx.role() === 'leader' || LOCAL_ROUTES.has(pathOf(req.url))) return;
    const leader = await ctx.leaderHttpAddress();
    if (!leader || leader === ctx.info.httpAddress) {
      return reply.code(503).send({ error: ctx.role() === 'deposed' ? 'this master lost leadership and no new leader is known' : 'no leader elected' });
    }
    return reply.code(307).header('location', `${ctx.https ? 'https' : 'http'}://${leader}${req.url}`).send({ error: `not the leader; the leader's HTTP API is at ${leader}` });
  });

  stateRoutes(app, ctx);
  eventRoutes(app, hub);
  fileRoutes(app, files);
  proxyRoutes(app, ctx);
  uiServed = await uiRoutes(app, ctx.uiDir);
  return { app, hub, files };
}

/** Starts the server on host:port (0: ephemeral). */
export async function startHttpServer(ctx: HttpContext, host: string, port: number): Promise<HttpServer> {
  const { app, hub, files } = await buildHttpApp(ctx);
  try {
    await app.listen({ host, port });
  } catch (e) {
    hub.close();
    files.close();
    throw new Error(`cannot listen for HTTP on ${host}:${port}: ${(e as Error).message}`);
  }
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  return {
    address: `${host}:${bound}`,
    hub,
    async close() {
      hub.close();
      files.close();
      await app.close();
    },
  };
}

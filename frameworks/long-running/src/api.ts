/**
 * The REST API (Marathon's /v2 shapes) on Fastify, with the OpenAPI document built by
 * @fastify/swagger from the route schemas and served at /openapi.json.
 *
 * Route schemas document; they do not validate: bodies go through `validateApp`, which names
 * every bad field at once (a schema validator would stop at the first, with a 400).
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import { httpsServerOptions, type TlsOptions } from '@agora/sdk';
import { absoluteId, type FieldError } from './app.js';
import { ApiError, type Deployment } from './model.js';
import type { LongRunningService } from './service.js';

export const API_VERSION = '0.1.0';

/** Loose JSON Schema of an app definition, for the OpenAPI document. */
const appSchema = {
  type: 'object',
  description: 'An app definition (Marathon 1.x fields). Unknown fields are rejected with 422.',
  properties: {
    id: { type: 'string', description: 'Path such as /shop/web' },
    cmd: { type: 'string' },
    args: { type: 'array', items: { type: 'string' } },
    cpus: { type: 'number', default: 1 },
    mem: { type: 'number', default: 128 },
    disk: { type: 'number', default: 0 },
    instances: { type: 'integer', default: 1 },
    env: { type: 'object', additionalProperties: { type: 'string' } },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    portDefinitions: { type: 'array', items: { type: 'object', properties: { port: { type: 'integer' }, name: { type: 'string' }, protocol: { type: 'string' } } } },
    fetch: { type: 'array', items: { type: 'object', properties: { uri: { type: 'string' }, executable: { type: 'boolean' }, extract: { type: 'boolean' }, cache: { type: 'boolean' } } } },
    constraints: { type: 'array', items: { type: 'array', items: { type: 'string' } }, description: '[field, UNIQUE|CLUSTER|GROUP_BY|LIKE|UNLIKE|MAX_PER|IS, value?]' },
    healthChecks: { type: 'array', items: { type: 'object', properties: { protocol: { type: 'string', enum: ['HTTP', 'TCP', 'COMMAND'] }, path: { type: 'string' }, portIndex: { type: 'integer' }, gracePeriodSeconds: { type: 'number' }, intervalSeconds: { type: 'number' }, timeoutSeconds: { type: 'number' }, maxConsecutiveFailures: { type: 'integer' }, command: { type: 'object', properties: { value: { type: 'string' } } } } } },
    readinessChecks: { type: 'array', items: { type: 'object' } },
    upgradeStrategy: { type: 'object', properties: { minimumHealthCapacity: { type: 'number' }, maximumOverCapacity: { type: 'number' } } },
    backoffSeconds: { type: 'number' },
    backoffFactor: { type: 'number' },
    maxLaunchDelaySeconds: { type: 'number' },
    killSelection: { type: 'string', enum: ['YOUNGEST_FIRST', 'OLDEST_FIRST'] },
    unreachableStrategy: {},
    taskKillGracePeriodSeconds: { type: 'number' },
    role: { type: 'string' },
    dependencies: { type: 'array', items: { type: 'string' } },
  },
} as const;

const errorSchema = {
  type: 'object',
  properties: { message: { type: 'string' }, details: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, errors: { type: 'array', items: { type: 'string' } } } } } },
} as const;

const deploymentResult = { type: 'object', properties: { version: { type: 'string' }, deploymentId: { type: 'string' } } } as const;
const forceQuery = { type: 'object', properties: { force: { type: 'boolean', description: 'Override a deployment that locks the app.' } } } as const;
const wildcard = { type: 'object', properties: { '*': { type: 'string', description: 'The app ID (path), then an optional /restart, /tasks, /versions or /why.' } } } as const;

function groupDetails(errors: readonly FieldError[]): { path: string; errors: string[] }[] {
  const by = new Map<string, string[]>();
  for (const e of errors) (by.get(e.path) ?? by.set(e.path, []).get(e.path)!).push(e.message);
  return [...by].map(([path, errs]) => ({ path, errors: errs }));
}

function truthy(q: unknown, name: string): boolean {
  const v = (q as Record<string, unknown> | undefined)?.[name];
  return v === true || v === 'true' || v === '1' || v === '';
}

function result(d: Deployment): { version: string; deploymentId: string } {
  return { version: d.version, deploymentId: d.id };
}

export interface ApiOptions {
  host?: string;
  port?: number;
}

/** Builds the Fastify app (not listening yet). */
export async function buildApi(svc: LongRunningService, tls?: TlsOptions): Promise<FastifyInstance> {
  // With a certificate the API speaks HTTPS (the same files as the cluster's gRPC endpoints).
  const app = Fastify({ logger: false, bodyLimit: 4 * 1024 * 1024, ...httpsServerOptions(tls) }) as unknown as FastifyInstance;
  // Schemas are documentation; validateApp judges bodies (all problems at once, 422).
  app.setValidatorCompiler(() => () => true);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Agora long-running services API', version: API_VERSION, description: 'Marathon-like /v2 API of the long-running services framework.' },
    },
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof ApiError) {
      void reply.code(err.status).send({ message: err.message, ...(err.details ? { details: groupDetails(err.details) } : {}) });
      return;
    }
    if (err.statusCode && err.statusCode < 500) {
      // Unparseable JSON and the like: still one message naming the problem.
      const status = err.statusCode === 400 && /JSON/i.test(err.message) ? 422 : err.statusCode;
      void reply.code(status).send({ message: err.message, ...(status === 422 ? { details: [{ path: '/', errors: [err.message] }] } : {}) });
      return;
    }
    void reply.code(500).send({ message: err.message });
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/ping', { schema: { summary: 'Liveness', tags: ['misc'] } }, async (_req, reply) => reply.type('text/plain').send('pong'));
  app.get('/metrics', { schema: { summary: 'Prometheus metrics', tags: ['misc'] } }, async (_req, reply) => reply.type('text/plain; version=0.0.4').send(await svc.metricsText()));
  app.get('/v2/info', { schema: { summary: 'About this framework', tags: ['misc'] } }, async () => ({
    name: 'agora-long-running',
    version: API_VERSION,
    frameworkId: svc.id ?? null,
    connected: svc.connected,
    elected: true,
    uptimeSeconds: Math.round((Date.now() - svc.startedAt) / 1000),
    marathon_config: {
      master: svc.options.master,
      framework_name: svc.options.name,
      failover_timeout: svc.options.failoverTimeoutSeconds,
      mesos_role: svc.options.roles.join(','),
      deployment_step_timeout: svc.options.deploymentStepTimeoutSeconds,
    },
  }));

  // ---- apps ----------------------------------------------------------------------------------
  app.get('/v2/apps', {
    schema: { summary: 'List apps', tags: ['apps'], querystring: { type: 'object', properties: { id: { type: 'string', description: 'Only apps whose ID contains this' }, embed: { type: 'string', description: 'apps.tasks to include tasks' } } } },
  }, async (req) => {
    const q = req.query as { id?: string; embed?: string | string[] };
    const embedTasks = [q.embed].flat().some((e) => e === 'apps.tasks');
    const apps = [...svc.apps.values()].filter((a) => !q.id || a.spec.id.includes(q.id)).sort((a, b) => a.spec.id.localeCompare(b.spec.id));
    return { apps: apps.map((a) => svc.appView(a, { tasks: embedTasks })) };
  });

  app.post('/v2/apps', {
    schema: { summary: 'Create an app (422 naming every bad field; an existing id is one of them)', tags: ['apps'], body: appSchema, response: { 201: { type: 'object', additionalProperties: true }, 422: errorSchema } },
  }, async (req, reply) => {
    const [d] = await svc.createApps([req.body]);
    const rec = svc.apps.get(d!.appId)!;
    return reply.code(201).header('location', `/v2/apps${d!.appId}`).header('marathon-deployment-id', d!.id).send({ ...svc.appView(rec), deployments: [{ id: d!.id }] });
  });

  const appRoute = async (req: FastifyRequest, reply: FastifyReply, method: string): Promise<unknown> => {
    const raw = (req.params as { '*': string })['*'] ?? '';
    const m = /^(.*?)\/(restart|tasks|versions|why)$/.exec(raw);
    const id = absoluteId(m ? m[1]! : raw);
    const sub = m?.[2];
    const force = truthy(req.query, 'force');
    const need = () => {
      const rec = svc.apps.get(id);
      if (!rec) throw new ApiError(404, `app ${id} does not exist`);
      return rec;
    };
    if (method === 'GET') {
      if (sub === 'tasks') { need(); return { tasks: [...svc.instances.values()].filter((i) => i.appId === id).map((i) => svc.taskView(i)) }; }
      if (sub === 'versions') { need(); return { versions: svc.versionsOf(id).map((v) => v.version) }; }
      if (sub === 'why') return svc.why(id);
      return { app: svc.appView(need(), { tasks: true }) };
    }
    if (method === 'POST' && sub === 'restart') return result(await svc.restartApp(id, force));
    if (sub) throw new ApiError(405, `${method} is not supported on ${req.url}`);
    if (method === 'PUT' || method === 'PATCH') {
      const existed = svc.apps.has(id);
      const d = await svc.putApp(id, req.body, { force, partial: method === 'PATCH' });
      return reply.code(existed ? 200 : 201).header('marathon-deployment-id', d.id).send(result(d));
    }
    if (method === 'DELETE') return result(await svc.deleteApp(id, force));
    throw new ApiError(405, `${method} is not supported on ${req.url}`);
  };
  const appDoc = (summary: string, extra: Record<string, unknown> = {}) => ({ schema: { summary, tags: ['apps'], params: wildcard, querystring: forceQuery, ...extra } });
  app.get('/v2/apps/*', appDoc('Show an app (with tasks); …/tasks, …/versions, …/why ("why isn\'t it running")'), (req, reply) => appRoute(req, reply, 'GET'));
  app.put('/v2/apps/*', appDoc('Create or replace an app; { "instances": n } alone scales', { body: appSchema, response: { 200: deploymentResult, 201: deploymentResult, 409: errorSchema, 422: errorSchema } }), (req, reply) => appRoute(req, reply, 'PUT'));
  app.patch('/v2/apps/*', appDoc('Change some fields of an app', { body: appSchema, response: { 200: deploymentResult, 422: errorSchema } }), (req, reply) => appRoute(req, reply, 'PATCH'));
  app.delete('/v2/apps/*', appDoc('Remove an app (kills its instances)'), (req, reply) => appRoute(req, reply, 'DELETE'));
  app.post('/v2/apps/*', appDoc('…/restart: replace every instance by the rolling upgrade rules'), (req, reply) => appRoute(req, reply, 'POST'));

  // ---- groups (basic) ------------------------------------------------------------------------
  const groupView = (gid: string): Record<string, unknown> => {
    const prefix = gid === '/' ? '/' : `${gid}/`;
    const apps = [...svc.apps.values()].filter((a) => a.spec.id.startsWith(prefix)).sort((a, b) => a.spec.id.localeCompare(b.spec.id));
    const direct = apps.filter((a) => !a.spec.id.slice(prefix.length).includes('/'));
    const subs = new Set(apps.map((a) => a.spec.id.slice(prefix.length)).filter((r) => r.includes('/')).map((r) => prefix + r.split('/')[0]));
    return { id: gid, apps: direct.map((a) => svc.appView(a)), groups: [...subs].sort().map((s) => groupView(s)), dependencies: [] };
  };
  app.get('/v2/groups', { schema: { summary: 'The root group: every app, nested by path', tags: ['groups'] } }, async () => groupView('/'));
  app.get('/v2/groups/*', { schema: { summary: 'One group', tags: ['groups'], params: wildcard } }, async (req) => {
    const gid = absoluteId((req.params as { '*': string })['*']);
    const v = groupView(gid);
    if ((v.apps as unknown[]).length === 0 && (v.groups as unknown[]).length === 0) throw new ApiError(404, `group ${gid} does not exist`);
    return v;
  });
  app.post('/v2/groups', { schema: { summary: 'Create the apps of a group (and its subgroups) at once; all or nothing', tags: ['groups'], body: { type: 'object', properties: { id: { type: 'string' }, apps: { type: 'array', items: appSchema }, groups: { type: 'array', items: { type: 'object' } } } } } }, async (req, reply) => {
    const flat: unknown[] = [];
    const walk = (g: unknown, base: string): void => {
      if (typeof g !== 'object' || g === null) throw new ApiError(422, 'Object is not valid', [{ path: '/', message: 'a group must be an object' }]);
      const grp = g as { id?: unknown; apps?: unknown; groups?: unknown };
      // Checked by hand as well as by the route schema: nested groups are free-form objects.
      if (grp.id !== undefined && typeof grp.id !== 'string') throw new ApiError(422, 'Object is not valid', [{ path: '/id', message: 'a group id must be a string' }]);
      if (grp.apps !== undefined && !Array.isArray(grp.apps)) throw new ApiError(422, 'Object is not valid', [{ path: '/apps', message: 'apps must be an array' }]);
      if (grp.groups !== undefined && !Array.isArray(grp.groups)) throw new ApiError(422, 'Object is not valid', [{ path: '/groups', message: 'groups must be an array' }]);
      const gid = absoluteId(grp.id ?? '', base);
      for (const a of (grp.apps as unknown[] | undefined) ?? []) {
        if (typeof a === 'object' && a !== null && typeof (a as { id?: unknown }).id === 'string') flat.push({ ...(a as object), id: absoluteId((a as { id: string }).id, gid) });
        else flat.push(a);
      }
      for (const s of (grp.groups as unknown[] | undefined) ?? []) walk(s, gid);
    };
    walk(req.body, '/');
    if (flat.length === 0) throw new ApiError(422, 'Object is not valid', [{ path: '/apps', message: 'a group needs at least one app' }]);
    const ds = await svc.createApps(flat);
    return reply.code(201).send({ version: ds[0]!.version, deploymentIds: ds.map((d) => d.id), deploymentId: ds[0]!.id });
  });
  app.delete('/v2/groups/*', { schema: { summary: 'Remove every app of a group', tags: ['groups'], params: wildcard } }, async (req) => {
    const gid = absoluteId((req.params as { '*': string })['*']);
    const ids = [...svc.apps.keys()].filter((id) => id.startsWith(`${gid}/`));
    if (ids.length === 0) throw new ApiError(404, `group ${gid} does not exist`);
    // Dependents first.
    ids.sort((a, b) => (svc.apps.get(b)!.spec.dependencies.includes(a) ? 1 : 0) - (svc.apps.get(a)!.spec.dependencies.includes(b) ? 1 : 0));
    const ds: Deployment[] = [];
    for (const id of ids) ds.push(await svc.deleteApp(id, truthy(req.query, 'force')));
    return { deploymentIds: ds.map((d) => d.id) };
  });

  // ---- deployments, tasks, queue ---------------------------------------------------------------
  app.get('/v2/deployments', { schema: { summary: 'Deployments in progress, each with what it waits for', tags: ['deployments'] } }, async () =>
    [...svc.deployments.values()].map((d) => svc.deploymentView(d)));
  app.delete('/v2/deployments/:id', {
    schema: { summary: 'Roll a deployment back (a new deployment to the previous version); ?force=true only cancels it', tags: ['deployments'], params: { type: 'object', properties: { id: { type: 'string' } } }, querystring: forceQuery },
  }, async (req, reply) => {
    const { id } = req.params as { id: string };
    const force = truthy(req.query, 'force');
    const r = await svc.rollback(id, force);
    return r ? reply.code(200).send(result(r)) : reply.code(202).send({ message: `deployment ${id} cancelled` });
  });
  app.get('/v2/tasks', { schema: { summary: 'Every instance of every app', tags: ['tasks'], querystring: { type: 'object', properties: { status: { type: 'string', enum: ['running', 'staging', 'killing', 'unreachable'] } } } } }, async (req) => {
    const status = (req.query as { status?: string }).status;
    return { tasks: [...svc.instances.values()].filter((i) => !status || i.state === status).map((i) => svc.taskView(i)) };
  });
  app.get('/v2/queue', { schema: { summary: 'Apps waiting for instances to launch, with the last offers considered and why each was declined', tags: ['queue'] } }, async () => ({ queue: svc.queue() }));
  app.get('/v2/queue/*', { schema: { summary: '"Why isn\'t my app running": one app\'s queue entry (…/why accepted too)', tags: ['queue'], params: wildcard } }, async (req) => {
    const raw = (req.params as { '*': string })['*'].replace(/\/(why|delay)$/, '');
    return svc.why(raw);
  });

  // ---- events (SSE) --------------------------------------------------------------------------
  app.get('/v2/events', { schema: { summary: 'Server-sent events: deployment_*, status_update_event, health_status_changed_event, offer_declined, …', tags: ['events'], querystring: { type: 'object', properties: { event_type: { type: 'string' } } } } }, (req, reply) => {
    const types = new Set([(req.query as { event_type?: string | string[] }).event_type ?? []].flat());
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(`event: event_stream_attached\ndata: ${JSON.stringify({ eventType: 'event_stream_attached', timestamp: new Date().toISOString() })}\n\n`);
    const on = (e: { eventType: string }): void => {
      if (types.size && !types.has(e.eventType)) return;
      res.write(`event: ${e.eventType}\ndata: ${JSON.stringify(e)}\n\n`);
    };
    svc.events.on('event', on);
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    keepAlive.unref();
    const close = (): void => { clearInterval(keepAlive); svc.events.off('event', on); };
    req.raw.on('close', close);
    res.on('close', close);
  });

  return app;
}

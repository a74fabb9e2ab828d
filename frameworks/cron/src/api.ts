/**
 * The REST API (fastify): jobs, runs, history, stats, graph, next fire times, /ping, /metrics,
 * and the OpenAPI document at /openapi.json generated from the route schemas.
 *
 * Route schemas document; they do not validate. Job bodies are checked by validateJobSpec so
 * that a bad job gets one 422 naming *every* bad field (Fastify's own validation stops at the
 * first and answers 400).
 */
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import swagger from '@fastify/swagger';
import { httpsServerOptions, type TlsOptions } from '@agora/sdk';
import { CronError, type CronScheduler } from './scheduler.js';
import { runView } from './stats.js';
import type { Job } from './job.js';

export interface CronApiOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** 0 = any free port. @default 4400 (Chronos' port) */
  port?: number;
}

export const DEFAULT_CRON_PORT = 4400;

const jobSchema = {
  type: 'object',
  required: ['name', 'command'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}$' },
    command: { type: 'string', description: 'Shell command line, or the executable with shell: false' },
    shell: { type: 'boolean', default: true },
    arguments: { type: 'array', items: { type: 'string' } },
    schedule: { type: 'string', description: 'ISO 8601 R[n]/start/period or a cron expression (5 or 6 fields); or give parents' },
    timezone: { type: 'string', default: 'UTC', description: 'IANA time zone' },
    parents: { type: 'array', items: { type: 'string' } },
    cpus: { type: 'number', default: 0.1 },
    mem: { type: 'number', default: 32 },
    disk: { type: 'number', default: 0 },
    env: { type: 'object', additionalProperties: { type: 'string' } },
    fetch: { type: 'array', items: { type: 'object', properties: { uri: { type: 'string' }, executable: { type: 'boolean' }, extract: { type: 'boolean' }, cache: { type: 'boolean' } } } },
    owner: { type: 'string' },
    description: { type: 'string' },
    disabled: { type: 'boolean', default: false },
    retries: { type: 'integer', minimum: 0, default: 0 },
    retryDelaySeconds: { type: 'number', minimum: 0, default: 1 },
    concurrencyPolicy: { type: 'string', enum: ['allow', 'forbid', 'replace'], default: 'allow' },
    timeoutSeconds: { type: 'number', minimum: 0, default: 0 },
    constraints: { type: 'array', items: { type: 'array', items: { type: 'string' }, minItems: 3, maxItems: 3 } },
    softError: { type: 'boolean', default: false },
    startingDeadlineSeconds: { type: 'number', minimum: 0 },
    missedRunPolicy: { type: 'string', enum: ['skip', 'run-once', 'catch-up'], default: 'run-once' },
    maxCatchUp: { type: 'integer', minimum: 1, default: 10 },
  },
} as const;

const nameParam = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };

/** A job as the API shows it. */
function jobView(cron: CronScheduler, j: Job): Record<string, unknown> {
  const last = cron.history(j.name, 1)[0];
  const next = cron.next(j.name, 1)[0];
  return {
    ...j,
    createdAt: new Date(j.createdAt).toISOString(),
    updatedAt: new Date(j.updatedAt).toISOString(),
    nextRunAt: next !== undefined && !j.disabled ? new Date(next).toISOString() : null,
    lastRun: last ? { id: last.id, state: last.state, endedAt: last.endedAt !== undefined ? new Date(last.endedAt).toISOString() : null } : null,
    activeRuns: cron.activeRuns(j.name).length,
  };
}

function sendError(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof CronError) return reply.code(e.status).send({ error: e.message, fields: e.fields });
  throw e;
}

function intQuery(v: unknown, def: number, max: number): number {
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : def;
}

/** Builds the API server for `cron` (not yet listening). */
export async function buildApi(cron: CronScheduler, tls?: TlsOptions): Promise<FastifyInstance> {
  // With a certificate the API speaks HTTPS (the same files as the cluster's gRPC endpoints).
  const app = Fastify({ logger: false, ...httpsServerOptions(tls) }) as unknown as FastifyInstance;
  // Schemas are documentation; validation is ours (all fields at once, 422).
  app.setValidatorCompiler(() => () => true);
  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    const code = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    void reply.code(code).send({ error: err.message, fields: [] });
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Agora cron', version: '0.1.0', description: 'Recurring and dependent batch jobs on Agora (Chronos-like).' },
    },
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/ping', { schema: { summary: 'Liveness', response: { 200: { type: 'string' } } } }, async (_req, reply) => reply.type('text/plain').send('pong'));
  app.get('/metrics', { schema: { summary: 'Prometheus metrics (runs, failures, start jitter)' } }, async (_req, reply) => {
    const gauges = { agora_cron_jobs: cron.jobs().length, agora_cron_active_runs: cron.activeRuns().length, agora_cron_ready_executors: cron.readyExecutors };
    return reply.type(cron.metrics.contentType).send(await cron.metrics.render(gauges));
  });

  app.get('/v1/jobs', {
    schema: { summary: 'List or search jobs', querystring: { type: 'object', properties: { q: { type: 'string', description: 'substring of name, description, owner or command' }, owner: { type: 'string' } } } },
  }, async (req) => {
    const { q, owner } = req.query as { q?: string; owner?: string };
    const needle = q?.toLowerCase();
    return cron.jobs()
      .filter((j) => (owner === undefined || j.owner === owner) && (!needle || [j.name, j.description, j.owner, j.command].some((s) => s.toLowerCase().includes(needle))))
      .map((j) => jobView(cron, j));
  });

  app.post('/v1/jobs', { schema: { summary: 'Create a job', body: jobSchema, description: 'Answers 201 with the job, 422 { error, fields: [{ field, message }] } naming every bad field, 409 when it exists' } }, async (req, reply) => {
    try {
      const job = await cron.putJob(req.body, 'create');
      return reply.code(201).send(jobView(cron, job));
    } catch (e) { return sendError(reply, e); }
  });

  app.put('/v1/jobs/:name', { schema: { summary: 'Create or replace a job', params: nameParam, body: jobSchema, description: 'Answers the job, or 422 naming every bad field' } }, async (req, reply) => {
    const { name } = req.params as { name: string };
    const body = req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? { ...(req.body as object), name: (req.body as { name?: string }).name ?? name } : req.body;
    if (body && typeof body === 'object' && (body as { name?: string }).name !== name) {
      return reply.code(422).send({ error: 'invalid job: name does not match the URL', fields: [{ field: 'name', message: `is '${(body as { name?: string }).name}' but the URL says '${name}'` }] });
    }
    try {
      const job = await cron.putJob(body, 'upsert');
      return reply.send(jobView(cron, job));
    } catch (e) { return sendError(reply, e); }
  });

  app.get('/v1/jobs/:name', { schema: { summary: 'One job', params: nameParam } }, async (req, reply) => {
    try { return jobView(cron, cron.requireJob((req.params as { name: string }).name)); } catch (e) { return sendError(reply, e); }
  });

  app.delete('/v1/jobs/:name', { schema: { summary: 'Delete a job (kills its active runs)', params: nameParam } }, async (req, reply) => {
    try {
      await cron.deleteJob((req.params as { name: string }).name);
      return reply.code(204).send();
    } catch (e) { return sendError(reply, e); }
  });

  app.post('/v1/jobs/:name/run', {
    schema: { summary: 'Run a job now, with extra arguments', params: nameParam, body: { type: 'object', properties: { arguments: { type: 'array', items: { type: 'string' } } } } },
  }, async (req, reply) => {
    const args = (req.body as { arguments?: unknown } | undefined)?.arguments ?? [];
    if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) return reply.code(422).send({ error: 'invalid run', fields: [{ field: 'arguments', message: 'must be a list of strings' }] });
    try {
      const run = await cron.runNow((req.params as { name: string }).name, args);
      return reply.code(202).send(runView(run));
    } catch (e) { return sendError(reply, e); }
  });

  app.post('/v1/jobs/:name/kill', { schema: { summary: 'Kill the active runs of a job', params: nameParam } }, async (req, reply) => {
    try { return { killed: cron.kill((req.params as { name: string }).name) }; } catch (e) { return sendError(reply, e); }
  });

  app.get('/v1/jobs/:name/history', {
    schema: { summary: 'Active and recent runs, newest first', params: nameParam, querystring: { type: 'object', properties: { limit: { type: 'integer', default: 20 } } } },
  }, async (req, reply) => {
    try {
      const limit = intQuery((req.query as { limit?: string }).limit, 20, 1000);
      return cron.history((req.params as { name: string }).name, limit).map(runView);
    } catch (e) { return sendError(reply, e); }
  });

  app.get('/v1/jobs/:name/stats', { schema: { summary: 'Counts, last success/error, duration percentiles', params: nameParam } }, async (req, reply) => {
    try { return cron.stats((req.params as { name: string }).name); } catch (e) { return sendError(reply, e); }
  });

  app.get('/v1/jobs/:name/next', {
    schema: { summary: 'Next fire times', params: nameParam, querystring: { type: 'object', properties: { n: { type: 'integer', default: 5 } } } },
  }, async (req, reply) => {
    try {
      const { name } = req.params as { name: string };
      const job = cron.requireJob(name);
      const n = intQuery((req.query as { n?: string }).n, 5, 1000);
      return { job: name, timezone: job.timezone, schedule: job.schedule ?? null, parents: job.parents, next: cron.next(name, n).map((t) => new Date(t).toISOString()) };
    } catch (e) { return sendError(reply, e); }
  });

  app.get('/v1/runs/:id', { schema: { summary: 'One run', params: { type: 'object', properties: { id: { type: 'string' } } } } }, async (req, reply) => {
    const r = cron.run((req.params as { id: string }).id);
    return r ? runView(r) : reply.code(404).send({ error: 'no such run', fields: [] });
  });

  app.get('/v1/graph', { schema: { summary: 'The job DAG as Graphviz dot' } }, async (_req, reply) => reply.type('text/vnd.graphviz').send(cron.graph()));

  return app;
}

/** Starts listening; resolves with host:port. */
export async function listenApi(app: FastifyInstance, options: CronApiOptions = {}): Promise<string> {
  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? DEFAULT_CRON_PORT });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : options.port;
  return `${host}:${port}`;
}

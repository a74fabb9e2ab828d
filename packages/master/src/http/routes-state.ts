/**
 * Read-only views: /health, /state, /agents, /frameworks, /roles, /tasks, /tasks/:id,
 * /utilization and /metrics. Everything is computed on demand from the books; /state and
 * /tasks page the tasks so that the answer stays small (and fast) at 10k tasks.
 */
import type { FastifyInstance } from 'fastify';
import { VERSION } from '@agora/core';
import type { HttpContext } from './context.js';
import { HttpError, int, str, taskStates, type Query } from './query.js';
import { aggregateTasks } from './aggregate.js';
import { agentJson, findTasks, frameworkJson, rolesJson, taskJson, taskPage, waitingReason, type TaskQuery } from './views.js';

/** Tasks per page when the request gives no limit, and the most it may ask for. */
export const DEFAULT_TASK_LIMIT = 100;
export const MAX_TASK_LIMIT = 1000;

function taskQuery(q: Query, prefix: '' | 'task'): TaskQuery {
  const name = (n: string): string => (prefix ? `${prefix}${n[0]!.toUpperCase()}${n.slice(1)}` : n);
  return {
    states: taskStates(q, name('state')),
    frameworkId: str(q, 'frameworkId', 200),
    agentId: str(q, 'agentId', 200),
    offset: int(q, name('offset'), { min: 0, max: 1e9, dflt: 0 }),
    limit: int(q, name('limit'), { min: 0, max: MAX_TASK_LIMIT, dflt: DEFAULT_TASK_LIMIT }),
  };
}

/** The master section of /state and /health. */
export function masterJson(ctx: HttpContext): Record<string, unknown> {
  const i = ctx.info;
  return {
    id: i.id ?? '', address: i.address ?? '', httpAddress: i.httpAddress ?? '', hostname: i.hostname ?? '', version: i.version ?? '',
    startTime: i.startTime ?? 0, leader: ctx.role() === 'leader', leaderAddress: i.leaderAddress ?? '',
  };
}

/** /state for a task query (also the event stream's snapshot). */
export function stateJson(ctx: HttpContext, tq: TaskQuery): Record<string, unknown> {
  const m = ctx.state;
  const agg = aggregateTasks(m);
  const byFramework: Record<string, number> = {};
  for (const o of m.offers.all()) byFramework[o.frameworkId] = (byFramework[o.frameworkId] ?? 0) + 1;
  return {
    master: masterJson(ctx),
    agents: [...m.agents.values()].map((a) => agentJson(m, a)),
    frameworks: [...m.frameworks.values()].map((f) => frameworkJson(m, f, agg)),
    roles: rolesJson(m, agg),
    offers: { outstanding: m.offers.size, byFramework },
    tasks: taskPage(m, ctx.history, tq),
  };
}

/** The /state of the event stream's snapshot: the first page of tasks. */
export function snapshotJson(ctx: HttpContext): Record<string, unknown> {
  return stateJson(ctx, { states: undefined, frameworkId: undefined, agentId: undefined, offset: 0, limit: DEFAULT_TASK_LIMIT });
}

export function stateRoutes(app: FastifyInstance, ctx: HttpContext): void {
  const m = ctx.state;

  app.get('/health', async () => {
    const role = ctx.role();
    return {
      healthy: role !== 'deposed',
      leader: role === 'leader',
      role,
      leaderHttpAddress: role === 'leader' ? ctx.info.httpAddress ?? '' : (await ctx.leaderHttpAddress()) ?? '',
      version: VERSION,
      uptimeSeconds: Math.round((m.clock.now() - m.startedAt) / 1000),
    };
  });

  app.get('/state', async (req) => stateJson(ctx, taskQuery(req.query as Query, 'task')));

  app.get('/agents', async () => ({ agents: [...m.agents.values()].map((a) => agentJson(m, a)) }));

  app.get('/frameworks', async () => {
    const agg = aggregateTasks(m);
    return { frameworks: [...m.frameworks.values()].map((f) => frameworkJson(m, f, agg)) };
  });

  app.get('/frameworks/:id', async (req) => {
    const { id } = req.params as { id: string };
    const f = m.frameworks.get(id);
    if (!f) throw new HttpError(404, `framework '${id}' is not known to the master`);
    return frameworkJson(m, f, aggregateTasks(m));
  });

  app.get('/agents/:id', async (req) => {
    const { id } = req.params as { id: string };
    const a = m.agents.get(id);
    if (!a) throw new HttpError(404, `agent '${id}' is not known to the master`);
    return agentJson(m, a);
  });

  app.get('/roles', async () => ({ roles: rolesJson(m, aggregateTasks(m)) }));

  app.get('/tasks', async (req) => taskPage(m, ctx.history, taskQuery(req.query as Query, '')));

  app.get('/tasks/:id', async (req) => {
    const { id } = req.params as { id: string };
    const frameworkId = str(req.query as Query, 'frameworkId', 200);
    const found = findTasks(m, id, frameworkId);
    if (found.length === 0) throw new HttpError(404, `task '${id}' is not known to the master${frameworkId ? ` in framework '${frameworkId}'` : ''}`);
    if (found.length > 1) throw new HttpError(409, `task ID '${id}' is used by ${found.length} frameworks; add frameworkId=`);
    const t = found[0]!;
    return { ...taskJson(t, ctx.history), waiting: waitingReason(m, t) };
  });

  app.get('/utilization', async (req) => {
    const capacitySeconds = ctx.utilization.capacity * ctx.sampleIntervalSeconds;
    const seconds = int(req.query as Query, 'seconds', { min: 1, max: Math.max(1, Math.ceil(capacitySeconds)), dflt: Math.ceil(capacitySeconds) });
    return { intervalSeconds: ctx.sampleIntervalSeconds, samples: ctx.utilization.since(m.clock.now() - seconds * 1000) };
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', ctx.metrics.contentType);
    return ctx.metrics.metrics();
  });
}

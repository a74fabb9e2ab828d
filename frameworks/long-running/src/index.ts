/**
 * @agora/long-running — services that stay up, in the manner of Marathon: apps with instances,
 * constraints, health checks, rolling deployments and a /v2 REST API.
 *
 * ```ts
 * import { startLongRunning } from '@agora/long-running';
 * const lr = await startLongRunning({ master: '127.0.0.1:5050', workDir: './.agora/long-running', port: 8080 });
 * console.log(`long-running api listening on ${lr.address}`);
 * // … POST http://127.0.0.1:8080/v2/apps { "id": "/web", "cmd": "python3 -m http.server $PORT0", "portDefinitions": [{ "port": 0 }] }
 * await lr.stop(); // disconnects with failover: the tasks keep running, a restart takes over
 * ```
 */
import type { FastifyInstance } from 'fastify';
import { buildApi } from './api.js';
import { LongRunningService, type LongRunningOptions } from './service.js';

export { LongRunningService } from './service.js';
export type { LongRunningOptions, OfferRecord } from './service.js';
export { buildApi, API_VERSION } from './api.js';
export { validateApp, absoluteId, capacityBounds, configKey, CONSTRAINT_OPERATORS } from './app.js';
export type { AppSpec, Constraint, ConstraintOperator, FieldError, HealthCheck, ReadinessCheck, UpgradeStrategy, Validated } from './app.js';
export { violation, placementOf, attributeText } from './constraints.js';
export type { Placement } from './constraints.js';
export { plan, isHealthy, launchDelaySeconds } from './planner.js';
export type { Plan, PlanInstance, PlanKill, InstanceState } from './planner.js';
export { StateStore } from './store.js';
export { ApiError } from './model.js';
export type { AppRecord, Instance, Deployment, DeploymentKind } from './model.js';

/** Defaults of the long-running framework (mirrored in its README). */
export const LONG_RUNNING_DEFAULTS = {
  /** REST API port (Marathon's). */
  apiPort: 8080,
  apiHost: '127.0.0.1',
  /** Env var the CLI reads for the API address. */
  apiEnv: 'AGORA_APPS_API',
  failoverTimeoutSeconds: 604_800,
  deploymentStepTimeoutSeconds: 300,
} as const;

export interface StartLongRunningOptions extends LongRunningOptions {
  /** API bind address. @default '127.0.0.1' */
  host?: string;
  /** API port (0: any free port). @default 8080 */
  port?: number;
}

export interface LongRunning {
  service: LongRunningService;
  api: FastifyInstance;
  /** host:port the API listens on. */
  address: string;
  /** Stops the API and disconnects (failover: tasks keep running). `teardown: true` kills them. */
  stop(options?: { teardown?: boolean }): Promise<void>;
}

/**
 * Starts the framework's REST API, then the framework (state restored, subscribed with the
 * API's URL as its webui_url). The API answers 503 until the framework has started.
 */
export async function startLongRunning(options: StartLongRunningOptions): Promise<LongRunning> {
  const service = new LongRunningService(options);
  let api: FastifyInstance | undefined;
  let started = false;
  try {
    api = await buildApi(service);
    api.addHook('onRequest', async (_req, reply) => {
      if (!started) return reply.code(503).send({ message: 'the long-running framework is starting' });
    });
    const host = options.host ?? LONG_RUNNING_DEFAULTS.apiHost;
    await api.listen({ host, port: options.port ?? LONG_RUNNING_DEFAULTS.apiPort });
    const addr = api.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : options.port;
    const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    service.options.webuiUrl ??= `http://${address}`;
    await service.start();
    started = true;
    const running = api;
    return {
      service, api: running, address,
      async stop(o = {}) {
        await running.close().catch(() => undefined);
        await service.stop(o);
      },
    };
  } catch (e) {
    // Nothing to stop in the service: it either never started or start() itself failed.
    await api?.close().catch(() => undefined);
    throw e;
  }
}
export { AppsClient, ApiRequestError } from './client.js';
export type { DeploymentInfo } from './client.js';

/**
 * What the HTTP routes read: the master's books and the views built around them. One object,
 * handed to each route module, so that routes stay functions of the master they serve.
 */
import type { Registry } from 'prom-client';
import type { Logger, MasterInfo } from '@agora/core';
import type { MasterState } from '../master-state.js';
import type { TaskHistory } from '../task-history.js';
import type { UtilizationRing } from '../utilization.js';

export interface HttpContext {
  readonly state: MasterState;
  readonly history: TaskHistory;
  readonly utilization: UtilizationRing;
  /** Seconds between utilization samples. */
  readonly sampleIntervalSeconds: number;
  readonly metrics: Registry;
  readonly info: MasterInfo;
  readonly log: Logger;
  /** 'leader', 'standby' or 'deposed'. */
  role(): 'leader' | 'standby' | 'deposed';
  /** The leader's HTTP `host:port`, when known (undefined: no leader elected, or it serves no HTTP). */
  leaderHttpAddress(): Promise<string | undefined>;
  /** Directory of the built web UI (may not exist). */
  readonly uiDir: string;
  /**
   * Decides a request exactly as the gRPC port decides a call (credentials, client certificate,
   * TLS required): `{ principal }` or a refusal. Undefined: the master authenticates no one.
   */
  authenticate?: (req: { headers: Record<string, string | string[] | undefined>; socket: unknown }, path: string) => { principal: string } | { code: number; details: string };
  /** The operator_api ACL for a route (undefined: allowed; a string: the reason it is not). */
  authorize?: (principal: string, route: string) => string | undefined;
  /**
   * The access_sandboxes ACL for reading a task's sandbox (the /files routes, which the
   * operator_api check does not cover): `user` is the OS user of the task's framework.
   */
  authorizeSandbox?: (principal: string, subject: { user: string; frameworkId: string }) => string | undefined;
  /** HTTPS options for fastify (the master's own certificate), when the master serves TLS. */
  https?: Record<string, unknown>;
}

/**
 * Everything a master serves to operators over HTTP, in one object the Master owns: the task
 * history and metrics registry (created with the master, so they see every change from the
 * start), the utilization sampler, and the HTTP server once started.
 */
import { fileURLToPath } from 'node:url';
import type { Registry } from 'prom-client';
import { OperatorClient, type MasterInfo } from '@agora/core';
import type { MasterState } from '../master-state.js';
import { createMasterRegistry } from '../prometheus.js';
import { TaskHistory } from '../task-history.js';
import { sampleUtilization, UtilizationRing } from '../utilization.js';
import type { HttpContext } from './context.js';
import { startHttpServer, type HttpServer } from './server.js';

/** Options of the operator surface. */
export interface OperatorSurfaceOptions {
  /** Seconds between utilization samples. @default 2 */
  sampleIntervalSeconds?: number;
  /** Seconds of utilization kept. @default 600 */
  utilizationWindowSeconds?: number;
  /** Directory of the built web UI. @default packages/master/dist/ui */
  uiDir?: string;
  /** Authentication, authorization and HTTPS (see HttpContext); none by default. */
  security?: Pick<HttpContext, 'authenticate' | 'authorize' | 'authorizeSandbox' | 'https'>;
}

/** The built UI next to the compiled master (dist/http/surface.js → dist/ui). */
export const DEFAULT_UI_DIR = fileURLToPath(new URL('../ui/', import.meta.url));

export class OperatorSurface {
  private readonly security: Pick<HttpContext, 'authenticate' | 'authorize' | 'authorizeSandbox' | 'https'>;
  readonly history: TaskHistory;
  readonly utilization: UtilizationRing;
  readonly metrics: Registry;
  private server: HttpServer | undefined;
  private sampler: NodeJS.Timeout | undefined;
  private readonly intervalSeconds: number;
  private readonly uiDir: string;
  /** Leader gRPC address → its HTTP address, as its GetHealth said. */
  private leaderHttp: { grpc: string; http: Promise<string | undefined> } | undefined;

  constructor(
    private readonly state: MasterState,
    private readonly info: MasterInfo,
    private readonly role: () => 'leader' | 'standby' | 'deposed',
    opts: OperatorSurfaceOptions = {},
  ) {
    this.intervalSeconds = opts.sampleIntervalSeconds ?? 2;
    if (!(this.intervalSeconds > 0)) throw new Error(`sampleIntervalSeconds must be > 0, got ${String(opts.sampleIntervalSeconds)}`);
    const window = opts.utilizationWindowSeconds ?? 600;
    this.uiDir = opts.uiDir ?? DEFAULT_UI_DIR;
    this.security = opts.security ?? {};
    this.history = new TaskHistory(state.events, state.clock, state.tasks);
    this.utilization = new UtilizationRing(Math.max(1, Math.ceil(window / this.intervalSeconds)));
    this.metrics = createMasterRegistry(state, state.events, {
      isLeader: () => this.role() === 'leader',
      sse: () => ({ clients: this.server?.hub.size ?? 0, dropped: this.server?.hub.dropped ?? 0 }),
    });
  }

  /** `host:port` of the HTTP server ('' until started). */
  get address(): string {
    return this.server?.address ?? '';
  }

  /** Starts the HTTP server and the sampler. */
  async start(host: string, port: number): Promise<string> {
    const ctx: HttpContext = {
      state: this.state,
      history: this.history,
      utilization: this.utilization,
      sampleIntervalSeconds: this.intervalSeconds,
      metrics: this.metrics,
      info: this.info,
      log: this.state.log,
      role: this.role,
      leaderHttpAddress: () => this.leaderHttpAddress(),
      uiDir: this.uiDir,
      ...this.security,
    };
    this.server = await startHttpServer(ctx, host, port);
    this.sampler = setInterval(() => this.sample(), this.intervalSeconds * 1000);
    this.sampler.unref();
    this.sample();
    return this.server.address;
  }

  private sample(): void {
    try {
      const s = sampleUtilization(this.state);
      this.utilization.push(s);
      this.server?.hub.utilization(s);
    } catch (e) {
      this.state.log.error({ err: (e as Error).stack }, 'utilization sample failed');
    }
  }

  /**
   * The leader's HTTP address, for a standby's redirects: asked once per leader from the
   * leader's GetHealth (its MasterInfo carries http_address), so the election key keeps
   * holding just the gRPC address every client already parses.
   */
  leaderHttpAddress(): Promise<string | undefined> {
    if (this.role() === 'leader') return Promise.resolve(this.info.httpAddress || undefined);
    const leader = this.info.leaderAddress ?? '';
    if (!leader || leader === this.info.address) return Promise.resolve(undefined);
    if (this.leaderHttp?.grpc !== leader) {
      const http = (async () => {
        const op = new OperatorClient(leader, 2_000);
        try {
          const h = await op.getHealth();
          return h.masterInfo?.httpAddress || undefined;
        } catch {
          return undefined;
        } finally {
          op.close();
        }
      })();
      this.leaderHttp = { grpc: leader, http };
      // A failed lookup is asked again next time rather than remembered.
      void http.then((v) => { if (!v && this.leaderHttp?.http === http) this.leaderHttp = undefined; });
    }
    return this.leaderHttp!.http;
  }

  async stop(): Promise<void> {
    if (this.sampler) clearInterval(this.sampler);
    this.sampler = undefined;
    const s = this.server;
    this.server = undefined;
    await s?.close();
  }
}

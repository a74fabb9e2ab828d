/**
 * The master's lifecycle: compile options, load the registry (frameworks come back known but
 * disconnected, agents as known identities awaiting re-registration), serve Scheduler,
 * AgentLink and Operator on one gRPC server, and stop cleanly.
 */
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import {
  AgentLinkService, OperatorService, SchedulerService, VERSION, authenticateHttpRequest, bindServer, httpsServerOptions, checkBindSafety, newId, newServer, stopServer, grpc,
  type Refusal,
  type MasterInfo,
} from '@agora/core';
import { AgentApi } from './agent-api.js';
import { AgentEntry } from './agents.js';
import type { MasterAuthorizer } from './auth/authorizer.js';
import { MasterGuard } from './auth/guard.js';
import { FrameworkEntry } from './frameworks.js';
import { LeaderElection } from './leader-election.js';
import { MasterHa } from './master-ha.js';
import { MasterState, seconds } from './master-state.js';
import { compileOptions, type CompiledMasterOptions, type MasterOptions } from './options.js';
import { OperatorApi } from './operator-api.js';
import { OperatorSurface } from './http/surface.js';
import type { RegistrySnapshot } from './registry.js';
import { SchedulerApi } from './scheduler-api.js';

/**
 * A recovered framework (from the registry) gets at least this long to re-subscribe after a
 * master restart, even with failover_timeout 0: the restart was not its scheduler's doing.
 */
const RECOVERY_GRACE_SECONDS = 10;

/**
 * An Agora master. `await new Master(opts).start()` or `await startMaster(opts)`.
 *
 * @example
 * const master = await startMaster({ port: 0, workDir: '/tmp/m' });
 * console.log(master.address); // 127.0.0.1:43127
 * await master.stop();
 */
export class Master {
  private bound = '';
  /** Who this master is (address filled in by start()). */
  readonly info: MasterInfo;
  private readonly opts: CompiledMasterOptions;
  private readonly state: MasterState;
  private server: grpc.Server | undefined;
  private operator: OperatorApi;
  /** HTTP operator API, metrics, utilization (see http/). */
  private readonly surface: OperatorSurface;
  private started = false;
  private readonly ha: MasterHa | undefined;
  private readonly elected: Promise<void>;
  private electedResolve: (() => void) | undefined;

  constructor(options: MasterOptions = {}) {
    this.opts = compileOptions(options);
    const shortId = randomBytes(4).toString('hex');
    this.info = {
      id: newId('master'),
      address: '',
      hostname: hostname(),
      version: VERSION,
      startTime: seconds(this.opts.clock.now()),
      leader: true,
      leaderAddress: '',
      httpAddress: '',
    };
    if (this.opts.etcd) {
      // High availability: the registry lives in etcd and every timer is gated on leadership.
      this.ha = new MasterHa(this.opts.etcd, this.info, this.opts.logger);
      this.opts.registry = this.ha.registry;
      this.opts.clock = this.ha.gateClock(this.opts.clock);
      this.info.leader = false;
    }
    this.elected = new Promise<void>((resolve) => { this.electedResolve = resolve; });
    this.state = new MasterState(this.opts, this.info, shortId);
    this.operator = new OperatorApi(this.state);
    this.surface = new OperatorSurface(this.state, this.info, () => this.role, { sampleIntervalSeconds: this.opts.utilizationSampleSeconds, uiDir: this.opts.uiDir, security: this.httpSecurity() });
  }

  /** `host:port` of the gRPC endpoint ('' until start() resolves). */
  get address(): string {
    return this.bound;
  }

  /** Whether the HTTP operator API is served over TLS (the master's own certificate). */
  get httpsServed(): boolean {
    return !!this.opts.security.server.tls;
  }

  /** `host:port` of the HTTP operator API and web UI ('' until start() resolves, or when disabled). */
  get httpAddress(): string {
    return this.surface.address;
  }

  /**
   * Loads the registry, binds the server and starts the timers. With `etcd` set it binds and
   * joins the election instead: it resolves once serving as a standby (refusing schedulers and
   * agents with a redirect); `whenLeader()` resolves once elected and recovered.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('master already started');
    this.started = true;
    if (this.ha) {
      await this.bind();
      await this.campaign(this.ha);
      return;
    }
    const snapshot = await this.recover();
    await this.bind();
    this.lead(snapshot);
  }

  /** Reads the registry into the books: frameworks known but disconnected, agents awaiting re-registration. */
  private async recover(): Promise<RegistrySnapshot> {
    const s = this.state;
    const snapshot = await this.opts.registry.load();
    s.restoreAllocatorState(snapshot);
    for (const rec of snapshot.frameworks) {
      const fw = new FrameworkEntry(rec.id, rec.info, rec.registeredTime);
      s.frameworks.set(rec.id, fw);
    }
    for (const rec of snapshot.agents) {
      // A tombstone: the agent was GONE; kept only to refuse it should it come back.
      if (rec.goneTime !== undefined) {
        s.health.restoreGone(rec);
        continue;
      }
      const agent = new AgentEntry(rec.id, rec.info, rec.registeredTime);
      s.agents.set(rec.id, agent);
      s.ledger.reset(rec.id, rec.info.resources ?? [], []);
      if (rec.drain) s.drainer.apply(agent, rec.drain.deadline * 1000);
    }
    return snapshot;
  }

  /** Serves Scheduler, AgentLink and Operator (behind the HA gate when there is one). */
  private async bind(): Promise<void> {
    const s = this.state;
    const ha = this.ha;
    const sec = this.opts.security;
    // Refuse (or, with `insecure`, warn loudly about) an open master on a reachable address.
    const warning = checkBindSafety('the master', this.opts.host, sec.server.authenticate, sec.insecure);
    if (warning) this.opts.logger.warn(warning);
    const guard = new MasterGuard(sec, s);
    const schedulerApi = guard.stream('scheduler', new SchedulerApi(s).connect);
    const agentApi = guard.stream('agent', new AgentApi(s).connect);
    const schedulerConnect = ha ? ha.gateStream(schedulerApi) : schedulerApi;
    const agentConnect = ha ? ha.gateStream(agentApi) : agentApi;
    const operatorHandlers = guard.operator(this.operator.handlers() as Parameters<MasterGuard['operator']>[0]);
    // Always the authenticating server: even an open master must strip forged principals.
    const server = newServer(sec.server);
    server.addService(SchedulerService, { connect: schedulerConnect } as unknown as grpc.UntypedServiceImplementation);
    server.addService(AgentLinkService, { connect: agentConnect } as unknown as grpc.UntypedServiceImplementation);
    server.addService(OperatorService, ha ? ha.gateUnary(operatorHandlers) : operatorHandlers);
    const port = await bindServer(server, this.opts.host, this.opts.port, sec.server);
    this.server = server;
    this.bound = `${this.opts.host}:${port}`;
    this.info.address = this.bound;
    if (this.opts.httpPort !== undefined) {
      try {
        this.info.httpAddress = await this.surface.start(this.opts.host, this.opts.httpPort);
      } catch (e) {
        await stopServer(server, 0);
        throw e;
      }
    }
    if (!ha) this.info.leaderAddress = this.bound;
  }

  /** Starts acting as leader: failover clocks of recovered frameworks, timers. */
  private lead(snapshot: RegistrySnapshot): void {
    const s = this.state;
    const graceSeconds = Math.max(RECOVERY_GRACE_SECONDS, this.opts.agentPingTimeoutMs / 1000);
    // Failover clocks of recovered frameworks run from now (they could not reconnect while we were down).
    for (const fw of s.frameworks.values()) s.startFailover(fw, Math.max(fw.info.failoverTimeoutSeconds ?? 0, graceSeconds));
    // Known agents get agentReregisterTimeoutSeconds from now; reconciliation about them waits.
    s.health.beginRecovery();
    s.startTimers();
    this.opts.logger.info({ address: this.address, frameworks: snapshot.frameworks.length, agents: snapshot.agents.length }, 'master started');
  }

  // ---------------------------------------------------------------- high availability

  /** Joins the election; on election recovers from the etcd registry and leads. */
  private async campaign(ha: MasterHa): Promise<void> {
    const election = new LeaderElection({
      client: ha.client,
      address: this.bound,
      key: `${ha.opts.prefix}leader`,
      ttlSeconds: ha.opts.ttlSeconds,
      fastFailover: ha.opts.fastFailover,
      logger: this.opts.logger,
      onElected: () => void this.takeOver(ha),
      onLost: (reason) => this.stepDown(reason),
      onLeaderChanged: (address) => {
        if (ha.role !== 'leader') this.info.leaderAddress = address;
      },
    });
    ha.election = election;
    this.opts.logger.info({ address: this.bound, etcd: ha.opts.endpoints, ttlSeconds: ha.opts.ttlSeconds }, 'master is a candidate for leadership');
    await election.start();
  }

  private async takeOver(ha: MasterHa): Promise<void> {
    const t0 = performance.now();
    let snapshot: RegistrySnapshot;
    try {
      // Read after winning: every write of the previous leader was either committed before
      // its lease expired (and is seen here) or is refused by the fence.
      snapshot = await this.recover();
    } catch (e) {
      ha.election?.lose(`could not load the registry from etcd: ${(e as Error).message}`);
      ha.refuseHeld();
      return;
    }
    if (!ha.election?.isLeader() || ha.role !== 'standby') return ha.refuseHeld();
    ha.role = 'leader';
    this.info.leader = true;
    this.info.leaderAddress = this.bound;
    this.lead(snapshot);
    ha.admitHeld();
    this.opts.logger.info({ registry: ha.registry.lastLoad, ms: Math.round(performance.now() - t0) }, 'took over as leader');
    this.electedResolve?.();
  }

  /** Leadership is gone: stop acting at once, close every stream, refuse from now on. */
  private stepDown(reason: string): void {
    const ha = this.ha;
    if (!ha || ha.role === 'deposed') return;
    ha.role = 'deposed';
    this.info.leader = false;
    ha.refuseHeld();
    const s = this.state;
    s.stopTimers();
    for (const fw of s.frameworks.values()) fw.sink?.end();
    for (const a of s.agents.values()) a.sink?.end();
    this.opts.logger.error({ reason }, 'stepped down: this master no longer leads and will not serve again');
    this.opts.onLeadershipLost?.(reason);
  }

  /** Resolves once this master leads (at once for a master without etcd, after start()). */
  whenLeader(): Promise<void> {
    if (!this.ha || this.ha.role === 'leader') return Promise.resolve();
    return this.elected;
  }

  /** 'leader', 'standby' (waiting to be elected) or 'deposed' (lost leadership; serves no more). */
  get role(): 'leader' | 'standby' | 'deposed' {
    return this.ha ? this.ha.role : 'leader';
  }

  /** Closes every stream, stops the server and the registry. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    const s = this.state;
    // A stopping leader is no leader: refuse from here on (no onLeadershipLost: this is wanted).
    if (this.ha) this.ha.role = 'deposed';
    s.stopTimers();
    for (const fw of s.frameworks.values()) fw.sink?.end();
    for (const a of s.agents.values()) a.sink?.end();
    await this.surface.stop();
    if (this.server) await stopServer(this.server, 1000);
    this.server = undefined;
    // With etcd: revoke the lease so a standby takes over now rather than after the TTL.
    if (this.ha) await this.ha.close();
    else await this.opts.registry.close();
  }

  /**
   * Answers authorization questions from the master's ACLs, for surfaces outside the gRPC
   * APIs (e.g. `accessSandbox` for HTTP file routes).
   */
  get authorizer(): MasterAuthorizer {
    return this.opts.security.authorizer;
  }

  /**
   * Authenticates an HTTP request (e.g. of the master's HTTP server) exactly as the gRPC port
   * authenticates calls: `{ principal }` ('' when the master needs no authentication and none
   * was given), or `{ code, details }` to refuse with (401 for UNAUTHENTICATED).
   */
  authenticateHttp(req: { headers: Record<string, string | string[] | undefined>; socket: unknown }, path: string): { principal: string } | Refusal {
    return authenticateHttpRequest(this.opts.security.server, req, path);
  }

  /**
   * The HTTP API's share of the master's security: with TLS configured it serves HTTPS with the
   * same certificate (asking for client certificates when a CA is given), and with TLS or
   * authentication configured every route but /health is authenticated like a gRPC call and
   * checked against the operator_api ACL (as GetState: every HTTP route is a read) — except
   * the sandbox file routes, checked per task against access_sandboxes.
   */
  private httpSecurity(): NonNullable<ConstructorParameters<typeof OperatorSurface>[3]>['security'] {
    const sec = this.opts.security;
    const server = sec.server;
    if (!server.tls && !server.authenticate && server.secrets.size === 0) return {};
    const https = httpsServerOptions(server.tls).https;
    return {
      authenticate: (req, path) => authenticateHttpRequest(server, req, path),
      authorize: (principal) => sec.authorizer.operatorMethod(principal || undefined, 'GetState'),
      authorizeSandbox: (principal, subject) => sec.authorizer.accessSandbox(principal || undefined, subject),
      ...(https ? { https: https as unknown as Record<string, unknown> } : {}),
    };
  }

  /** Counters and gauges as GetMetrics reports them (for embedding and tests). */
  metrics(): Record<string, number> {
    return Object.fromEntries(this.operator.metrics());
  }
}

/** Creates and starts a master. */
export async function startMaster(options: MasterOptions = {}): Promise<Master> {
  const m = new Master(options);
  await m.start();
  return m;
}

/**
 * The master's lifecycle: compile options, load the registry (frameworks come back known but
 * disconnected, agents as known identities awaiting re-registration), serve Scheduler,
 * AgentLink and Operator on one gRPC server, and stop cleanly.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import {
  AgentLinkService, OperatorService, SchedulerService, VERSION, bindServer, newId, newServer, stopServer, grpc,
  type MasterInfo,
} from '@agora/core';
import { AgentApi } from './agent-api.js';
import { AgentEntry } from './agents.js';
import { FrameworkEntry } from './frameworks.js';
import { MasterState, seconds } from './master-state.js';
import { compileOptions, type CompiledMasterOptions, type MasterOptions } from './options.js';
import { OperatorApi } from './operator-api.js';
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
  private started = false;

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
    };
    this.state = new MasterState(this.opts, this.info, shortId);
    this.operator = new OperatorApi(this.state);
  }

  /** `host:port` of the gRPC endpoint ('' until start() resolves). */
  get address(): string {
    return this.bound;
  }

  /** Loads the registry, binds the server and starts the timers. */
  async start(): Promise<void> {
    if (this.started) throw new Error('master already started');
    this.started = true;
    const s = this.state;
    const snapshot = await this.opts.registry.load();
    const graceSeconds = Math.max(RECOVERY_GRACE_SECONDS, this.opts.agentPingTimeoutMs / 1000);
    for (const rec of snapshot.frameworks) {
      const fw = new FrameworkEntry(rec.id, rec.info, rec.registeredTime);
      s.frameworks.set(rec.id, fw);
    }
    for (const rec of snapshot.agents) {
      s.agents.set(rec.id, new AgentEntry(rec.id, rec.info, rec.registeredTime));
      s.ledger.reset(rec.id, rec.info.resources ?? [], []);
    }
    const server = newServer();
    server.addService(SchedulerService, { connect: new SchedulerApi(s).connect } as unknown as grpc.UntypedServiceImplementation);
    server.addService(AgentLinkService, { connect: new AgentApi(s).connect } as unknown as grpc.UntypedServiceImplementation);
    server.addService(OperatorService, this.operator.handlers());
    const port = await bindServer(server, this.opts.host, this.opts.port);
    this.server = server;
    this.bound = `${this.opts.host}:${port}`;
    this.info.address = this.bound;
    this.info.leaderAddress = this.bound;
    // Failover clocks of recovered frameworks run from now (they could not reconnect while we were down).
    for (const fw of s.frameworks.values()) s.startFailover(fw, Math.max(fw.info.failoverTimeoutSeconds ?? 0, graceSeconds));
    s.startTimers();
    this.opts.logger.info({ address: this.address, frameworks: snapshot.frameworks.length, agents: snapshot.agents.length }, 'master started');
  }

  /** Closes every stream, stops the server and the registry. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    const s = this.state;
    s.stopTimers();
    for (const fw of s.frameworks.values()) fw.sink?.end();
    for (const a of s.agents.values()) a.sink?.end();
    if (this.server) await stopServer(this.server, 1000);
    this.server = undefined;
    await this.opts.registry.close();
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

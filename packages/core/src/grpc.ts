/**
 * gRPC plumbing shared by every room: channel options, typed clients and server binding.
 */
import * as grpc from '@grpc/grpc-js';
import { AgentLinkService, ExecutorService, FilesService, OperatorService, SchedulerService } from './gen/services.js';
import type { agora } from './gen/agora.js';
import { clientTransport, defaultClientSecurity, type ClientSecurity } from './security/client-security.js';
import { closeTlsListener, compileServerSecurity, listenTls, newSecureServer, type CompiledServerSecurity, type ServerSecurityOptions } from './security/server-security.js';

export { grpc, AgentLinkService, ExecutorService, FilesService, OperatorService, SchedulerService };

/** Channel and server options: keepalives detect dead peers; messages up to 64 MiB. */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.keepalive_time_ms': 10_000,
  'grpc.keepalive_timeout_ms': 5_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.max_pings_without_data': 0,
  'grpc.max_receive_message_length': 64 << 20,
  'grpc.max_send_message_length': 64 << 20,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

const SERVER_OPTIONS: grpc.ServerOptions = {
  ...CHANNEL_OPTIONS,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 5_000,
};

type Duplex<Req, Res> = grpc.ClientDuplexStream<Req, Res>;
type Unary<Req, Res> = (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall;

export interface SchedulerClient extends grpc.Client {
  connect(md?: grpc.Metadata, opts?: grpc.CallOptions): Duplex<agora.v1.CallBatch.$Properties, agora.v1.EventBatch>;
}
export interface AgentLinkClient extends grpc.Client {
  connect(md?: grpc.Metadata, opts?: grpc.CallOptions): Duplex<agora.v1.AgentCallBatch.$Properties, agora.v1.AgentEventBatch>;
}
export interface ExecutorClient extends grpc.Client {
  connect(md?: grpc.Metadata, opts?: grpc.CallOptions): Duplex<agora.v1.ExecutorCallBatch.$Properties, agora.v1.ExecutorEventBatch>;
}
interface RawOperatorClient extends grpc.Client {
  getHealth: Unary<agora.v1.GetHealthRequest.$Properties, agora.v1.Health>;
  getState: Unary<agora.v1.GetStateRequest.$Properties, agora.v1.State>;
  getAgents: Unary<agora.v1.GetAgentsRequest.$Properties, agora.v1.GetAgentsResponse>;
  getFrameworks: Unary<agora.v1.GetFrameworksRequest.$Properties, agora.v1.GetFrameworksResponse>;
  getTasks: Unary<agora.v1.GetTasksRequest.$Properties, agora.v1.GetTasksResponse>;
  getMetrics: Unary<agora.v1.GetMetricsRequest.$Properties, agora.v1.Metrics>;
  teardown: Unary<agora.v1.TeardownRequest.$Properties, agora.v1.TeardownResponse>;
  drainAgent: Unary<agora.v1.DrainAgentRequest.$Properties, agora.v1.DrainAgentResponse>;
  reactivateAgent: Unary<agora.v1.ReactivateAgentRequest.$Properties, agora.v1.ReactivateAgentResponse>;
}

/** One unary call as a promise, with a deadline. */
function unary<Req, Res>(client: grpc.Client, fn: Unary<Req, Res>, req: Req, timeoutMs: number): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
      if (err) reject(err);
      else resolve(res as Res);
    });
  });
}

/**
 * A client of `service` at `address`. `security` undefined: the process default
 * (setDefaultClientSecurity), else plaintext and anonymous; `null`: plaintext and anonymous.
 */
function clientFor<T>(service: grpc.ServiceDefinition, name: string, address: string, security?: ClientSecurity | null): T {
  const Ctor = grpc.makeGenericClientConstructor(service, name);
  const { credentials, interceptors, options } = clientTransport(address, security === undefined ? defaultClientSecurity() : security ?? undefined);
  return new Ctor(address, credentials, { ...CHANNEL_OPTIONS, ...options, interceptors }) as unknown as T;
}

export const schedulerClient = (address: string, security?: ClientSecurity | null): SchedulerClient => clientFor(SchedulerService, 'Scheduler', address, security);
export const agentLinkClient = (address: string, security?: ClientSecurity | null): AgentLinkClient => clientFor(AgentLinkService, 'AgentLink', address, security);
export const executorClient = (address: string, security?: ClientSecurity | null): ExecutorClient => clientFor(ExecutorService, 'Executor', address, security);

/** The operator API with promises and a deadline on every call. */
export class OperatorClient {
  private readonly raw: RawOperatorClient;

  constructor(address: string, private readonly timeoutMs = 5_000, security?: ClientSecurity | null) {
    this.raw = clientFor(OperatorService, 'Operator', address, security);
  }

  private call<Req, Res>(fn: Unary<Req, Res>, req: Req): Promise<Res> {
    return unary(this.raw, fn, req, this.timeoutMs);
  }

  getHealth(): Promise<agora.v1.Health> { return this.call(this.raw.getHealth, {}); }
  getState(req: agora.v1.GetStateRequest.$Properties = {}): Promise<agora.v1.State> { return this.call(this.raw.getState, req); }
  getAgents(): Promise<agora.v1.GetAgentsResponse> { return this.call(this.raw.getAgents, {}); }
  getFrameworks(): Promise<agora.v1.GetFrameworksResponse> { return this.call(this.raw.getFrameworks, {}); }
  getTasks(req: agora.v1.GetTasksRequest.$Properties = {}): Promise<agora.v1.GetTasksResponse> { return this.call(this.raw.getTasks, req); }
  getMetrics(): Promise<agora.v1.Metrics> { return this.call(this.raw.getMetrics, {}); }
  teardown(frameworkId: string): Promise<agora.v1.TeardownResponse> { return this.call(this.raw.teardown, { frameworkId: { value: frameworkId } }); }
  /** Drains an agent: no more offers; tasks still running after `graceSeconds` (default: the master's) are killed. */
  drainAgent(agentId: string, graceSeconds?: number): Promise<agora.v1.DrainAgentResponse> {
    return this.call(this.raw.drainAgent, { agentId: { value: agentId }, ...(graceSeconds !== undefined ? { graceSeconds } : {}) });
  }
  /** Ends a drain: the agent is offered again. */
  reactivateAgent(agentId: string): Promise<agora.v1.ReactivateAgentResponse> { return this.call(this.raw.reactivateAgent, { agentId: { value: agentId } }); }
  close(): void { this.raw.close(); }
}

interface RawFilesClient extends grpc.Client {
  read: Unary<agora.v1.ReadFileRequest.$Properties, agora.v1.ReadFileResponse>;
  browse: Unary<agora.v1.BrowseFilesRequest.$Properties, agora.v1.BrowseFilesResponse>;
}

/** An agent's sandbox files with promises and a deadline on every call. */
export class FilesClient {
  private readonly raw: RawFilesClient;

  constructor(address: string, private readonly timeoutMs = 5_000, security?: ClientSecurity | null) {
    this.raw = clientFor(FilesService, 'Files', address, security);
  }

  private call<Req, Res>(fn: Unary<Req, Res>, req: Req): Promise<Res> {
    return unary(this.raw, fn, req, this.timeoutMs);
  }

  read(req: agora.v1.ReadFileRequest.$Properties): Promise<agora.v1.ReadFileResponse> { return this.call(this.raw.read, req); }
  browse(req: agora.v1.BrowseFilesRequest.$Properties): Promise<agora.v1.BrowseFilesResponse> { return this.call(this.raw.browse, req); }
  close(): void { this.raw.close(); }
}

/**
 * Binds a server to host:port (port 0: ephemeral) and resolves with the bound port. With TLS in
 * `security` (the same object given to newServer) the port speaks TLS, and plaintext unless
 * TLS is required.
 */
export function bindServer(server: grpc.Server, host: string, port: number, security?: CompiledServerSecurity): Promise<number> {
  if (security?.tls) return listenTls(server, host, port, security);
  return new Promise((resolve, reject) => {
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) reject(new Error(`cannot listen on ${host}:${port}: ${err.message}`));
      else resolve(bound);
    });
  });
}

/**
 * A gRPC server with Agora's options. With `security`, every call is authenticated first (see
 * security/server-security.ts); pass the same compiled object to bindServer.
 */
export function newServer(security?: CompiledServerSecurity): grpc.Server {
  return security ? newSecureServer(SERVER_OPTIONS, security) : new grpc.Server(SERVER_OPTIONS);
}

/** Checks and reads ServerSecurityOptions once, for newServer and bindServer. */
export function serverSecurity(options: ServerSecurityOptions | undefined): CompiledServerSecurity {
  return compileServerSecurity(options);
}

/** Stops a server: lets calls finish for up to `graceMs`, then cuts them. */
export function stopServer(server: grpc.Server, graceMs = 1_000): Promise<void> {
  // A TLS port is ours: stop accepting now, cut what is left once the calls had their grace.
  const cut = closeTlsListener(server);
  return new Promise((resolve) => {
    const t = setTimeout(() => { server.forceShutdown(); cut(); resolve(); }, graceMs);
    server.tryShutdown(() => { clearTimeout(t); cut(); resolve(); });
  });
}

/** Splits `host:port`, validating the port. Throws an Error naming the bad part. */
export function parseHostPort(address: string, defaultPort?: number): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(address.trim());
  if (!m) throw new Error(`'${address}' is not HOST:PORT`);
  const port = m[2] !== undefined ? Number(m[2]) : defaultPort;
  if (port === undefined || !Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`'${address}' has no valid port (0-65535)`);
  return { host: m[1] as string, port };
}

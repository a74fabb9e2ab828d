/**
 * The server side of Agora's transport security, shared by the master and the agent:
 *
 *  - TLS on the gRPC port. The port is ours, not grpc-js's: we read the first byte of each
 *    connection; a TLS ClientHello (0x16) is handshaken here with node:tls, anything else is
 *    plaintext HTTP/2. Both then go to the same grpc.Server through a connection injector. Doing
 *    the handshake ourselves lets a plaintext client on a TLS-only port get a gRPC error that
 *    says so (rather than a broken connection), and lets a client certificate that fails
 *    verification be reported with its reason (rather than a reset during the handshake).
 *  - Authentication of every call by a server interceptor: a secret (`authorization: Basic …`
 *    metadata, checked in constant time) or a client certificate signed by the cluster CA
 *    (principal = its subject CN). The interceptor removes the secret and sets the verified
 *    principal under PRINCIPAL_KEY, so the handlers trust only what was checked.
 */
import * as grpc from '@grpc/grpc-js';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { createServer as createTlsServer, type PeerCertificate, type TLSSocket } from 'node:tls';
import {
  AUTHORIZATION_KEY, PRINCIPAL_KEY, credentialFromMetadata, readCredentialsFile, secretsEqual, type Credential,
} from './credentials.js';
import { isLoopbackHost, loadTls, type TlsMaterial, type TlsOptions } from './tls.js';

/** Security of one gRPC server. Every field is optional; none set: plaintext, no authentication. */
export interface ServerSecurityOptions {
  /** Serve TLS with this certificate and key; `ca` also verifies client certificates. @default no TLS */
  tls?: TlsOptions;
  /** Refuse plaintext connections (needs `tls`). @default false: TLS and plaintext on one port */
  tlsRequired?: boolean;
  /**
   * Principals and secrets (a list, or a credentials file's path): a call presenting one of
   * these is authenticated as its principal. Setting it makes authentication required.
   * @default none
   */
  credentials?: Credential[] | string;
  /**
   * Require every call to be authenticated, by secret or by a client certificate signed by
   * `tls.ca` (principal = the certificate's CN). @default true when `credentials` is set
   */
  authenticate?: boolean;
  /** Full method paths that need no authentication (health checks). @default [] */
  publicMethods?: string[];
  /** What the server is called in error messages. @default 'this server' */
  name?: string;
}

/** ServerSecurityOptions checked and read from disk. */
export interface CompiledServerSecurity {
  tls: TlsMaterial | undefined;
  tlsRequired: boolean;
  secrets: Map<string, string>;
  authenticate: boolean;
  publicMethods: Set<string>;
  name: string;
}

/** Checks and loads the options once (files are read here); throws an Error naming the problem. */
export function compileServerSecurity(o: ServerSecurityOptions | CompiledServerSecurity | undefined): CompiledServerSecurity {
  if (o && 'secrets' in o && o.secrets instanceof Map) return o as CompiledServerSecurity;
  const opts = (o ?? {}) as ServerSecurityOptions;
  const tls = loadTls(opts.tls);
  if (tls && (!tls.cert || !tls.key)) throw new Error('serving TLS needs a certificate and its key (--tls-cert, --tls-key)');
  if (opts.tlsRequired && !tls) throw new Error('--tls-required needs TLS: give --tls-cert and --tls-key');
  const list = typeof opts.credentials === 'string' ? readCredentialsFile(opts.credentials) : opts.credentials ?? [];
  const secrets = new Map(list.map((c) => [c.principal, c.secret] as const));
  const authenticate = opts.authenticate ?? secrets.size > 0;
  if (authenticate && secrets.size === 0 && !tls?.ca) {
    throw new Error('authentication needs a way to authenticate: a credentials file (--credentials) or a CA to verify client certificates (--tls-ca)');
  }
  return { tls, tlsRequired: opts.tlsRequired ?? false, secrets, authenticate, publicMethods: new Set(opts.publicMethods ?? []), name: opts.name ?? 'this server' };
}

/** What a connection brought: TLS or not, and the client certificate with its verdict. */
interface ConnectionFacts {
  tls: boolean;
  /** Subject CN of a client certificate that verified against the CA. */
  certPrincipal: string | undefined;
  /** Why a presented client certificate did not verify (undefined: none presented or it verified). */
  certError: string | undefined;
}

/** Per server: the live TLS connections by remote `address:port` (plaintext ones are absent). */
const connections = new WeakMap<grpc.Server, Map<string, ConnectionFacts>>();

const keyOf = (address: string | undefined, port: number | undefined): string => `${address ?? ''}:${port ?? ''}`;

/** A refusal: a gRPC status and the sentence the client sees. */
export interface Refusal {
  code: grpc.status;
  details: string;
}

/**
 * Decides one call: the verified principal ('' when none is needed and none was given), or a
 * refusal. Pure apart from reading `facts`; exported for unit tests.
 */
export function authenticateCall(sec: CompiledServerSecurity, method: string, md: grpc.Metadata, facts: ConnectionFacts, remote: string | undefined): { principal: string } | Refusal {
  const unauth = (details: string): Refusal => ({ code: grpc.status.UNAUTHENTICATED, details });
  if (sec.tlsRequired && !facts.tls) return unauth(`${sec.name} requires TLS: plaintext connections are refused (give the cluster CA, e.g. --tls-ca)`);
  const presented = credentialFromMetadata(md);
  if (typeof presented === 'string') return unauth(presented);
  if (presented) {
    // A secret that crossed the network in clear is burnt; say so rather than accept it. (A
    // plaintext connection on a TLS port has no known peer: it is treated as remote.)
    if (!facts.tls && (remote === undefined || !isLoopbackHost(remote))) {
      return unauth(`principal ${presented.principal}: credentials were sent without TLS${remote ? ` from ${remote}` : ''}; ${sec.name} accepts secrets over TLS only`);
    }
    const expected = sec.secrets.get(presented.principal);
    // Compare even for an unknown principal, so timing does not tell which principals exist.
    const ok = secretsEqual(presented.secret, expected ?? '\u0000no such principal');
    if (!sec.authenticate && sec.secrets.size === 0) return { principal: '' };
    if (expected === undefined || !ok) return unauth(`principal ${presented.principal}: wrong secret`);
    return { principal: presented.principal };
  }
  if (facts.certError !== undefined && sec.authenticate) return unauth(`certificate not signed by the cluster CA (${facts.certError})`);
  if (facts.certPrincipal) return { principal: facts.certPrincipal };
  if (!sec.authenticate || sec.publicMethods.has(method)) return { principal: '' };
  return unauth(`no credentials: ${sec.name} requires authentication (a principal and secret, or a client certificate signed by the cluster CA)`);
}

/**
 * Authenticates an HTTP request (node:http / fastify `req`) the way the gRPC port
 * authenticates calls: an `authorization: Basic …` header, or over HTTPS a client certificate
 * signed by the CA. `path` is matched against `publicMethods`. For HTTP servers that serve
 * next to a gRPC port (the master's HTTP API and web UI).
 */
export function authenticateHttpRequest(sec: CompiledServerSecurity, req: { headers: Record<string, string | string[] | undefined>; socket: unknown }, path: string): { principal: string } | Refusal {
  const md = new grpc.Metadata();
  const auth = req.headers.authorization;
  if (typeof auth === 'string') md.set(AUTHORIZATION_KEY, auth);
  const socket = req.socket as Partial<TLSSocket> & { remoteAddress?: string };
  let facts: ConnectionFacts = { tls: false, certPrincipal: undefined, certError: undefined };
  if (typeof socket.getPeerCertificate === 'function') {
    const peer = socket.getPeerCertificate() as PeerCertificate | Record<string, never>;
    const presented = !!peer && Object.keys(peer).length > 0;
    facts = {
      tls: true,
      certPrincipal: presented && socket.authorized ? cnOf((peer as PeerCertificate).subject?.CN) : undefined,
      certError: presented && !socket.authorized ? String(socket.authorizationError ?? 'not verified') : undefined,
    };
  }
  return authenticateCall(sec, path, md, facts, socket.remoteAddress);
}

/** The interceptor that authenticates every call of `server` (see the file comment). */
function interceptorFor(sec: CompiledServerSecurity, server: () => grpc.Server): grpc.ServerInterceptor {
  return (method, call) => new grpc.ServerInterceptingCall(call, {
    start: (next) => {
      next({
        onReceiveMetadata: (md, mdNext) => {
          const info = call.getConnectionInfo();
          const facts = connections.get(server())?.get(keyOf(info.remoteAddress, info.remotePort)) ?? { tls: false, certPrincipal: undefined, certError: undefined };
          const verdict = authenticateCall(sec, method.path, md, facts, info.remoteAddress);
          if ('code' in verdict) {
            call.sendStatus({ code: verdict.code, details: verdict.details, metadata: new grpc.Metadata() });
            return;
          }
          md.remove(AUTHORIZATION_KEY);
          md.remove(PRINCIPAL_KEY);
          if (verdict.principal) md.set(PRINCIPAL_KEY, verdict.principal);
          mdNext(md);
        },
      });
    },
  });
}

/** A gRPC server with Agora's options whose every call passes the authenticating interceptor. */
export function newSecureServer(options: grpc.ServerOptions, security: CompiledServerSecurity): grpc.Server {
  let self: grpc.Server | undefined;
  const server = new grpc.Server({ ...options, interceptors: [interceptorFor(security, () => self as grpc.Server)] });
  self = server;
  connections.set(server, new Map());
  return server;
}

/** A socket as a JS duplex stream whose first bytes (already read to sniff the protocol) are replayed. */
class Replayed extends Duplex {
  constructor(private readonly inner: Socket, first: Buffer) {
    super();
    this.push(first);
    inner.on('data', (d: Buffer) => { if (!this.push(d)) inner.pause(); });
    inner.on('end', () => this.push(null));
    inner.on('close', () => this.destroy());
    inner.on('error', (e) => this.destroy(e));
  }

  override _read(): void {
    this.inner.resume();
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.inner.write(chunk, encoding, cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.inner.end(cb);
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.inner.destroy();
    cb(err);
  }
}

/** A certificate's CN (node gives an array when the subject repeats it: then it is ambiguous). */
function cnOf(cn: string | string[] | undefined): string | undefined {
  return typeof cn === 'string' && cn ? cn : undefined;
}

/** Listening sockets we own for TLS-capable servers, so stopServer can close them. */
const listeners = new WeakMap<grpc.Server, { net: NetServer; injector: grpc.ConnectionInjector; sockets: Set<Socket> }>();

/**
 * Listens on host:port for a server made by newSecureServer with TLS: sniffs each connection,
 * handshakes TLS here, and injects both kinds into the server. Resolves with the bound port.
 */
export function listenTls(server: grpc.Server, host: string, port: number, sec: CompiledServerSecurity): Promise<number> {
  const tls = sec.tls as TlsMaterial;
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const table = connections.get(server) ?? new Map<string, ConnectionFacts>();
  connections.set(server, table);
  const sockets = new Set<Socket>();
  // Client certificates are asked for but not enforced during the handshake, so that a bad
  // one is refused per call with its reason.
  const tlsOptions = { cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca } : {}), requestCert: !!tls.ca, rejectUnauthorized: false, ALPNProtocols: ['h2'] };
  const net = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.once('data', (first: Buffer) => {
      // What we read is gone from the socket's native handle, which http2 and tls would read
      // from directly: hand them a JS stream that replays it.
      const stream = new Replayed(socket, first);
      if (first[0] !== 0x16) {
        // Plaintext HTTP/2: served, and refused per call by the interceptor when TLS is required.
        injector.injectConnection(stream);
        return;
      }
      // A tls.Server that never listens runs this one handshake: the stock code path, which
      // sets `authorized` / `authorizationError` (one per connection, so the verdict is
      // unambiguously this socket's; gRPC connections are few and long-lived).
      const handshaker = createTlsServer(tlsOptions);
      handshaker.on('tlsClientError', () => socket.destroy());
      handshaker.once('secureConnection', (secure: TLSSocket) => {
        // Over a JS stream the TLS socket cannot ask the kernel who the peer is; tell it, so
        // that grpc-js reports the real peer and the interceptor finds this connection's facts.
        (secure as unknown as { _peername: unknown })._peername = { address: socket.remoteAddress, port: socket.remotePort, family: socket.remoteFamily };
        const peer = secure.getPeerCertificate() as PeerCertificate | Record<string, never>;
        const presented = !!peer && Object.keys(peer).length > 0;
        const key = keyOf(socket.remoteAddress, socket.remotePort);
        table.set(key, {
          tls: true,
          certPrincipal: presented && secure.authorized ? cnOf((peer as PeerCertificate).subject?.CN) : undefined,
          certError: presented && !secure.authorized ? String(secure.authorizationError ?? 'not verified') : undefined,
        });
        socket.on('close', () => table.delete(key));
        secure.on('error', () => secure.destroy());
        injector.injectConnection(secure);
      });
      handshaker.emit('connection', stream);
    });
  });
  listeners.set(server, { net, injector, sockets });
  return new Promise((resolve, reject) => {
    net.once('error', (e) => reject(new Error(`cannot listen on ${host}:${port}: ${e.message}`)));
    net.listen(port, host.replace(/^\[|\]$/g, ''), () => {
      const addr = net.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/**
 * Stops accepting connections on what listenTls opened, and returns the function that cuts the
 * connections still open (a no-op for other servers).
 */
export function closeTlsListener(server: grpc.Server): () => void {
  const l = listeners.get(server);
  if (!l) return () => undefined;
  listeners.delete(server);
  l.net.close();
  return () => {
    l.injector.destroy();
    for (const s of l.sockets) s.destroy();
  };
}

/**
 * The safe-default rule for a service about to listen: loopback is always fine; any other
 * address needs authentication, or an explicit `insecure`, in which case a loud warning is
 * returned for the caller to print. Throws the refusal as an Error.
 */
export function checkBindSafety(service: string, host: string, authenticated: boolean, insecure: boolean): string | undefined {
  if (isLoopbackHost(host) || authenticated) return undefined;
  if (!insecure) {
    throw new Error(`refusing to listen on ${host} without authentication: anyone who can reach it could run commands on this cluster. Configure authentication (--credentials, or --authenticate with --tls-ca), bind to 127.0.0.1, or pass --insecure to accept the risk`);
  }
  return `WARNING: ${service} listens on ${host} WITHOUT AUTHENTICATION (--insecure): anyone who can reach this address can run commands on this cluster`;
}

/**
 * The agent's security options: TLS and authentication of its own gRPC port (executors,
 * sandbox files) and how it presents itself to the master.
 */
import { compileServerSecurity, loadTls, type ClientSecurity, type CompiledServerSecurity, type Credential, type TlsOptions } from '@agora/core';

/** Security of an agent. Every field is optional: none set, plaintext and open (loopback only). */
export interface AgentSecurityOptions {
  /**
   * TLS files. `cert` + `key` serve the agent's port with TLS and, signed by the cluster CA,
   * authenticate the agent to the master (mutual TLS); `ca` verifies the master, and clients of
   * the agent's port that present certificates.
   * @default no TLS
   */
  tls?: TlsOptions;
  /** Refuse plaintext connections to the agent's port. @default false */
  tlsRequired?: boolean;
  /** Principal and secret the agent presents to the master (over TLS). @default none */
  credential?: Credential;
  /**
   * Principals and secrets (or a credentials file) that may read this agent's sandbox files.
   * Setting it (or `authenticate`) makes the Files service require authentication.
   * @default none
   */
  credentials?: Credential[] | string;
  /**
   * Require authentication on the agent's port (a secret from `credentials`, or a client
   * certificate signed by `tls.ca`). Executors are exempt: they are the agent's own children
   * and reach it with the address and CA the agent gives them. @default true when `credentials` is set
   */
  authenticate?: boolean;
  /** Allow binding a non-loopback address without authentication (logs a loud warning). @default false */
  insecure?: boolean;
}

/** What the agent runs with. */
export interface CompiledAgentSecurity {
  server: CompiledServerSecurity;
  /** How the agent reaches the master (undefined: the process default). */
  masterLink: ClientSecurity | undefined;
  insecure: boolean;
}

/** Executors connect without credentials (see AgentSecurityOptions.authenticate). */
const EXECUTOR_CONNECT = '/agora.v1.Executor/Connect';

/** Checks and loads the options once; throws an Error naming the bad file or value. */
export function compileAgentSecurity(o: AgentSecurityOptions = {}): CompiledAgentSecurity {
  const tls = loadTls(o.tls);
  const server = compileServerSecurity({
    ...(tls?.cert ? { tls } : {}),
    ...(o.tlsRequired !== undefined ? { tlsRequired: o.tlsRequired } : {}),
    ...(o.credentials !== undefined ? { credentials: o.credentials } : {}),
    ...(o.authenticate !== undefined ? { authenticate: o.authenticate } : {}),
    publicMethods: [EXECUTOR_CONNECT],
    name: 'this agent',
  });
  const masterLink: ClientSecurity | undefined = tls || o.credential ? { ...(tls ? { tls } : {}), ...(o.credential ? { credential: o.credential } : {}) } : undefined;
  return { server, masterLink, insecure: o.insecure ?? false };
}

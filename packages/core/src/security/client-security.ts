/**
 * The client side of Agora's transport security: how every gRPC client (schedulers, agents,
 * executors, the CLI) reaches a server — TLS verified against the cluster CA, an optional
 * client certificate (mutual TLS), and an optional principal + secret sent with every call.
 */
import * as grpc from '@grpc/grpc-js';
import { isIP } from 'node:net';
import { checkServerIdentity } from 'node:tls';
import { AUTHORIZATION_KEY, credentialHeader, type Credential } from './credentials.js';
import { isLoopbackHost, loadTls, type TlsMaterial, type TlsOptions } from './tls.js';

/** How a client reaches a server. Every field is optional; none: plaintext, anonymous. */
export interface ClientSecurity {
  /** TLS: `ca` verifies the server; `cert` + `key` authenticate this client (mutual TLS). */
  tls?: TlsOptions | TlsMaterial;
  /** A principal and its secret, sent with every call (over TLS; plaintext only to loopback). */
  credential?: Credential;
}

let processDefault: ClientSecurity | undefined;

/**
 * Sets the security every client of this process uses when it is given none (the CLI sets it
 * once from its flags, so that every command and the frameworks it embeds inherit it).
 */
export function setDefaultClientSecurity(security: ClientSecurity | undefined): void {
  processDefault = security ? { ...security, ...(security.tls ? { tls: loadTls(security.tls) } : {}) } : undefined;
}

/** The process-wide default set by setDefaultClientSecurity (undefined: plaintext, anonymous). */
export function defaultClientSecurity(): ClientSecurity | undefined {
  return processDefault;
}

/**
 * Channel credentials, interceptors and channel options for one client of `address`. Throws
 * when the setup would leak a secret.
 */
export function clientTransport(address: string, security: ClientSecurity | undefined): { credentials: grpc.ChannelCredentials; interceptors: grpc.Interceptor[]; options: grpc.ChannelOptions } {
  const tls = loadTls(security?.tls);
  const credential = security?.credential;
  const interceptors: grpc.Interceptor[] = [];
  if (credential) {
    const host = address.replace(/:\d+$/, '');
    if (!tls && !isLoopbackHost(host)) {
      throw new Error(`refusing to send the secret of principal ${credential.principal} in plaintext to ${address}: give the cluster CA (--tls-ca) to use TLS`);
    }
    const header = credentialHeader(credential);
    interceptors.push((options, nextCall) => new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        metadata.set(AUTHORIZATION_KEY, header);
        next(metadata, listener);
      },
    }));
  }
  if (!tls) return { credentials: grpc.credentials.createInsecure(), interceptors, options: {} };
  const host = address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (!isIP(host)) return { credentials: grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null), interceptors, options: {} };
  // An IP address may not be sent as the TLS server name (RFC 6066; node warns on every
  // process): send a placeholder name, and check the certificate against the IP itself.
  const credentials = grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null, {
    checkServerIdentity: (_name, cert) => checkServerIdentity(host, cert),
  });
  return { credentials, interceptors, options: { 'grpc.ssl_target_name_override': 'agora.invalid' } };
}

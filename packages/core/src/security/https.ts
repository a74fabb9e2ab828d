/**
 * TLS for HTTP servers (fastify, node:https) from the same TLS options the gRPC endpoints
 * take, so that the master's HTTP server and the frameworks' REST APIs use one set of files.
 */
import { loadTls, type TlsMaterial, type TlsOptions } from './tls.js';

/** The `https` options of node:https / fastify for a server. */
export interface HttpsServerOptions {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  /** Ask clients for a certificate (when `ca` is given). */
  requestCert: boolean;
  /** Refuse clients without a certificate signed by `ca` (mutual TLS). */
  rejectUnauthorized: boolean;
}

/**
 * `{ https: … }` to spread into `Fastify({ … })` (or node:https.createServer), or `{}` when
 * `tls` has no certificate: the server then speaks plain HTTP.
 * `requireClientCert`: only clients with a certificate signed by `tls.ca` are served
 * (the principal is then the certificate's CN: `req.socket.getPeerCertificate().subject.CN`).
 */
export function httpsServerOptions(tls: TlsOptions | TlsMaterial | undefined, options: { requireClientCert?: boolean } = {}): { https: HttpsServerOptions } | Record<string, never> {
  const m = loadTls(tls);
  if (!m?.cert || !m.key) {
    if (m) throw new Error('serving HTTPS needs a certificate and its key (--tls-cert, --tls-key)');
    return {};
  }
  if (options.requireClientCert && !m.ca) throw new Error('requiring client certificates needs the cluster CA (--tls-ca)');
  return { https: { cert: m.cert, key: m.key, ...(m.ca ? { ca: m.ca } : {}), requestCert: !!m.ca, rejectUnauthorized: !!options.requireClientCert } };
}

/**
 * TLS material (the cluster CA, a certificate and its key) as every Agora endpoint takes it:
 * each field is either a PEM file's path or the PEM text itself, read once into buffers.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';

/** TLS settings. Each field: a path to a PEM file, or PEM text (or its bytes). */
export interface TlsOptions {
  /** The cluster CA certificate(s): peers are verified against it. */
  ca?: string | Buffer;
  /** This endpoint's certificate (a server's, or a client's for mutual TLS). */
  cert?: string | Buffer;
  /** The private key of `cert`. */
  key?: string | Buffer;
}

/** TlsOptions read into PEM bytes. */
export interface TlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

function pem(value: string | Buffer | undefined, what: string): Buffer | undefined {
  if (value === undefined || value === '') return undefined;
  if (Buffer.isBuffer(value)) return value;
  if (value.includes('-----BEGIN')) return Buffer.from(value, 'utf8');
  let data: Buffer;
  try {
    data = readFileSync(value);
  } catch (e) {
    throw new Error(`cannot read the TLS ${what} file ${value}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!data.includes('-----BEGIN')) throw new Error(`the TLS ${what} file ${value} holds no PEM block`);
  return data;
}

/** Reads TlsOptions into bytes; throws an Error naming the file at fault. */
export function loadTls(o: TlsOptions | TlsMaterial | undefined): TlsMaterial | undefined {
  if (!o) return undefined;
  const out: TlsMaterial = {};
  const ca = pem(o.ca, 'CA');
  const cert = pem(o.cert, 'certificate');
  const key = pem(o.key, 'key');
  if (ca) out.ca = ca;
  if (cert) out.cert = cert;
  if (key) out.key = key;
  if (!!cert !== !!key) throw new Error(cert ? 'a TLS certificate needs its key (--tls-key)' : 'a TLS key needs its certificate (--tls-cert)');
  if (!ca && !cert) return undefined;
  return out;
}

/** The subject common name of a PEM certificate (the principal of a client certificate). */
export function commonNameOf(certPem: Buffer): string | undefined {
  try {
    const subject = new X509Certificate(certPem).subject;
    return /(?:^|\n)CN=([^\n]+)/.exec(subject)?.[1];
  } catch {
    return undefined;
  }
}

/** True for addresses that never leave this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\./.test(h);
}

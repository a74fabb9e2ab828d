/**
 * A cluster CA and certificates for a test or small cluster, made with the system's `openssl`
 * (no key material is generated in JavaScript, and nothing is downloaded).
 *
 * Every certificate is signed by the CA, names its principal as subject CN, carries the
 * subject alternative names 127.0.0.1, ::1, localhost, this host's name and any extra hosts,
 * and may serve (serverAuth) as well as authenticate a client (clientAuth): an agent serves
 * its executors with the same certificate it presents to the master.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export interface ClusterCertsOptions {
  /** Principals to make certificates for (each `NAME.crt` + `NAME.key`). */
  principals: string[];
  /** Extra subject alternative names (IP addresses or DNS names). */
  hosts?: string[];
  /** Validity of the leaf certificates. @default 825 */
  days?: number;
  /** Also write `credentials.json` and `NAME.secret` with a random secret per principal. */
  secrets?: boolean;
  /** Replace an existing CA in the directory. @default false: reuse it */
  force?: boolean;
}

/** The files written, for the report the command prints. */
export interface ClusterCertsResult {
  ca: string;
  certs: { principal: string; cert: string; key: string; secret?: string }[];
  credentials?: string;
}

const PRINCIPAL = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('openssl is not installed (Debian: apt-get install openssl)');
    throw new Error(`openssl ${args[0]} failed: ${(err.stderr?.toString() ?? err.message).trim().split('\n')[0]}`);
  }
}

function sanOf(extra: string[]): string {
  const names = new Set(['127.0.0.1', '::1', 'localhost', hostname(), ...extra]);
  return [...names].map((n) => (/^[\d.]+$/.test(n) || n.includes(':') ? `IP:${n}` : `DNS:${n}`)).join(',');
}

/** Creates (or reuses) the CA in `dir` and a certificate per principal. Throws an Error naming the problem. */
export function createClusterCerts(dir: string, o: ClusterCertsOptions): ClusterCertsResult {
  if (o.principals.length === 0) throw new Error('name at least one principal (--name NAME)');
  for (const p of o.principals) if (!PRINCIPAL.test(p)) throw new Error(`principal '${p}' must be letters, digits, '_', '.', '@' or '-' (at most 64)`);
  const days = o.days ?? 825;
  if (!Number.isInteger(days) || days < 1) throw new Error(`--days must be a whole number ≥ 1, got ${days}`);
  for (const h of o.hosts ?? []) if (!/^[A-Za-z0-9.:-]+$/.test(h)) throw new Error(`--host '${h}' is not an IP address or DNS name`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = join(dir, 'ca.crt');
  if (o.force || !existsSync(ca) || !existsSync(join(dir, 'ca.key'))) {
    openssl(['req', '-x509', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-keyout', 'ca.key', '-out', 'ca.crt',
      '-days', String(Math.max(days, 3650)), '-subj', '/CN=Agora cluster CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
    chmodSync(join(dir, 'ca.key'), 0o600);
  }
  const ext = join(dir, `.ext-${randomBytes(4).toString('hex')}.cnf`);
  writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=${sanOf(o.hosts ?? [])}\n`);
  const result: ClusterCertsResult = { ca, certs: [] };
  try {
    for (const p of o.principals) {
      const csr = `${p}.csr`;
      openssl(['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-keyout', `${p}.key`, '-out', csr, '-subj', `/CN=${p}`], dir);
      openssl(['x509', '-req', '-in', csr, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${p}.crt`, '-days', String(days), '-extfile', ext], dir);
      rmSync(join(dir, csr), { force: true });
      chmodSync(join(dir, `${p}.key`), 0o600);
      result.certs.push({ principal: p, cert: join(dir, `${p}.crt`), key: join(dir, `${p}.key`) });
    }
  } finally {
    rmSync(ext, { force: true });
  }
  if (o.secrets) {
    const credentials = result.certs.map((c) => {
      const secret = randomBytes(24).toString('base64url');
      c.secret = join(dir, `${c.principal}.secret`);
      writeFileSync(c.secret, `${secret}\n`, { mode: 0o600 });
      return { principal: c.principal, secret };
    });
    result.credentials = join(dir, 'credentials.json');
    writeFileSync(result.credentials, `${JSON.stringify({ credentials }, null, 2)}\n`, { mode: 0o600 });
  }
  return result;
}

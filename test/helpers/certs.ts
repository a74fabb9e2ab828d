/**
 * A cluster CA and certificates for security tests, made by `agora certs init` (the built
 * CLI, as a user makes them). A second, unrelated CA signs an impostor certificate.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGORA_BIN, tempDir } from './processes.js';

export interface TestCerts {
  dir: string;
  ca: string;
  /** Certificate, key and secret file of a principal of the cluster CA. */
  of(principal: string): { cert: string; key: string; secretFile: string; secret: string };
  /** A certificate with CN `web` signed by a CA the cluster does not trust. */
  impostor: { cert: string; key: string };
  credentials: string;
}

/** Runs `agora certs init` for `principals` (with secrets), plus an impostor CA. */
export function makeCerts(principals: string[]): TestCerts {
  const dir = tempDir('agora-certs-');
  execFileSync(process.execPath, [AGORA_BIN, 'certs', 'init', dir, '--secrets', ...principals.flatMap((p) => ['--name', p])], { stdio: 'pipe' });
  // The impostor: same CN, another CA (plain openssl: one CLI start is enough per test file).
  const evil = join(dir, 'evil');
  mkdirSync(evil);
  const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: evil, stdio: 'pipe' });
  ssl(['req', '-x509', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Agora cluster CA']);
  ssl(['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-keyout', 'web.key', '-out', 'web.csr', '-subj', '/CN=web']);
  ssl(['x509', '-req', '-in', 'web.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'web.crt', '-days', '2']);
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    of: (p) => ({ cert: join(dir, `${p}.crt`), key: join(dir, `${p}.key`), secretFile: join(dir, `${p}.secret`), secret: readFileSync(join(dir, `${p}.secret`), 'utf8').trim() }),
    impostor: { cert: join(evil, 'web.crt'), key: join(evil, 'web.key') },
    credentials: join(dir, 'credentials.json'),
  };
}

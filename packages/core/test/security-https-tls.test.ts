// The HTTPS helper: the same TLS files serve an HTTP server (fastify/node:https), verified by
// clients against the cluster CA; with requireClientCert only certificate holders are served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authenticateHttpRequest, compileServerSecurity, credentialHeader, httpsServerOptions } from '../src/index.js';

function certs(dir: string): void {
  const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(['req', '-x509', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=test CA']);
  for (const name of ['server', 'client']) {
    ssl(['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    ssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2']);
  }
}

function get(port: number, opts: { ca: Buffer; cert?: Buffer; key?: Buffer; headers?: Record<string, string> }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: 'localhost', port, path: '/', ...opts, checkServerIdentity: () => undefined }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

test('httpsServerOptions: HTTPS from the cluster files; client certificates required when asked', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agora-https-'));
  try {
    certs(dir);
    assert.deepEqual(httpsServerOptions(undefined), {}, 'no TLS: plain HTTP');
    assert.throws(() => httpsServerOptions({ ca: join(dir, 'ca.crt') }), /needs a certificate and its key/);
    const files = { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
    const server = createServer(httpsServerOptions(files, { requireClientCert: true }).https, (req, res) => {
      res.end(`hello ${(req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const ca = readFileSync(files.ca);
      assert.equal(await get(port, { ca, cert: readFileSync(join(dir, 'client.crt')), key: readFileSync(join(dir, 'client.key')) }), 'hello client');
      await assert.rejects(get(port, { ca }), 'no client certificate: refused');
    } finally {
      server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('authenticateHttpRequest: an HTTP server authenticates like the gRPC port (client certificate or Basic secret)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agora-https-'));
  try {
    certs(dir);
    const files = { ca: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
    const sec = compileServerSecurity({ tls: files, credentials: [{ principal: 'web', secret: 'good' }] });
    const server = createServer(httpsServerOptions(files).https, (req, res) => {
      const v = authenticateHttpRequest(sec, req, '/state');
      res.end('principal' in v ? `ok ${v.principal}` : `refused ${v.details}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const ca = readFileSync(files.ca);
      assert.equal(await get(port, { ca, cert: readFileSync(join(dir, 'client.crt')), key: readFileSync(join(dir, 'client.key')) }), 'ok client');
      assert.equal(await get(port, { ca, headers: { authorization: credentialHeader({ principal: 'web', secret: 'good' }) } }), 'ok web');
      assert.equal(await get(port, { ca, headers: { authorization: credentialHeader({ principal: 'web', secret: 'bad' }) } }), 'refused principal web: wrong secret');
      assert.match(await get(port, { ca }), /^refused no credentials/);
    } finally {
      server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

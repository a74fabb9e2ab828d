// Security, with real `agora` processes: certificates from `agora certs init`, a
// master that requires TLS and authentication, an agent and a framework (`agora task run`)
// authenticated by client certificates run a task; a plaintext client is refused with the
// reason; a master refuses to listen on a reachable address without authentication unless
// --insecure, which it then warns about loudly.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OperatorClient, grpc } from '@agora/core';
import { makeCerts, type TestCerts } from './helpers/certs.js';
import { agora, agoraRun, freePort, tempDir, type Proc } from './helpers/processes.js';

let certs: TestCerts;
let master: Proc;
let agent: Proc;
let address: string;

const tlsFlags = (principal: string): string[] => ['--tls-ca', certs.ca, '--tls-cert', certs.of(principal).cert, '--tls-key', certs.of(principal).key];

before(async () => {
  certs = makeCerts(['master', 'agent', 'operator']);
  const dir = tempDir('agora-tls-');
  address = `127.0.0.1:${await freePort()}`;
  master = agora(['master', '--port', address.split(':')[1] as string, '--work-dir', join(dir, 'master'), ...tlsFlags('master'), '--tls-required', '--authenticate']);
  await master.waitFor(/master listening on/, 30_000);
  agent = agora(['agent', '--master', address, '--port', '0', '--work-dir', join(dir, 'agent'), '--resources', 'cpus:1;mem:512;disk:100;ports:[31000-31010]', ...tlsFlags('agent'), '--tls-required']);
  await agent.waitFor(/agent listening on/, 30_000);
});

after(() => {
  agent?.kill('SIGKILL');
  master?.kill('SIGKILL');
});

test('with TLS required a plaintext client is refused with the reason; a TLS client without credentials too', async () => {
  const plain = await agoraRun(['state', '--master', address], 30_000);
  assert.notEqual(plain.code, 0);
  assert.match(plain.output, /requires TLS: plaintext connections are refused/);
  const op = new OperatorClient(address, 3_000, { tls: { ca: certs.ca } });
  try {
    await assert.rejects(op.getState(), (e: grpc.ServiceError) => e.code === grpc.status.UNAUTHENTICATED && /no credentials/.test(e.details));
  } finally {
    op.close();
  }
});

test('certificates from agora certs init: an agent and a framework with client certificates run a task', async () => {
  const run = await agoraRun(['task', 'run', '--master', address, ...tlsFlags('operator'), '--name', 'hello-tls', '--cpus', '0.1', '--mem', '16', '--', 'echo', 'hello over tls'], 60_000);
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /hello over tls/);
  // The operator API over TLS with a client certificate: the agent (admitted by its certificate) is there.
  const op = new OperatorClient(address, 3_000, { tls: { ca: certs.ca, cert: certs.of('operator').cert, key: certs.of('operator').key } });
  try {
    assert.equal((await op.getAgents()).agents?.length, 1);
  } finally {
    op.close();
  }
});

test('a reachable address without authentication is refused; --insecure starts with a loud warning', async () => {
  const dir = tempDir('agora-insecure-');
  const refused = await agoraRun(['master', '--host', '0.0.0.0', '--port', '0', '--work-dir', join(dir, 'a')], 30_000);
  assert.notEqual(refused.code, 0);
  assert.match(refused.output, /refusing to listen on 0\.0\.0\.0 without authentication/);
  const open = agora(['master', '--host', '0.0.0.0', '--port', '0', '--work-dir', join(dir, 'b'), '--insecure']);
  try {
    await open.waitFor(/master listening on/, 30_000);
    assert.match(open.output(), /WARNING: the master listens on 0\.0\.0\.0 WITHOUT AUTHENTICATION/);
  } finally {
    open.kill('SIGKILL');
  }
});

// Security: frameworks and agents without credentials, with a wrong secret or an
// untrusted certificate are refused with a clear reason, and work with the right ones; ACLs
// keep a principal out of a role, away from running as root, and from tearing down another
// principal's framework. One master (TLS, credentials, ACLs) in this process, a real agent.
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { OperatorClient, grpc, silentLogger, type ClientSecurity } from '@agora/core';
import { startMaster, type Master } from '@agora/master';
import { startAgent, type Agent } from '@agora/agent';
import { SchedulerDriver, commandTask, isTerminalState, taskStateName, type TaskStatus } from '@agora/sdk';
import { makeCerts, type TestCerts } from './helpers/certs.js';
import { tempDir } from './helpers/processes.js';

let certs: TestCerts;
let master: Master;
let agent: Agent;
const drivers: SchedulerDriver[] = [];

const ACLS = {
  register_frameworks: [
    { principals: { values: ['ops'] }, roles: { type: 'ANY' } },
    { principals: { values: ['web'] }, roles: { values: ['web', '*'] } },
  ],
  run_tasks: [
    { principals: { values: ['ops'] }, users: { type: 'ANY' } },
    { principals: { type: 'ANY' }, users: { values: ['nobody'] } },
  ],
  teardown_frameworks: [
    { principals: { values: ['ops'] }, framework_principals: { type: 'ANY' } },
    { principals: { values: ['web'] }, framework_principals: { values: ['web'] } },
  ],
  // Only ops reads sandboxes over the HTTP API; web may still call the operator API.
  access_sandboxes: [
    { principals: { values: ['ops'] }, users: { type: 'ANY' } },
    { principals: { type: 'ANY' }, users: { type: 'NONE' } },
  ],
};

before(async () => {
  certs = makeCerts(['master', 'agent', 'web', 'ops']);
  const dir = tempDir('agora-auth-');
  const aclFile = join(dir, 'acls.json');
  writeFileSync(aclFile, JSON.stringify(ACLS));
  const m = certs.of('master');
  master = await startMaster({
    port: 0, workDir: join(dir, 'master'), logger: silentLogger(),
    security: { tls: { ca: certs.ca, cert: m.cert, key: m.key }, credentials: certs.credentials, acls: aclFile },
  });
  const a = certs.of('agent');
  // The agent authenticates with its certificate (mutual TLS), no secret.
  agent = await startAgent({
    master: master.address, port: 0, workDir: join(dir, 'agent'), logger: silentLogger(), resources: 'cpus:2;mem:1024;disk:100;ports:[31000-31010]',
    security: { tls: { ca: certs.ca, cert: a.cert, key: a.key } },
    // This agent allows root tasks (agora agent --allow-root-tasks): the master's ACLs decide who.
    allowUser: () => true,
  });
});

// A subscribed framework that ignores its offers would hold the agent's resources.
afterEach(async () => {
  for (const d of drivers.splice(0)) await d.stop().catch(() => undefined);
});

after(async () => {
  await agent?.stop();
  await master?.stop();
});

function driver(name: string, security: ClientSecurity, framework: Record<string, unknown> = {}): SchedulerDriver {
  const d = new SchedulerDriver({
    master: master.address, framework: { name, ...framework }, connectTimeoutMs: 5_000,
    ...(security.tls ? { tls: security.tls } : {}), ...(security.credential ? { credential: security.credential } : {}),
  });
  drivers.push(d);
  return d;
}

const secretOf = (p: string): ClientSecurity => ({ tls: { ca: certs.ca }, credential: { principal: p, secret: certs.of(p).secret } });

test('a framework with no credentials, a wrong secret or an untrusted certificate is refused with the reason', async () => {
  await assert.rejects(driver('anon', { tls: { ca: certs.ca } }).start(), /no credentials: this master requires authentication/);
  await assert.rejects(driver('wrong', { tls: { ca: certs.ca }, credential: { principal: 'web', secret: 'not-the-secret' } }).start(), /principal web: wrong secret/);
  await assert.rejects(driver('stranger', { tls: { ca: certs.ca }, credential: { principal: 'mallory', secret: 'x' } }).start(), /principal mallory: wrong secret/);
  await assert.rejects(driver('impostor', { tls: { ca: certs.ca, ...certs.impostor } }).start(), /certificate not signed by the cluster CA/);
  // Claiming another principal in FrameworkInfo is refused too.
  await assert.rejects(driver('claims-ops', secretOf('web'), { principal: 'ops' }).start(), /framework_info.principal 'ops' does not match the authenticated principal 'web'/);
});

test('the right secret or certificate works, and an agent is refused or admitted likewise', async () => {
  const bySecret = await driver('web-secret', secretOf('web')).start();
  assert.match(bySecret, /^fw-/);
  const web = certs.of('web');
  const byCert = await driver('web-cert', { tls: { ca: certs.ca, cert: web.cert, key: web.key } }).start();
  assert.match(byCert, /^fw-/);
  const op = new OperatorClient(master.address, 3_000, secretOf('ops'));
  const fws = (await op.getFrameworks()).frameworks ?? [];
  assert.equal(fws.find((f) => f.frameworkInfo?.id?.value === byCert)?.frameworkInfo?.principal, 'web', 'the certificate CN became the framework principal');
  assert.equal((await op.getAgents()).agents?.length, 1, 'the agent with its certificate registered');
  op.close();
  const dir = tempDir('agora-auth-agent-');
  await assert.rejects(
    startAgent({ master: master.address, port: 0, workDir: join(dir, 'a1'), logger: silentLogger(), resources: 'cpus:1;mem:64', security: { tls: { ca: certs.ca } } }),
    /refused this agent: no credentials/,
  );
  await assert.rejects(
    startAgent({ master: master.address, port: 0, workDir: join(dir, 'a2'), logger: silentLogger(), resources: 'cpus:1;mem:64', security: { tls: { ca: certs.ca }, credential: { principal: 'agent', secret: 'nope' } } }),
    /refused this agent: principal agent: wrong secret/,
  );
});

test('ACL register_frameworks: web may not register in role prod; ops may', async () => {
  await assert.rejects(
    driver('web-prod', secretOf('web'), { roles: ['prod'] }).start(),
    /principal 'web' is not allowed to register frameworks in role 'prod'/,
  );
  assert.match(await driver('ops-prod', secretOf('ops'), { roles: ['prod'] }).start(), /^fw-/);
});

/** Launches one task on the first offer and resolves with its terminal (or error) status. */
async function runOne(d: SchedulerDriver, task: { user?: string; command: string }): Promise<TaskStatus> {
  const events = d.events();
  await d.start();
  for await (const ev of events) {
    if (ev.type === 'offers' && ev.offers[0]) {
      const t = commandTask(ev.offers[0], { name: 't', taskId: `t-${Date.now()}`, command: task.command, cpus: 0.1, mem: 16 });
      if (task.user && t.command) t.command.user = task.user;
      d.launch(ev.offers[0].id?.value ?? '', [t]);
      for (const o of ev.offers.slice(1)) d.decline(o.id?.value ?? '');
    }
    if (ev.type === 'update' && isTerminalState(ev.status.state)) return ev.status;
  }
  throw new Error('driver stopped');
}

test('ACL run_tasks: web may not run a task as root (TASK_ERROR with the reason); ops may', async () => {
  const denied = await runOne(driver('web-root', secretOf('web'), { user: 'nobody' }), { user: 'root', command: 'true' });
  assert.equal(taskStateName(denied.state), 'TASK_ERROR');
  assert.match(denied.message ?? '', /principal 'web' is not allowed to run tasks as user 'root'/);
  // The framework's own user counts when the task names none.
  const deniedByDefault = await runOne(driver('web-root-fw', secretOf('web'), { user: 'root' }), { command: 'true' });
  assert.match(deniedByDefault.message ?? '', /not allowed to run tasks as user 'root'/);
  const ok = await runOne(driver('ops-root', secretOf('ops'), { user: 'root' }), { user: 'root', command: 'echo fine' });
  assert.equal(taskStateName(ok.state), 'TASK_FINISHED', ok.message ?? '');
});

test('ACL teardown_frameworks: web may not tear down ops\'s framework, but its own; ops may tear down web\'s', async () => {
  const opsFw = await driver('ops-victim', secretOf('ops')).start();
  const webFw = await driver('web-own', secretOf('web')).start();
  const webFw2 = await driver('web-victim', secretOf('web')).start();
  const asWeb = new OperatorClient(master.address, 3_000, secretOf('web'));
  const asOps = new OperatorClient(master.address, 3_000, secretOf('ops'));
  try {
    await assert.rejects(asWeb.teardown(opsFw), (e: grpc.ServiceError) => {
      assert.equal(e.code, grpc.status.PERMISSION_DENIED);
      assert.match(e.details, /principal 'web' is not allowed to tear down frameworks of principal 'ops'/);
      return true;
    });
    await asWeb.teardown(webFw);
    await asOps.teardown(webFw2);
    const active = (await asOps.getFrameworks()).frameworks?.filter((f) => f.active).map((f) => f.frameworkInfo?.id?.value);
    assert.ok(active?.includes(opsFw), 'the refused teardown left the framework alone');
    assert.ok(!active?.includes(webFw) && !active?.includes(webFw2));
  } finally {
    asWeb.close();
    asOps.close();
  }
});

test('the HTTP operator API is HTTPS with the same authentication: no credentials 401, a wrong secret 401, the right one 200', async () => {
  assert.ok(master.httpAddress, 'the master serves HTTP');
  const get = (path: string, auth?: string): Promise<{ status: number; body: string }> => new Promise((resolve, reject) => {
    const [host, port] = [master.httpAddress.slice(0, master.httpAddress.lastIndexOf(':')), Number(master.httpAddress.slice(master.httpAddress.lastIndexOf(':') + 1))];
    const req = httpsRequest({ host, port, path, ca: readFileSync(certs.ca), headers: auth ? { authorization: auth } : {} }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => { body += d.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
  const basic = (p: string, s: string): string => `Basic ${Buffer.from(`${p}:${s}`).toString('base64')}`;
  assert.equal((await get('/health')).status, 200, 'health stays open for probes');
  const none = await get('/state');
  assert.equal(none.status, 401, none.body);
  assert.match(none.body, /no credentials/);
  const wrong = await get('/state', basic('web', 'nope'));
  assert.equal(wrong.status, 401, wrong.body);
  assert.match(wrong.body, /wrong secret/);
  const right = await get('/state', basic('web', certs.of('web').secret));
  assert.equal(right.status, 200, right.body);
  assert.match(right.body, /"agents"/);
  const files = await get('/files/read?taskId=nope&path=stdout');
  assert.equal(files.status, 401, 'sandbox files are behind authentication too');

  // Sandbox files answer to access_sandboxes, task by task: web may read /state but not the
  // output of a task, even its own; ops may.
  const d = driver('sandbox-owner', secretOf('web'), { user: 'nobody' });
  const done = await runOne(d, { command: 'echo sandbox-secret' });
  assert.equal(taskStateName(done.state), 'TASK_FINISHED', done.message ?? '');
  const q = `/files/read?taskId=${done.taskId?.value}&frameworkId=${d.frameworkId}&path=stdout`;
  const asWeb = await get(q, basic('web', certs.of('web').secret));
  assert.equal(asWeb.status, 403, asWeb.body);
  assert.match(asWeb.body, /principal 'web' is not allowed to read sandboxes of tasks running as user 'nobody'/);
  assert.doesNotMatch(asWeb.body, /sandbox-secret/);
  const asOps = await get(q, basic('ops', certs.of('ops').secret));
  assert.equal(asOps.status, 200, asOps.body);
  assert.match(asOps.body, /sandbox-secret/);
});

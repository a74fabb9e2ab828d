/**
 * Acceptance of the long-running services framework on a real local cluster: real
 * master and agents (startCluster), real processes for the instances, the REST API over HTTP.
 * The framework-restart test runs the framework as its own process and SIGKILLs it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, isTerminalState, type TestCluster } from '@agora/sdk';
import { OperatorClient } from '@agora/core';
import { startLongRunning, type LongRunning } from '@agora/long-running';

const ROOT = new URL('..', import.meta.url).pathname;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A tiny HTTP server on $PORT0 answering its pid (and VERSION); FAIL=1 answers 500. */
// A node HTTP server needs about 40 MiB and the agent enforces `mem` (cgroups): its apps ask for 96.
const SERVER = `exec node -e "require('http').createServer((q,s)=>{s.statusCode=process.env.FAIL==='1'?500:200;s.end(process.pid+' '+(process.env.VERSION||''))}).listen(+process.env.PORT0,'127.0.0.1')"`;

interface Task { id: string; host: string; ports: number[]; state: string; version: string; killReason?: string; healthCheckResults?: { alive: boolean }[] }

function client(base: string) {
  const call = async <T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${base}${path}`, { method, ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}) });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  return {
    call,
    tasks: async (id: string) => (await call<{ tasks: Task[] }>('GET', `/v2/apps${id}/tasks`)).body.tasks,
    deployments: async () => (await call<{ id: string; waitingFor: string; affectedApps: string[] }[]>('GET', '/v2/deployments')).body,
    async waitDeployments(timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const d = await this.deployments();
        if (d.length === 0) return;
        if (Date.now() > deadline) throw new Error(`deployments still running: ${JSON.stringify(d)}`);
        await sleep(100);
      }
    },
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

const healthy = (t: Task) => t.state === 'TASK_RUNNING' && !t.killReason && t.healthCheckResults?.[0]?.alive === true;

describe('long-running framework on a local cluster', () => {
  let cluster: TestCluster;
  let lr: LongRunning;
  let api: ReturnType<typeof client>;
  let workDir: string;

  before(async () => {
    cluster = await startCluster({ agents: 2 });
    workDir = mkdtempSync(join(tmpdir(), 'agora-lr-'));
    lr = await startLongRunning({ master: cluster.masterAddress, workDir, port: 0, deploymentStepTimeoutSeconds: 60 });
    api = client(`http://${lr.address}`);
  });
  after(async () => {
    await lr?.stop({ teardown: true });
    await cluster?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  const web = {
    id: '/shop/web', cmd: SERVER, cpus: 0.5, mem: 96, instances: 5, env: { VERSION: 'v1' },
    portDefinitions: [{ port: 0, name: 'http' }],
    healthChecks: [{ protocol: 'HTTP', path: '/', portIndex: 0, gracePeriodSeconds: 5, intervalSeconds: 0.3, timeoutSeconds: 0.3, maxConsecutiveFailures: 2 }],
    upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
    backoffSeconds: 0.5,
  };

  test('(6) bad app definitions → 422 naming each problem, nothing stored', async () => {
    const bad = await api.call('POST', '/v2/apps', { id: '/bad', cpus: -1, constraints: [['hostname', 'NEAR']] });
    assert.equal(bad.status, 422);
    const paths = bad.body.details.map((d: { path: string }) => d.path);
    assert.deepEqual(paths.sort(), ['/cmd', '/constraints/0/1', '/cpus']);
    assert.match(JSON.stringify(bad.body), /cpus must be > 0, got -1/);
    assert.match(JSON.stringify(bad.body), /unknown constraint operator .{0,3}NEAR/);
    assert.equal((await api.call('GET', '/v2/apps/bad')).status, 404);
    // A group with a duplicate id and one bad app: nothing of it is stored.
    const dup = await api.call('POST', '/v2/groups', { id: '/g', apps: [{ id: 'a', cmd: 'sleep 100' }, { id: 'a', cmd: 'sleep 100' }, { id: 'b', cmd: 'sleep 100', mem: 'lots' }] });
    assert.equal(dup.status, 422);
    assert.match(JSON.stringify(dup.body), /id \/g\/a is given twice/);
    assert.match(JSON.stringify(dup.body), /mem must be a number/);
    assert.equal((await api.call('GET', '/v2/apps')).body.apps.length, 0);
    assert.equal(lr.service.deployments.size, 0);
  });

  test('(1) 5 instances of an HTTP server: RUNNING, healthy, each answers on its port', async () => {
    const r = await api.call('POST', '/v2/apps', web);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    await api.waitDeployments();
    const tasks = await api.tasks('/shop/web');
    assert.equal(tasks.length, 5);
    assert.ok(tasks.every(healthy), JSON.stringify(tasks));
    const pids = new Set<string>();
    for (const t of tasks) {
      const body = await (await fetch(`http://${t.host}:${t.ports[0]}/`)).text();
      assert.match(body, /^\d+ v1$/);
      pids.add(body);
    }
    assert.equal(pids.size, 5);
    // Duplicate id is a 422 too, and changes nothing.
    const dup = await api.call('POST', '/v2/apps', { ...web, instances: 1 });
    assert.equal(dup.status, 422);
    assert.match(JSON.stringify(dup.body), /already exists/);
    assert.equal((await api.call('GET', '/v2/apps/shop/web')).body.app.instances, 5);
  });

  test('(2) an instance killed from outside is replaced within backoff + one offer cycle', async () => {
    const before = await api.tasks('/shop/web');
    const victim = before[0]!;
    const pid = Number((await (await fetch(`http://${victim.host}:${victim.ports[0]}/`)).text()).split(' ')[0]);
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    await until('a replacement', async () => {
      const now = await api.tasks('/shop/web');
      return now.length === 5 && !now.some((t) => t.id === victim.id) && now.filter((t) => t.state === 'TASK_RUNNING').length === 5;
    }, 10_000, 50);
    const took = Date.now() - t0;
    // backoff 0.5 s + an offer cycle (declines refuse for 1 s; revive brings offers at once).
    assert.ok(took < 4_000, `replacement took ${took} ms`);
    await until('all healthy again', async () => (await api.tasks('/shop/web')).filter(healthy).length === 5);
  });

  test('(4) rolling update with minimumHealthCapacity 0.5: never fewer than half healthy; a failing version rolls back', async () => {
    let minHealthy = Infinity;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const tasks = await api.tasks('/shop/web');
        minHealthy = Math.min(minHealthy, tasks.filter(healthy).length);
        await sleep(50);
      }
    })();
    try {
      const up = await api.call('PUT', '/v2/apps/shop/web', { ...web, env: { VERSION: 'v2' } });
      assert.equal(up.status, 200, JSON.stringify(up.body));
      const dep = (await api.deployments())[0]!;
      assert.ok(dep.waitingFor.length > 0, 'the deployment says what it waits for');
      await api.waitDeployments();
      const tasks = await api.tasks('/shop/web');
      assert.equal(tasks.length, 5);
      for (const t of tasks) assert.match(await (await fetch(`http://${t.host}:${t.ports[0]}/`)).text(), / v2$/);
      assert.ok(minHealthy >= 3, `healthy fell to ${minHealthy} (< ceil(5 × 0.5))`);

      // A version whose health checks fail: the deployment cannot finish; old instances stay.
      const bad = await api.call('PUT', '/v2/apps/shop/web', { ...web, env: { VERSION: 'v3', FAIL: '1' } });
      assert.equal(bad.status, 200);
      const stuck = await until('the failing deployment to be visible', async () => (await api.deployments())[0]);
      await sleep(2_500);
      assert.equal((await api.deployments()).length, 1, 'the failing deployment does not finish');
      const locked = await api.call('PUT', '/v2/apps/shop/web', { ...web, instances: 4 });
      assert.equal(locked.status, 409, 'a deploying app is locked');
      const rb = await api.call('DELETE', `/v2/deployments/${stuck.id}`);
      assert.equal(rb.status, 200, JSON.stringify(rb.body));
      await api.waitDeployments();
      const after = await api.tasks('/shop/web');
      assert.equal(after.length, 5);
      assert.ok(after.every(healthy));
      for (const t of after) assert.match(await (await fetch(`http://${t.host}:${t.ports[0]}/`)).text(), / v2$/);
      assert.ok(minHealthy >= 3, `healthy fell to ${minHealthy} during the failing deployment`);
    } finally {
      sampling = false;
      await sampler;
    }
  });
});

describe('placement constraints', () => {
  test('(3) UNIQUE hostname on 3 agents with 4 instances: 3 run, the 4th waits and why explains it', async () => {
    const cluster = await startCluster({ agents: 0 });
    const workDir = mkdtempSync(join(tmpdir(), 'agora-lr-'));
    let lr: LongRunning | undefined;
    try {
      for (const h of ['host-a', 'host-b', 'host-c']) await cluster.addAgent({ hostname: h });
      lr = await startLongRunning({ master: cluster.masterAddress, workDir, port: 0 });
      const api = client(`http://${lr.address}`);
      const r = await api.call('POST', '/v2/apps', { id: '/uniq', cmd: 'sleep 600', cpus: 0.1, mem: 16, instances: 4, constraints: [['hostname', 'UNIQUE']] });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      await until('3 running', async () => (await api.tasks('/uniq')).filter((t) => t.state === 'TASK_RUNNING').length === 3);
      await sleep(2_500); // several offer cycles
      const tasks = await api.tasks('/uniq');
      assert.equal(tasks.length, 3);
      assert.deepEqual(tasks.map((t) => t.host).sort(), ['host-a', 'host-b', 'host-c']);
      const why = (await api.call('GET', '/v2/apps/uniq/why')).body;
      assert.equal(why.waiting, 1);
      assert.ok(why.lastUnusedOffers.length > 0);
      assert.ok(why.lastUnusedOffers.every((o: { outcome: string }) => o.outcome === 'constraint'));
      assert.match(why.summary.join('\n'), /constraint \["hostname","UNIQUE"\]: host host-[abc] already runs an instance/);
      const queue = (await api.call('GET', '/v2/queue')).body.queue;
      assert.equal(queue.length, 1);
      assert.equal((await api.deployments())[0]?.affectedApps[0], '/uniq');
    } finally {
      await lr?.stop({ teardown: true });
      await cluster.stop();
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});

describe('framework restart', () => {
  test('(5) the framework process killed mid-deployment: the deployment continues, no duplicate instances', async () => {
    const cluster = await startCluster({ agents: 2 });
    const workDir = mkdtempSync(join(tmpdir(), 'agora-lr-'));
    const procs: ChildProcess[] = [];
    const startProc = async (): Promise<{ child: ChildProcess; base: string }> => {
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'frameworks/long-running/src/main.ts'), '--master', cluster.masterAddress, '--port', '0', '--work-dir', workDir], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      procs.push(child);
      let out = '';
      child.stdout!.on('data', (d) => { out += d; });
      child.stderr!.on('data', (d) => { out += d; });
      const m = await until('the API address', async () => /long-running api listening on (\S+)/.exec(out) ?? (child.exitCode !== null ? Promise.reject(new Error(out)) : undefined), 20_000, 50);
      return { child, base: `http://${m[1]}` };
    };
    const op = new OperatorClient(cluster.masterAddress);
    try {
      let p = await startProc();
      let api = client(p.base);
      const app = {
        id: '/svc', cmd: SERVER, cpus: 0.5, mem: 96, instances: 4, portDefinitions: [{ port: 0 }],
        healthChecks: [{ protocol: 'HTTP', gracePeriodSeconds: 5, intervalSeconds: 0.5, timeoutSeconds: 0.5 }],
        // One at a time: a multi-step deployment.
        upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0.25 },
      };
      assert.equal((await api.call('POST', '/v2/apps', app)).status, 201);
      await api.waitDeployments();
      const v1 = new Set((await api.tasks('/svc')).map((t) => t.id));
      assert.equal((await api.call('POST', '/v2/apps/svc/restart')).status, 200);
      // Mid-deployment: one or two instances replaced, not all.
      await until('the restart under way', async () => {
        const ts = await api.tasks('/svc');
        return ts.filter((t) => !v1.has(t.id) && healthy(t)).length >= 1;
      }, 20_000, 50);
      p.child.kill('SIGKILL');
      await new Promise((r) => p.child.once('exit', r));
      p = await startProc();
      api = client(p.base);
      assert.equal((await api.deployments()).length, 1, 'the deployment survived the restart');
      await api.waitDeployments(40_000);
      const tasks = await api.tasks('/svc');
      assert.equal(tasks.length, 4);
      assert.ok(tasks.every((t) => !v1.has(t.id)), 'every old instance replaced');
      assert.ok(tasks.every(healthy));
      // The master agrees: exactly 4 live tasks of the framework.
      await sleep(500);
      const live = ((await op.getTasks()).tasks ?? []).filter((t) => !isTerminalState(t.state ?? 0));
      assert.equal(live.length, 4, `live tasks on the master: ${live.map((t) => t.taskId?.value).join(', ')}`);
      assert.deepEqual(live.map((t) => t.taskId?.value).sort(), tasks.map((t) => t.id).sort());
    } finally {
      op.close();
      for (const c of procs) if (c.exitCode === null) c.kill('SIGKILL');
      await cluster.stop();
      rmSync(workDir, { recursive: true, force: true });
    }
  });
});

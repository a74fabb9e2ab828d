// The master's HTTP operator API against a real `agora local` cluster (master, agent, the
// long-running and cron frameworks): JSON views with pagination and filters, the SSE change
// feed, Prometheus metrics whose counters move when tasks run, sandbox files with every
// refusal (`..`, absolute paths, symlinks out of the sandbox, another framework's task), and
// the framework API proxy.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { agora, stopAll, tempDir, until, type Proc } from './helpers/processes.js';
import { parsePrometheus, sampleValue, type Family } from './helpers/prometheus.js';
import { TestScheduler } from './helpers/scheduler.js';

after(stopAll);

let cluster: Proc;
let http = '';
let a: TestScheduler;
let b: TestScheduler;
let fwA = '';
let fwB = '';
let metricsBefore: Map<string, Family>;
const events: { type: string; data: any }[] = [];
let sse: AbortController | undefined;

async function get(path: string, init: RequestInit = {}): Promise<{ status: number; body: any; headers: Headers; text: string }> {
  const res = await fetch(`http://${http}${path}`, { redirect: 'manual', ...init });
  const text = await res.text();
  let body: any;
  try { body = JSON.parse(text); } catch { body = undefined; }
  return { status: res.status, body, headers: res.headers, text };
}

async function metrics(): Promise<Map<string, Family>> {
  const res = await fetch(`http://${http}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

/** Reads the SSE stream into `events` until aborted. */
async function follow(): Promise<void> {
  sse = new AbortController();
  const res = await fetch(`http://${http}/events`, { signal: sse.signal });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += decoder.decode(value, { stream: true });
        let at: number;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          const type = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (type && data) events.push({ type, data: JSON.parse(data) });
        }
      }
    } catch { /* aborted */ }
  })();
}

before(async () => {
  const dir = tempDir();
  cluster = agora(['local', '--port', '0', '--agent-port', '0', '--http-port', '0', '--apps-port', '0', '--cron-port', '0',
    '--work-dir', join(dir, 'agora'), '--resources', 'cpus:4;mem:4096;disk:1000;ports:[33100-33150]']);
  const master = (await cluster.waitFor(/master listening on (\S+)/, 30_000))[1]!;
  http = (await cluster.waitFor(/web ui on http:\/\/(\S+)\//, 30_000))[1]!;
  await cluster.waitFor(/cron api listening on/, 30_000);
  // The "web ui" line comes right after "master listening" in the startup output.
  const out = cluster.output();
  assert.ok(out.indexOf('web ui on') > out.indexOf('master listening on'));
  metricsBefore = await metrics();
  await follow();
  a = new TestScheduler(master, 'http-a', { refuseSeconds: 1 });
  b = new TestScheduler(master, 'http-b', { refuseSeconds: 1 });
  fwA = await a.driver.start();
  fwB = await b.driver.start();
  a.submit(
    { name: 'files-1', command: "echo hello; echo secret-data > data.txt; ln -s /etc/passwd passwd-link; ln -s / rootlink; mkdir sub; echo inner > sub/f.txt; exec sleep 60", cpus: 0.1, mem: 16 },
    ...[0, 1, 2].map((i) => ({ name: `echo-${i}`, command: `echo hi-${i}`, cpus: 0.1, mem: 16 })),
  );
  b.submit({ name: 'b-1', command: 'echo b', cpus: 0.1, mem: 16 });
  await a.waitUntil(() => a.state('files-1') === 'TASK_RUNNING', 30_000, 'files-1 running');
  await a.waitTerminal(['echo-0', 'echo-1', 'echo-2'], 30_000);
  await b.waitTerminal(['b-1'], 30_000);
});

after(async () => {
  sse?.abort();
  await a?.driver.stop().catch(() => undefined);
  await b?.driver.stop().catch(() => undefined);
  cluster?.kill();
});

describe('HTTP operator API', () => {
  it('/health says healthy leader with its own HTTP address', async () => {
    const h = await get('/health');
    assert.equal(h.status, 200);
    assert.equal(h.body.healthy, true);
    assert.equal(h.body.leader, true);
    assert.equal(h.body.leaderHttpAddress, http);
    assert.equal(typeof h.body.uptimeSeconds, 'number');
  });

  it('/state pages and filters tasks; /tasks filters by state, framework and agent', async () => {
    const s = await get('/state?taskLimit=2');
    assert.equal(s.status, 200);
    assert.equal(s.body.master.httpAddress, http);
    assert.equal(s.body.master.leader, true);
    assert.equal(s.body.agents.length, 1);
    assert.equal(s.body.agents[0].resources.total.cpus, 4);
    assert.deepEqual(s.body.agents[0].resources.total.ports, [[33100, 33150]]);
    assert.ok(s.body.frameworks.some((f: any) => f.id === fwA && f.taskCounts.TASK_RUNNING === 1), 'framework A counts its running task');
    assert.equal(s.body.tasks.limit, 2);
    assert.equal(s.body.tasks.items.length, 2);
    assert.ok(s.body.tasks.total >= 5);
    const next = await get('/state?taskLimit=2&taskOffset=2');
    const ids = (x: any) => x.body.tasks.items.map((t: any) => `${t.frameworkId}/${t.id}`);
    assert.equal(new Set([...ids(s), ...ids(next)]).size, 4, 'pages do not overlap');
    assert.ok(Array.isArray(s.body.roles) && s.body.roles.some((r: any) => r.name === '*'));
    assert.equal(typeof s.body.offers.outstanding, 'number');

    const running = await get(`/tasks?state=TASK_RUNNING&frameworkId=${fwA}`);
    assert.deepEqual(running.body.items.map((t: any) => t.id), ['files-1']);
    const t = running.body.items[0];
    assert.equal(t.state, 'TASK_RUNNING');
    assert.match(t.command, /exec sleep 60/);
    assert.equal(t.resources.cpus, 0.1);
    assert.ok(t.statuses.some((st: any) => st.state === 'TASK_RUNNING'));
    assert.ok(t.startedAt >= t.createdAt);

    const finished = await get(`/tasks?state=finished&frameworkId=${fwA}`);
    assert.deepEqual(finished.body.items.map((x: any) => x.id).sort(), ['echo-0', 'echo-1', 'echo-2']);
    assert.equal(finished.body.total, 3);
    const ofB = await get(`/tasks?frameworkId=${fwB}`);
    assert.deepEqual(ofB.body.items.map((x: any) => x.id), ['b-1']);
    const agentId = s.body.agents[0].id;
    const onAgent = await get(`/tasks?agentId=${agentId}&limit=1000`);
    assert.ok(onAgent.body.total >= 5);
    const none = await get('/tasks?agentId=no-such-agent');
    assert.equal(none.body.total, 0);

    const one = await get('/tasks/files-1');
    assert.equal(one.status, 200);
    assert.equal(one.body.frameworkId, fwA);
    assert.equal(one.body.waiting, undefined);
    assert.equal((await get('/tasks/no-such-task')).status, 404);
  });

  it('bad parameters get 400 with one line naming the parameter', async () => {
    for (const [path, re] of [
      ['/tasks?limit=5000', /limit must be between 0 and 1000/],
      ['/tasks?limit=abc', /limit must be a whole number/],
      ['/tasks?state=NOPE', /state: 'NOPE' is not a task state/],
      ['/state?taskOffset=-1', /taskOffset must be between/],
      ['/utilization?seconds=0', /seconds must be between/],
      ['/tasks?limit=1&limit=2', /limit is given 2 times/],
    ] as const) {
      const r = await get(path);
      assert.equal(r.status, 400, path);
      assert.match(r.body.error, re, path);
    }
    const nf = await get('/no/such/route');
    assert.equal(nf.status, 404);
    assert.match(nf.body.error, /no route GET \/no\/such\/route/);
  });

  it('the event stream starts with a snapshot and carries task updates and utilization', async () => {
    await until(() => events.some((e) => e.type === 'task_updated' && e.data.task.id === 'files-1' && e.data.task.state === 'TASK_RUNNING'), 10_000, () => `task_updated for files-1; got ${events.map((e) => e.type).join(',')}`);
    assert.equal(events[0]!.type, 'snapshot');
    assert.ok(events[0]!.data.agents.length === 1);
    assert.ok(events.some((e) => e.type === 'framework_added' && e.data.framework.id === fwA));
    assert.ok(events.some((e) => e.type === 'task_updated' && e.data.task.id === 'echo-0' && e.data.task.state === 'TASK_FINISHED'));
    await until(() => events.some((e) => e.type === 'utilization'), 10_000, () => 'a utilization sample');
    const u = events.find((e) => e.type === 'utilization')!.data.sample;
    assert.equal(u.total.cpus, 4);
  });

  it('/utilization holds samples with allocation by role', async () => {
    const u = await get('/utilization?seconds=60');
    assert.equal(u.body.intervalSeconds, 2);
    assert.ok(u.body.samples.length >= 1);
    const last = u.body.samples[u.body.samples.length - 1];
    assert.equal(last.total.cpus, 4);
    assert.ok(last.allocated.cpus >= 0.1, `the running task is allocated: ${JSON.stringify(u.body.samples.slice(-3))}`);
    assert.ok(last.byRole['*'].cpus >= 0.1);
  });

  it('/metrics is valid Prometheus text and its counters moved while tasks ran', async () => {
    const now = await metrics();
    const moved = (name: string, labels: Record<string, string> = {}) => sampleValue(now, name, labels) - sampleValue(metricsBefore, name, labels);
    assert.ok(moved('agora_master_offers_made_total') >= 2, 'offers were made');
    assert.ok(moved('agora_master_tasks_launched_total') >= 5, 'five tasks launched');
    assert.ok(moved('agora_master_task_state_transitions_total', { to: 'TASK_RUNNING' }) >= 5);
    assert.ok(moved('agora_master_task_state_transitions_total', { to: 'TASK_FINISHED' }) >= 4);
    assert.ok(moved('agora_master_task_launch_latency_seconds_count') >= 5);
    assert.ok(moved('agora_master_allocation_cycle_seconds_count') >= 1);
    assert.ok(moved('agora_master_status_updates_total') >= 10);
    assert.equal(sampleValue(now, 'agora_master_resources_total', { resource: 'cpus' }), 4);
    assert.ok(sampleValue(now, 'agora_master_resources_allocated', { role: '*', resource: 'cpus' }) >= 0.1);
    assert.equal(sampleValue(now, 'agora_master_tasks', { state: 'TASK_RUNNING' }), 1);
    assert.equal(sampleValue(now, 'agora_master_is_leader'), 1);
    assert.equal(now.get('agora_master_allocation_cycle_seconds')?.type, 'histogram');
    assert.ok(now.has('process_cpu_user_seconds_total'), 'process metrics are there');
    assert.ok(sampleValue(now, 'agora_master_event_stream_clients') >= 1);
  });

  it('sandbox files: browse, read, tail and download through the master', async () => {
    const list = await get('/files/browse?taskId=files-1');
    assert.equal(list.status, 200, list.text);
    const byName = new Map(list.body.entries.map((e: any) => [e.name, e]));
    assert.ok(byName.has('stdout') && byName.has('data.txt'));
    assert.equal((byName.get('sub') as any).isDir, true);
    assert.equal((byName.get('passwd-link') as any).size, 0, 'the linked file outside does not show through');
    const sub = await get('/files/browse?taskId=files-1&path=sub');
    assert.deepEqual(sub.body.entries.map((e: any) => e.path), ['sub/f.txt']);
    const out = await get('/files/read?taskId=files-1&path=stdout');
    assert.equal(out.body.data, 'hello\n');
    assert.equal(out.body.eof, true);
    assert.equal(out.body.size, 6);
    const tail = await get('/files/read?taskId=files-1&path=data.txt&offset=-1&length=5');
    assert.deepEqual({ data: tail.body.data, offset: tail.body.offset, eof: tail.body.eof }, { data: 'data\n', offset: 7, eof: true });
    const part = await get('/files/read?taskId=files-1&path=data.txt&offset=0&length=6');
    assert.deepEqual({ data: part.body.data, eof: part.body.eof, size: part.body.size }, { data: 'secret', eof: false, size: 12 });
    const dl = await fetch(`http://${http}/files/download?taskId=files-1&path=sub/f.txt`);
    assert.equal(dl.status, 200);
    assert.match(dl.headers.get('content-disposition') ?? '', /attachment; filename="f.txt"/);
    assert.equal(await dl.text(), 'inner\n');
    const echoOut = await get(`/files/read?taskId=echo-1&frameworkId=${fwA}&path=stdout`);
    assert.equal(echoOut.body.data, 'hi-1\n', 'a finished task\'s sandbox is readable');
  });

  it('sandbox files: .., absolute paths, symlinks out, another framework\'s task and unknown tasks are refused', async () => {
    const refused: [string, number, RegExp][] = [
      ['/files/read?taskId=files-1&path=../../../../etc/passwd', 403, /contains '\.\.'/],
      ['/files/read?taskId=files-1&path=sub/../../x', 403, /contains '\.\.'/],
      ['/files/browse?taskId=files-1&path=..', 403, /contains '\.\.'/],
      ['/files/read?taskId=files-1&path=/etc/passwd', 403, /absolute/],
      ['/files/download?taskId=files-1&path=/etc/passwd', 403, /absolute/],
      ['/files/read?taskId=files-1&path=passwd-link', 403, /outside the sandbox/],
      ['/files/download?taskId=files-1&path=passwd-link', 403, /outside the sandbox/],
      ['/files/browse?taskId=files-1&path=rootlink', 403, /outside the sandbox/],
      ['/files/read?taskId=files-1&path=rootlink/etc/passwd', 403, /outside the sandbox/],
      [`/files/read?taskId=files-1&frameworkId=${fwB}&path=stdout`, 403, /does not belong to framework/],
      [`/files/read?taskId=b-1&frameworkId=${fwA}&path=stdout`, 403, /does not belong to framework/],
      ['/files/read?taskId=no-such-task&path=stdout', 404, /not known/],
      ['/files/read?taskId=files-1&path=missing.txt', 404, /does not exist/],
      ['/files/read?path=stdout', 400, /taskId is required/],
      ['/files/read?taskId=files-1&path=stdout&length=0', 400, /length must be between/],
    ];
    for (const [path, status, re] of refused) {
      const r = await get(path);
      assert.equal(r.status, status, `${path}: ${r.text}`);
      assert.match(r.body.error, re, path);
      assert.doesNotMatch(r.text, /root:/, 'nothing of /etc/passwd leaks');
    }
  });

  it('framework API proxy: the long-running framework\'s /v2/apps through the master', async () => {
    const fws = (await get('/frameworks')).body.frameworks as any[];
    const apps = fws.find((f) => f.webuiUrl && /long-running/.test(f.name));
    assert.ok(apps, `a long-running framework with a webuiUrl among ${JSON.stringify(fws.map((f) => [f.name, f.webuiUrl]))}`);
    const r = await get(`/frameworks/${apps.id}/api/v2/apps`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { apps: [] });
    const cron = fws.find((f) => f.webuiUrl && /cron/.test(f.name));
    assert.ok(cron, 'cron registered its API too');
    const jobs = await get(`/frameworks/${cron.id}/api/v1/jobs`);
    assert.equal(jobs.status, 200, jobs.text);
    assert.equal((await get('/frameworks/no-such-fw/api/v2/apps')).status, 404);
    const noUi = await get(`/frameworks/${fwA}/api/x`);
    assert.equal(noUi.status, 404);
    assert.match(noUi.body.error, /registered no webuiUrl/);
  });

  it('/ answers the web UI (or says it was not built)', async () => {
    const r = await get('/');
    assert.equal(r.status, 200);
    assert.ok(/<html/i.test(r.text) || /web UI was not built/.test(r.text), r.text.slice(0, 200));
  });
});

// The web UI's framework pages (Apps, Jobs, Word count) and the task filter in Chromium, against
// a fixture of the master's HTTP API whose framework answers have the shapes the bundled
// long-running and cron frameworks give. The UI must be built (packages/master/dist/ui).
// The same UI against a real cluster: test/ui.test.ts.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { ClusterState, Framework, Task } from '../ui/src/api-types.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const UI = join(ROOT, 'packages/master/dist/ui');
const ARTIFACTS = join(ROOT, 'test-artifacts/ui');

const now = Date.now();
const iso = (dt: number): string => new Date(now + dt).toISOString();
const fw = (id: string, name: string, webuiUrl?: string): Framework => ({ id, name, roles: ['*'], active: true, connected: true, webuiUrl, taskCounts: {} });
const frameworks = [fw('fw-lr', 'long-running', 'http://127.0.0.1:9/'), fw('fw-cron', 'agora-cron', 'http://127.0.0.1:9/'), fw('fw-wc', 'wordcount')];
const wcTask = (chunk: number, state: string): Task => ({
  id: `wordcount.${chunk}.1.ab${chunk}`, name: `wordcount chunk ${chunk}`, frameworkId: 'fw-wc', agentId: 'agent-1', state,
  statuses: [{ state, timestamp: now / 1000 }], resources: { cpus: 1, mem: 256 }, updatedAt: now,
  labels: { 'wordcount.chunk': String(chunk), 'wordcount.chunks': '4', 'wordcount.bytes': '1048576', 'wordcount.size': '4194304' },
});
const tasks: Task[] = [wcTask(0, 'TASK_FINISHED'), wcTask(1, 'TASK_FINISHED'), wcTask(2, 'TASK_RUNNING'),
  { id: 'broken', name: 'broken', frameworkId: 'fw-lr', agentId: 'agent-1', state: 'TASK_FAILED', statuses: [], resources: { cpus: 0.1, mem: 32 }, updatedAt: now }];
const snapshot: ClusterState = {
  master: { id: 'm', address: '127.0.0.1:5050', httpAddress: '', hostname: 'fixture', version: 'test', startTime: now, leader: true },
  agents: [{ id: 'agent-1', hostname: 'host-1', address: '127.0.0.1:5060', active: true, draining: false, unreachable: false, taskCount: 2,
    resources: { total: { cpus: 8, mem: 8192, disk: 0 }, allocated: { cpus: 1, mem: 256, disk: 0 }, offered: { cpus: 0, mem: 0, disk: 0 }, available: { cpus: 7, mem: 7936, disk: 0 } } }],
  frameworks, roles: [], tasks: { total: tasks.length, offset: 0, limit: 100, items: tasks },
};
const frameworkApis: Record<string, unknown> = {
  'fw-lr /v2/apps': { apps: [{ id: '/shop/web', instances: 3, cpus: 0.5, mem: 128, cmd: 'python3 -m http.server $PORT0', tasksRunning: 1, tasksStaged: 0, tasksHealthy: 1, tasksUnhealthy: 0, deployments: [{ id: 'dep-1' }] }] },
  'fw-lr /v2/deployments': [{ id: 'dep-1', kind: 'scale', status: 'running', affectedApps: ['/shop/web'], createdAt: iso(-60_000), waitingFor: '2 more instances running', secondsSinceProgress: 12.5 }],
  'fw-lr /v2/queue': { queue: [{ app: { id: '/shop/web', instances: 3 }, count: 2, waiting: 2, summary: ['5 of the last 5 offers declined: constraint hostname:UNIQUE not met'], waitingFor: '2 more instances running', lastUnusedOffers: [{ at: iso(-1000), hostname: 'host-1', reason: 'constraint hostname:UNIQUE not met' }] }] },
  'fw-cron /v1/jobs': [{ name: 'nightly', command: 'backup.sh', schedule: '0 2 * * *', timezone: 'UTC', nextRunAt: iso(3_600_000), lastRun: { id: 'run-7', state: 'succeeded', endedAt: iso(-7_200_000) }, activeRuns: 0 }],
  'fw-cron /v1/jobs/nightly/next': { job: 'nightly', timezone: 'UTC', schedule: '0 2 * * *', parents: [], next: [iso(3_600_000), iso(90_000_000)] },
  'fw-cron /v1/jobs/nightly/history': [{ id: 'run-7', job: 'nightly', scheduledAt: iso(-7_300_000), trigger: 'schedule', state: 'succeeded', attempt: 1, taskId: 'nightly.run-7', startedAt: iso(-7_300_000), endedAt: iso(-7_200_000), durationMs: 100_000, exitCode: 0, message: null }],
};

let server: Server;
let base = '';
let browser: Browser;
const streams = new Set<ServerResponse>();
const requests: string[] = [];

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  requests.push(url.pathname);
  const proxied = /^\/frameworks\/([^/]+)\/api(\/.*)$/.exec(url.pathname);
  if (url.pathname === '/' || url.pathname === '/ui/') return void res.writeHead(200, { 'content-type': 'text/html' }).end(readFileSync(join(UI, 'index.html')));
  if (url.pathname.startsWith('/ui/')) {
    const file = join(UI, url.pathname.slice(4));
    const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : 'text/html';
    return existsSync(file) ? void res.writeHead(200, { 'content-type': type }).end(readFileSync(file)) : send(res, 404, { error: 'no such file' });
  }
  if (url.pathname === '/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
    streams.add(res);
    req.on('close', () => streams.delete(res));
    return;
  }
  if (url.pathname === '/utilization') {
    const samples = [0, 1, 2].map((i) => ({ t: now - (2 - i) * 2000, total: { cpus: 8, mem: 8192, disk: 0 }, allocated: { cpus: i, mem: 256 * i, disk: 0 }, byRole: { '*': { cpus: i, mem: 256 * i, disk: 0 } } }));
    return send(res, 200, { intervalSeconds: 2, samples });
  }
  if (url.pathname === '/tasks') {
    const items = tasks.filter((t) => (!url.searchParams.get('state') || t.state === url.searchParams.get('state')) && (!url.searchParams.get('frameworkId') || t.frameworkId === url.searchParams.get('frameworkId')));
    return send(res, 200, { total: items.length, offset: 0, limit: 100, items });
  }
  if (proxied) {
    const body = frameworkApis[`${proxied[1]} ${proxied[2]}`];
    return body === undefined ? send(res, 404, { error: `no route ${proxied[2]}` }) : send(res, 200, body);
  }
  send(res, 404, { error: `no route ${url.pathname}` });
}

function push(type: string, data: unknown): void {
  for (const s of streams) s.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
}

before(async () => {
  assert.ok(existsSync(join(UI, 'index.html')), 'the web UI is built (npm run build)');
  mkdirSync(ARTIFACTS, { recursive: true });
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'], timeout: 30_000 });
});

after(async () => {
  await browser?.close().catch(() => undefined);
  for (const s of streams) s.end();
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

async function open(hash: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme });
  page.setDefaultTimeout(15_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  (page as Page & { errors?: string[] }).errors = errors;
  await page.goto(`${base}/${hash}`);
  return page;
}

test('Apps: the long-running framework\'s apps, its deployment, and why instances are not running', async () => {
  const page = await open('#/apps');
  const apps = page.locator('[data-testid=apps]');
  await apps.getByText('/shop/web').waitFor();
  assert.match(await apps.innerText(), /deploying/);
  assert.match(await page.locator('[data-testid=deployments]').innerText(), /2 more instances running/);
  assert.match(await page.locator('[data-testid=queue]').innerText(), /2 instance\(s\) waiting[\s\S]*constraint hostname:UNIQUE not met/);
  // Only the framework named like a long-running one is asked for apps (and listed).
  assert.equal(await page.locator('.block').count(), 1);
  await page.screenshot({ path: join(ARTIFACTS, 'fixture-apps.png'), fullPage: true });
  await page.close();
});

test('Jobs: the cron jobs with their next run, and a job opens to next runs and history', async () => {
  const page = await open('#/jobs');
  const jobs = page.locator('[data-testid=jobs]');
  await jobs.getByText('nightly').waitFor();
  assert.match(await jobs.innerText(), /0 2 \* \* \*[\s\S]*succeeded/);
  await jobs.getByRole('button', { name: /nightly/ }).click();
  await page.locator('[data-testid=next-runs] li').nth(1).waitFor();
  assert.match(await page.locator('[data-testid=history]').innerText(), /schedule[\s\S]*succeeded[\s\S]*1 min 40 s/);
  await page.screenshot({ path: join(ARTIFACTS, 'fixture-jobs.png'), fullPage: true });
  await page.close();
});

test('Word count: chunks and bytes from the tasks, updated live by task events', async () => {
  const page = await open('#/wordcount', 'dark');
  const job = page.locator('[data-testid=wordcount-job][data-framework-id=fw-wc]');
  await job.waitFor();
  assert.equal(await job.getAttribute('data-chunks-done'), '2');
  assert.equal(await job.getAttribute('data-chunks-total'), '4');
  assert.match(await job.innerText(), /2 done · 1 running · 4 in all[\s\S]*2 MiB of 4 MiB counted \(50 %\)/);
  push('task_updated', { task: wcTask(2, 'TASK_FINISHED') });
  await page.locator('[data-testid=wordcount-job][data-chunks-done="3"]').waitFor();
  assert.match(await job.innerText(), /3 MiB of 4 MiB/);
  await page.screenshot({ path: join(ARTIFACTS, 'fixture-wordcount-dark.png'), fullPage: true });
  await page.close();
});

test('Tasks: the state filter asks the master for that state and keeps live updates to it', async () => {
  const page = await open('#/tasks?state=TASK_FAILED');
  const table = page.locator('[data-testid=tasks]');
  await table.locator('tr[data-task-id=broken]').waitFor();
  assert.equal(await table.locator('tr[data-task-id]').count(), 1, 'only the failed task');
  assert.ok(requests.some((p) => p === '/tasks'), 'the list came from GET /tasks');
  push('task_updated', { task: wcTask(3, 'TASK_FAILED') });
  await table.locator('tr[data-task-id="wordcount.3.1.ab3"]').waitFor();
  push('task_updated', { task: { ...wcTask(0, 'TASK_RUNNING'), updatedAt: now + 1000 } }); // not in the filter: stays out
  await table.locator('tr[data-task-id="wordcount.3.1.ab3"]').waitFor(); // (and the list is still there)
  assert.equal(await table.locator('tr[data-task-id="wordcount.0.1.ab0"]').count(), 0);
  // Another state: the fetched page (where chunk 0 is still finished) meets the newer update.
  await page.selectOption('[data-testid=state-filter]', 'TASK_RUNNING');
  await table.locator('tr[data-task-id="wordcount.0.1.ab0"]').waitFor();
  assert.match(page.url(), /state=TASK_RUNNING/, 'the filter is in the URL');
  assert.equal(await table.locator('tr[data-task-id=broken]').count(), 0);
  assert.deepEqual((page as Page & { errors?: string[] }).errors, []);
  await page.close();
});

// Acceptance: the web UI of a real `agora local` cluster, driven in Debian's Chromium through
// playwright-core. It lists the agent; a task started from the CLI appears RUNNING without a
// reload; its sandbox opens and its stdout is read, with new lines arriving in the tail; the
// utilisation plot holds samples and gains more live; an app deployed to the long-running
// framework and a cron job show on the Apps and Jobs pages (through the master's proxy to the
// frameworks' APIs). The page fetches nothing but the master.
// Screenshots go to test-artifacts/ui/.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Locator } from 'playwright-core';
import { ROOT, agora, stopAll, tempDir, until } from './helpers/processes.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts/ui');

let browser: Browser | undefined;
after(async () => {
  await browser?.close().catch(() => undefined);
  await stopAll();
});

/** The highest N of the "tick N" lines in a text (-1 when none). */
function lastTick(text: string): number {
  let max = -1;
  for (const m of text.matchAll(/tick (\d+)/g)) max = Math.max(max, Number(m[1]));
  return max;
}

async function attrNumber(l: Locator, name: string): Promise<number> {
  return Number((await l.getAttribute(name)) ?? 'NaN');
}

test('the web UI shows agents, a task going live, its stdout tail, and the utilisation plot', { timeout: 180_000 }, async (t) => {
  const t0 = Date.now();
  const step = (what: string): void => t.diagnostic(`${what} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  mkdirSync(ARTIFACTS, { recursive: true });
  // Chromium starts while the cluster does (both take seconds on a loaded machine).
  const launching = chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    timeout: 30_000,
  });
  launching.then((b) => { browser = b; }, () => undefined);
  const work = tempDir('agora-ui-');
  const local = agora([
    'local', '--port', '0', '--agent-port', '0', '--http-port', '0', '--apps-port', '0', '--cron-port', '0',
    '--work-dir', work, '--resources', 'cpus:4;mem:4096;disk:1000;ports:[31000-31100]',
  ]);
  const master = (await local.waitFor(/master listening on (\S+)/, 30_000))[1]!;
  const ui = (await local.waitFor(/web ui on (http:\/\/\S+?)\/?\s/, 30_000))[1]!;
  const agentId = (await local.waitFor(/agent listening on \S+ \((\S+)\)/, 30_000))[1]!;
  const appsApi = (await local.waitFor(/long-running api listening on (\S+)/, 30_000))[1]!;
  const cronApi = (await local.waitFor(/cron api listening on (\S+)/, 30_000))[1]!;

  step('cluster up');
  browser = await launching;
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(20_000);
  const foreign: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => { if (!r.url().startsWith(ui) && !r.url().startsWith('data:')) foreign.push(r.url()); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('response', (r) => { if (r.status() >= 400) errors.push(`${r.status()} ${r.url()}`); });

  step('browser up');
  // Agents: the local agent, active, with its resources.
  await page.goto(`${ui}/#/agents`);
  const agentRow = page.locator(`[data-testid=agents] tr[data-agent-id="${agentId}"]`);
  await agentRow.waitFor();
  assert.match(await agentRow.innerText(), /active/);
  assert.match(await agentRow.innerText(), /\/ 4\b/, 'shows the 4 cpus of the agent');
  await page.locator('[data-testid=live].on').waitFor();
  await page.screenshot({ path: join(ARTIFACTS, 'agents.png'), fullPage: true });
  step('agents seen');

  // Tasks: start one from the CLI while the page is open; it must show up RUNNING by itself.
  await page.locator('nav.top a', { hasText: 'Tasks' }).click();
  await page.locator('[data-testid=tasks]').waitFor();
  await page.evaluate('window.__agoraNoReload = 1');
  const runner = agora(['task', 'run', '--master', master, '--name', 'ticker', '--cpus', '0.5', '--mem', '64', '--',
    'i=0; while [ $i -lt 600 ]; do echo "tick $i"; i=$((i+1)); sleep 0.2; done']);
  const row = page.locator('[data-testid=tasks] tr[data-task-name="ticker"]');
  await row.locator('[data-state=TASK_RUNNING]').waitFor({ timeout: 40_000 }).catch((err: Error) => {
    throw new Error(`${err.message}\nagora task run printed:\n${runner.output()}`);
  });
  assert.equal(await page.evaluate('window.__agoraNoReload'), 1, 'the task appeared without a page reload');
  await page.screenshot({ path: join(ARTIFACTS, 'tasks.png'), fullPage: true });
  step('task seen running');

  // Task detail → sandbox → stdout; the tail keeps growing.
  await row.locator('a').first().click();
  const stdoutEntry = page.locator('[data-testid=sandbox] tr[data-file="stdout"]');
  await stdoutEntry.waitFor();
  await stdoutEntry.locator('a').first().click();
  const view = page.locator('[data-testid=file-view]');
  await until(async () => lastTick(await view.innerText()) >= 0, 20_000, () => 'stdout shows tick lines');
  const first = lastTick(await view.innerText());
  await until(async () => lastTick(await view.innerText()) >= first + 5, 20_000, () => `new lines after tick ${first} arrive in the tail`);
  assert.match(await view.innerText(), /^tick 0$/m, 'the whole (short) file is shown from its start');
  await page.screenshot({ path: join(ARTIFACTS, 'task-stdout.png'), fullPage: true });
  step('stdout tail seen growing');

  // Overview: the cpus plot holds samples, and gains more from the event stream.
  await page.locator('nav.top a', { hasText: 'Overview' }).click();
  const plot = page.locator('[data-testid=plot-cpus]');
  await plot.locator('canvas').first().waitFor();
  await until(async () => (await attrNumber(plot, 'data-samples')) >= 2, 20_000, () => 'the cpus plot has samples');
  const samples = await attrNumber(plot, 'data-samples');
  assert.ok((await attrNumber(plot, 'data-series')) >= 3, 'total, allocated and at least one role');
  await until(async () => (await attrNumber(plot, 'data-samples')) > samples, 20_000, () => `a live sample is added to the ${samples}`);
  assert.match(await page.locator('[data-testid=count-running]').innerText(), /^\s*[1-9]/, 'the running task is counted');
  await page.screenshot({ path: join(ARTIFACTS, 'overview.png'), fullPage: true });
  step('plot seen with live samples');

  // Apps and Jobs: what the bundled frameworks hold, through the master's proxy to their APIs.
  const post = async (url: string, body: unknown): Promise<void> => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.ok(res.ok, `POST ${url}: ${res.status} ${await res.text()}`);
  };
  await post(`http://${appsApi}/v2/apps`, { id: '/ui/sleeper', cmd: 'sleep 300', cpus: 0.1, mem: 16, instances: 1 });
  await post(`http://${cronApi}/v1/jobs`, { name: 'ui-nightly', command: 'echo nightly', schedule: '0 3 * * *' });
  await page.locator('nav.top a', { hasText: 'Apps' }).click();
  const app = page.locator('[data-testid=apps] tr', { hasText: '/ui/sleeper' });
  await app.waitFor();
  assert.match(await app.innerText(), /sleep 300/);
  await page.screenshot({ path: join(ARTIFACTS, 'apps.png'), fullPage: true });
  await page.locator('nav.top a', { hasText: 'Jobs' }).click();
  const job = page.locator('[data-testid=jobs] tr', { hasText: 'ui-nightly' });
  await job.waitFor();
  await job.getByRole('button', { name: /ui-nightly/ }).click();
  await page.locator('[data-testid=next-runs] li').nth(4).waitFor();
  assert.match(await page.locator('[data-testid=next-runs]').innerText(), /T03:00:00/, 'the next runs are at 03:00');
  await page.screenshot({ path: join(ARTIFACTS, 'jobs.png'), fullPage: true });
  step('app and job seen');

  assert.deepEqual(foreign, [], 'the page fetched nothing but the master');
  assert.deepEqual(errors, [], 'no error in the page');
  runner.kill('SIGTERM');
});

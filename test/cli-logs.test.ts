// The operator's view of a running task, as a user gets it from a real `agora local`:
// `agora task logs --follow` streams a task's stdout while it is written (line k arrives before
// the task prints line k+3) and exits once the task has ended; `task describe` shows the state
// history and the agent; `top --once` shows the totals; an unknown ID is one line and exit 1;
// the agent's /metrics parses and its counters move when a task runs; `agent drain` drains.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OperatorClient, agora as wire, idOf } from '@agora/core';
import { AGORA_BIN, ROOT, agora, agoraRun, stopAll, tempDir, until, type Proc } from './helpers/processes.js';

let cluster: Proc;
let master = '';
let metricsUrl = '';

before(async () => {
  const dir = tempDir('agora-cli-logs-');
  cluster = agora(['local', '--work-dir', dir, '--port', '0', '--agent-port', '0', '--agent-http-port', '0', '--no-apps', '--no-cron', '--resources', 'cpus:4;mem:4096;disk:1000;ports:[31000-31099]']);
  master = (await cluster.waitFor(/master listening on (\S+)/))[1] as string;
  metricsUrl = (await cluster.waitFor(/agent metrics on (\S+)/))[1] as string;
});

after(stopAll);

/** Prometheus text format: every line a comment (# HELP / # TYPE) or `name{labels} value`. */
function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* /.test(line)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?) (\S+)$/.exec(line);
    assert.ok(m, `not Prometheus text format: ${JSON.stringify(line)}`);
    const v = Number(m[2]);
    assert.ok(!Number.isNaN(v) || m[2] === 'NaN', `bad value in ${line}`);
    out.set(m[1] as string, v);
  }
  return out;
}

async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(metricsUrl);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return parseMetrics(await res.text());
}

/** Lines checked for streaming; the task stops after that many (or MAX_LINES). */
const LIVE_LINES = 8;
const MAX_LINES = 300;
let taskId = '';

test('task logs --follow streams stdout as it is written and ends with the task', { timeout: 90_000 }, async () => {
  const before = await scrape();
  // A line every 200 ms, each with the time it was written (ms) to compare with when it
  // arrives, until the test has seen enough of them live and creates the stop file.
  const stop = join(tempDir('agora-cli-logs-stop-'), 'stop');
  const script = `i=0; while [ ! -e ${stop} ] && [ $i -lt ${MAX_LINES} ]; do i=$((i+1)); echo "line $i $(date +%s%3N)"; sleep 0.2; done`;
  const runner = agora(['task', 'run', '--json', '--name', 'ticker', '--cpus', '0.1', '--mem', '16', '--master', master, '--', script]);
  // JSON lines: the task ID comes with the launch; follow from then on.
  taskId = (await runner.waitFor(/"event":"launched","taskId":"(ticker\.[^"]+)"/, 30_000))[1] as string;

  const follower = spawn(process.execPath, [AGORA_BIN, 'task', 'logs', taskId, '--follow', '--master', master], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const arrived = new Map<number, number>();
  const written = new Map<number, number>();
  let stdout = '';
  let stderr = '';
  let pending = '';
  follower.stdout.on('data', (d: Buffer) => {
    const now = Date.now();
    stdout += d.toString();
    pending += d.toString();
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const l of parts) {
      const m = /^line (\d+) (\d+)$/.exec(l);
      if (m) { arrived.set(Number(m[1]), now); written.set(Number(m[1]), Number(m[2])); }
    }
    // Enough lines written after the follower joined: let the task end.
    const joined = Math.min(...arrived.values());
    if ([...written.values()].filter((w) => w > joined).length >= LIVE_LINES + 3 && !existsSync(stop)) writeFileSync(stop, '');
  });
  follower.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const code = await new Promise<number | null>((resolve) => {
    const t = setTimeout(() => follower.kill('SIGKILL'), 60_000);
    follower.on('exit', (c) => { clearTimeout(t); resolve(c); });
  });
  assert.equal(code, 0, `logs --follow should exit 0 once the task ended; stderr:\n${stderr}`);
  assert.equal(await runner.exited, 0, runner.output());
  assert.ok(existsSync(stop), 'the task was still printing when the follower joined');
  // Everything, in order, once.
  const last = Math.max(...written.keys());
  assert.deepEqual(stdout.trim().split('\n').map((l) => l.split(' ')[1]), Array.from({ length: last }, (_, i) => String(i + 1)));
  // Streaming: once following, each line arrives before the task has printed three more.
  const firstArrival = Math.min(...arrived.values());
  const live = [...written].filter(([k, w]) => w > firstArrival && k + 3 <= last).map(([k]) => k);
  assert.ok(live.length >= LIVE_LINES, `lines written while following: ${live.join(',')}`);
  for (const k of live) {
    assert.ok((arrived.get(k) as number) < (written.get(k + 3) as number),
      `line ${k} arrived at +${(arrived.get(k) as number) - (written.get(k) as number)} ms, after line ${k + 3} was written (+${(written.get(k + 3) as number) - (written.get(k) as number)} ms)`);
  }

  const after = await scrape();
  const launched = (m: Map<string, number>): number => m.get('agora_agent_tasks_launched_total{kind="command"}') ?? 0;
  assert.ok(launched(after) >= launched(before) + 1, 'agora_agent_tasks_launched_total moved');
  const finished = (m: Map<string, number>): number => m.get('agora_agent_status_updates_total{state="TASK_FINISHED"}') ?? 0;
  assert.ok(finished(after) >= finished(before) + 1, 'agora_agent_status_updates_total{state="TASK_FINISHED"} moved');
  assert.equal(after.get('agora_agent_resources_total{resource="cpus"}'), 4);
  assert.equal(after.get('agora_agent_registered'), 1);
});

test('task describe shows the state history, the agent, the command and the sandbox', { timeout: 60_000 }, async () => {
  assert.ok(taskId, 'needs the task of the previous test');
  const [d, j] = await Promise.all([
    agoraRun(['task', 'describe', taskId.slice(0, 12), '--master', master]),
    agoraRun(['task', 'describe', taskId, '--json', '--master', master]),
  ]);
  assert.equal(d.code, 0, d.output);
  for (const re of [new RegExp(`^ID:\\s+${taskId.replace('.', '\\.')}$`, 'm'), /^State:\s+FINISHED/m, /^Agent:\s+agent-\S+ \(.*127\.0\.0\.1:\d+/m, /^Command:\s+i=0; while \[ ! -e \S+ \]/m,
    /^Sandbox:\s+\/\S+\/runs\/\S+$/m, /STAGING/, /STARTING/, /RUNNING/, /FINISHED\s.*exited with code 0/]) {
    assert.match(d.output, re);
  }
  assert.equal(j.code, 0, j.output);
  const parsed = JSON.parse(j.output) as { task: { state: string; statuses: { state: string }[] }; waiting: string[] };
  assert.equal(parsed.task.state, 'TASK_FINISHED');
  assert.deepEqual(parsed.task.statuses.map((s) => s.state), ['TASK_STARTING', 'TASK_RUNNING', 'TASK_FINISHED']);
  assert.deepEqual(parsed.waiting, []);
});

test('top --once prints the totals and the newest tasks', { timeout: 60_000 }, async () => {
  const t = await agoraRun(['top', '--once', '--master', master]);
  assert.equal(t.code, 0, t.output);
  assert.match(t.output, /^cpus\s+\[[█▒░]+\]\s+[\d.]+ \/ 4\s+\d+%/m);
  assert.match(t.output, /^mem\s+\[[█▒░]+\]\s+[\d.]+ \/ 4096/m);
  assert.match(t.output, /agents 1 active \/ 1/);
  assert.match(t.output, new RegExp(`^${taskId.replace('.', '\\.')}\\s+ticker\\s+FINISHED`, 'm'));
  assert.doesNotMatch(t.output, /\u001b\[/, 'no terminal escapes in a pipe');
});

test('an unknown task ID is one line and exit 1', { timeout: 60_000 }, async () => {
  const results = await Promise.all(['logs', 'describe'].map((cmd) => agoraRun(['task', cmd, 'no-such-task', '--master', master])));
  for (const r of results) {
    assert.equal(r.code, 1, r.output);
    assert.equal(r.output.trim().split('\n').length, 1, r.output);
    assert.match(r.output, /^agora: no task 'no-such-task' is known to the master/);
  }
});

test('agent drain and reactivate', { timeout: 60_000 }, async () => {
  const op = new OperatorClient(master);
  try {
    const id = idOf((await op.getAgents()).agents[0]?.agentInfo?.id);
    const drainOf = async (): Promise<number> => (await op.getAgents()).agents[0]?.drain ?? 0;
    const [d, bad] = await Promise.all([
      agoraRun(['agent', 'drain', id, '--grace', '0', '--master', master]),
      agoraRun(['agent', 'drain', 'agent-nope', '--master', master]),
    ]);
    assert.equal(d.code, 0, d.output);
    assert.match(d.output, new RegExp(`^agent ${id}: DRAIN(ING|ED)`));
    assert.equal(bad.code, 1, bad.output);
    assert.equal(bad.output.trim().split('\n').length, 1, bad.output);
    // No task left on it: drained at once.
    await until(async () => (await drainOf()) === wire.v1.AgentState.Drain.DRAINED, 20_000, () => 'the agent, without tasks, should be DRAINED');
    const r = await agoraRun(['agent', 'reactivate', id, '--master', master]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /reactivated/);
    assert.equal(await drainOf(), wire.v1.AgentState.Drain.NOT_DRAINING);
  } finally {
    op.close();
  }
});

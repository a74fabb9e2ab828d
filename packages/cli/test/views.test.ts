/**
 * Unit tests of what the CLI draws and how it follows files: tables fitted to a width, the
 * `agora top` frame, and the tail/follow pump of `agora task logs` (against a fake reader).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskState, resources, type agora } from '@agora/core';
import { renderTable } from '../src/table.js';
import { bar, columns, renderTop } from '../src/top-view.js';
import { pump, tailOffset, type OffsetReader } from '../src/log-pump.js';

const rows = [
  ['agent-0f3a9b1c-1111-2222-3333-444455556666', 'node-a.example.internal', 'cpus:16;mem:65536;disk:100000;ports:[31000-32000]', 'REACHABLE'],
  ['agent-77aa', 'b', 'cpus:1', 'DISCONNECTED'],
];
const head = ['ID', 'HOSTNAME', 'RESOURCES', 'STATE'];

test('tables fit the given width; unbounded (a pipe) they never wrap', () => {
  for (const width of [60, 80, 120]) {
    const out = renderTable(head, rows, width);
    for (const line of out.split('\n')) assert.ok(line.length <= width, `${line.length} > ${width}:\n${out}`);
    // Narrowed cells wrap, they do not lose text.
    const cells = out.split('\n').filter((l) => l.startsWith('│')).map((l) => l.split('│')[3]?.trim() ?? '');
    assert.ok(cells.join('').includes('cpus:16;mem:65536;disk:100000;ports:[31000-32000]'), out);
  }
  const wide = renderTable(head, rows, Number.POSITIVE_INFINITY);
  assert.equal(wide.split('\n').length, 2 + 1 + 2 * rows.length, `one line per row:\n${wide}`);
  assert.match(wide, /cpus:16;mem:65536;disk:100000;ports:\[31000-32000\]/);
});

test('columns() cut cells to the width, keeping the header aligned', () => {
  const lines = columns(head, rows, 50);
  for (const l of lines) assert.ok(l.length <= 50, l);
  assert.match(lines[1] ?? '', /…/);
  assert.equal(columns(head, rows, 500)[2], 'agent-77aa                                  b                        cpus:1                                             DISCONNECTED');
});

test('bars show allocated, offered and free in proportion', () => {
  assert.equal(bar(1, 1, 4, 8), '[██▒▒░░░░]');
  assert.equal(bar(0, 0, 0, 4), '[░░░░]');
  assert.equal(bar(10, 0, 4, 4), '[████]');
});

test('a top frame fits the terminal and shows totals, agents and the newest tasks', () => {
  const now = Date.now();
  const total = resources.parseResources('cpus:4;mem:4096');
  const task = (i: number): agora.v1.Task.$Properties => ({
    name: `t${i}`, taskId: { value: `t${i}.x` }, frameworkId: { value: 'fw-1' }, agentId: { value: 'agent-1' },
    state: TaskState.TASK_RUNNING, resources: resources.parseResources('cpus:0.5;mem:64'), launchedAt: now / 1000 - 100 + i,
  });
  const state: agora.v1.State.$Properties = {
    masterInfo: { address: '127.0.0.1:5050', leader: true, startTime: now / 1000 - 60 },
    agents: [{ agentInfo: { id: { value: 'agent-1' }, hostname: 'node-a' }, active: true, totalResources: total, allocatedResources: resources.parseResources('cpus:2;mem:1024'), offeredResources: resources.parseResources('cpus:1'), taskCount: 4 }],
    frameworks: [{ frameworkInfo: { id: { value: 'fw-1' }, name: 'web' }, active: true, connected: true, taskCount: 30, dominantShare: 0.5 }],
    tasks: Array.from({ length: 30 }, (_, i) => task(i)),
  };
  const lines = renderTop({ state, roles: [{ name: '*', weight: 1, share: 0.5 }], at: now }, 70, 24);
  assert.ok(lines.length <= 24, `${lines.length} lines`);
  for (const l of lines) assert.ok(l.length <= 70, `${l.length}: ${l}`);
  const text = lines.join('\n');
  assert.match(text, /^cpus\s+\[█+▒+░+\]\s+2 \/ 4\s+50%\s+\(1 offered\)$/m);
  assert.match(text, /^mem\s+\[█+░+\]\s+1024 \/ 4096\s+25%$/m);
  assert.match(text, /^agent-1\s+node-a\s+REACHABLE/m);
  // The newest task first; as many as fit.
  assert.match(text, /^TASK\s+NAME[\s\S]*\nt29\.x\s+t29\s+RUNNING/m);
  assert.doesNotMatch(text, /^t0\.x/m);
});

/** A file that grows as the test says, read by offset. */
function growingFile(): { read: OffsetReader; append(s: string): void; reads: number } {
  let content = Buffer.alloc(0);
  const f = {
    reads: 0,
    append(s: string) { content = Buffer.concat([content, Buffer.from(s)]); },
    read: async (offset: number, length: number) => {
      f.reads++;
      return { data: content.subarray(offset, offset + length), size: content.length };
    },
  };
  return f;
}

test('tailOffset finds the start of the last N lines, across read windows', async () => {
  const f = growingFile();
  const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i}\n`).join('');
  f.append(lines);
  const at = await tailOffset(f.read, 3);
  const rest = (await f.read(at, 1 << 20)) as { data: Uint8Array };
  assert.equal(Buffer.from(rest.data).toString(), 'line 49997\nline 49998\nline 49999\n');
  assert.equal(await tailOffset(f.read, 0), Buffer.byteLength(lines));
  assert.equal(await tailOffset(f.read, 1_000_000), 0);
  const empty = growingFile();
  assert.equal(await tailOffset(empty.read, 5), 0);
});

test('pump follows a growing file until the writer is done, then drains it', async () => {
  const f = growingFile();
  let done = false;
  const got: string[] = [];
  f.append('a\n');
  const p = pump({ read: f.read, follow: true, finished: async () => done, sink: (d) => got.push(Buffer.from(d).toString()), minIntervalMs: 5, maxIntervalMs: 20, finishedCheckMs: 10 });
  await new Promise((r) => setTimeout(r, 30));
  assert.deepEqual(got, ['a\n']);
  f.append('b\n');
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(got, ['a\n', 'b\n'], 'new bytes show while following');
  // The writer ends with a last line written just before: it is still printed.
  f.append('c\n');
  done = true;
  assert.equal(await p, 'drained');
  assert.equal(got.join(''), 'a\nb\nc\n');
});

test('pump without follow prints what is there; an abort stops a follow at once', async () => {
  const f = growingFile();
  f.append('x\n');
  const got: string[] = [];
  assert.equal(await pump({ read: f.read, follow: false, finished: async () => false, sink: (d) => got.push(Buffer.from(d).toString()) }), 'drained');
  assert.deepEqual(got, ['x\n']);
  const ac = new AbortController();
  const p = pump({ read: f.read, follow: true, finished: async () => false, sink: () => undefined, signal: ac.signal, maxIntervalMs: 10_000 });
  setTimeout(() => ac.abort(), 50);
  const t0 = Date.now();
  assert.equal(await p, 'aborted');
  assert.ok(Date.now() - t0 < 1000);
});

test('an idle follow backs off instead of polling at full speed', async () => {
  const f = growingFile();
  const ac = new AbortController();
  const p = pump({ read: f.read, follow: true, finished: async () => false, sink: () => undefined, signal: ac.signal, minIntervalMs: 10, maxIntervalMs: 100 });
  await new Promise((r) => setTimeout(r, 600));
  ac.abort();
  await p;
  // At 10 ms throughout it would be ~60 reads; backing off to 100 ms keeps it near a dozen.
  assert.ok(f.reads < 25, `${f.reads} reads in 600 ms`);
});

test('describe says why a task still waits, with the framework\'s offer verdicts', async () => {
  const { describeText, waitingReasons } = await import('../src/task-describe.js');
  const now = Date.now() / 1000;
  const task: agora.v1.Task.$Properties = {
    name: 'web', taskId: { value: 'web.1' }, frameworkId: { value: 'fw-1' }, executorId: { value: 'web.1' }, agentId: { value: 'agent-1' },
    state: TaskState.TASK_STAGING, resources: resources.parseResources('cpus:1;mem:64'), launchedAt: now - 42, commandLine: 'python3 -m http.server',
  };
  const agent = { agentInfo: { id: { value: 'agent-1' }, hostname: 'node-a', address: '10.0.0.1:5060' }, active: true, reachability: 3, unreachableTime: now - 30 } as agora.v1.AgentState;
  const waiting = waitingReasons(task as never, agent, now);
  assert.match(waiting.join('\n'), /node-a is UNREACHABLE since 30s ago/);
  assert.match(waiting.join('\n'), /launched on node-a for 42s; the agent has not reported it starting yet/);
  const text = describeText({
    task: task as never, agent, framework: { frameworkInfo: { id: { value: 'fw-1' }, name: 'apps' }, active: true },
    sandbox: { error: 'not created yet' }, waiting,
    offers: { agents: [{ agentId: { value: 'agent-2' }, hostname: 'node-b', offerable: false, reasons: ['quota limit of role web reached'] }] } as never,
  }, now);
  assert.match(text, /^Command:\s+python3 -m http\.server$/m);
  assert.match(text, /^Framework:\s+apps \(fw-1\)$/m);
  assert.match(text, /^Sandbox:\s+- \(not created yet\)$/m);
  assert.match(text, /STAGING\s+│\s+MASTER/);
  assert.match(text, /^Waiting:\n {2}- /m);
  assert.match(text, /^ {2}node-b: not offered \(quota limit of role web reached\)$/m);
  assert.deepEqual(waitingReasons({ ...task, state: TaskState.TASK_RUNNING } as never, agent, now), []);
});

/**
 * End to end, as a user: `agora local` on free ports, then `agora roles`, `agora roles set` and
 * `agora why` against it; bad input is one clear line and a non-zero exit.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallType, EventType, schedulerClient, type agora as wire } from '@agora/core';
import { agora, agoraBackground, type Result } from './helpers.js';

let dir = '';
let cluster: ReturnType<typeof agoraBackground> | undefined;
let master = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'agora-roles-e2e-'));
  cluster = agoraBackground(['local', '--work-dir', dir, '--port', '0', '--agent-port', '0', '--no-apps', '--no-cron', '--resources', 'cpus:4;mem:4096;ports:[31000-31099]']);
  master = (await cluster.waitFor(/^master listening on (\S+)$/m))[1] as string;
  await cluster.waitFor(/^agent listening on (\S+)/m);
});

after(async () => {
  if (cluster) {
    cluster.child.kill('SIGINT');
    const code = await Promise.race([cluster.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000).unref())]);
    if (code === 'hung') cluster.child.kill('SIGKILL');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A non-zero exit with exactly one line on stderr, matching `re`, and no stack trace. */
function oneClearLine(r: Result, re: RegExp): void {
  assert.notEqual(r.code, 0, `should fail; stdout:\n${r.stdout}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.match(lines[0] ?? '', re);
  assert.doesNotMatch(r.stderr, /^\s+at /m);
}

/** A scheduler that subscribes in `roles` and keeps its offers (so `why` has something to say). */
async function subscribe(roles: string[]): Promise<{ id: string; close: () => void }> {
  const client = schedulerClient(master);
  const call = client.connect();
  const events: wire.v1.Event[] = [];
  call.on('data', (b: wire.v1.EventBatch) => events.push(...(b.events as wire.v1.Event[])));
  call.on('error', () => {});
  call.write({ calls: [{ type: CallType.SUBSCRIBE, subscribe: { frameworkInfo: { name: 'roles-e2e', roles } } }] });
  const end = Date.now() + 10_000;
  for (;;) {
    const offered = events.some((e) => e.type === EventType.OFFERS);
    const sub = events.find((e) => e.type === EventType.SUBSCRIBED);
    if (sub && offered) return { id: sub.subscribed?.frameworkId?.value ?? '', close: () => { call.end(); client.close(); } };
    if (Date.now() > end) throw new Error(`no SUBSCRIBED and OFFERS: ${JSON.stringify(events)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('roles set, roles (table and JSON) and why, against a real cluster', { timeout: 60_000 }, async () => {
  const set = await agora(['roles', 'set', 'eng', '--weight', '3', '--guarantee', 'cpus:1', '--limit', 'cpus:2;mem:1024', '--master', master]);
  assert.equal(set.code, 0, set.stderr);
  assert.equal(set.stdout.trim(), 'role eng: weight 3, guarantee cpus:1, limit cpus:2;mem:1024');
  // Only the weight: the quota stays.
  const w = await agora(['roles', 'set', 'eng', '--weight', '2.5', '--master', master]);
  assert.equal(w.code, 0, w.stderr);
  assert.equal(w.stdout.trim(), 'role eng: weight 2.5, guarantee cpus:1, limit cpus:2;mem:1024');

  const fw = await subscribe(['eng']);
  try {
    const table = await agora(['roles', '--master', master]);
    assert.equal(table.code, 0, table.stderr);
    const rows = table.stdout.split('\n').map((l) => l.split(/[│|]/).map((c) => c.trim()).filter((c, i, a) => i > 0 && i < a.length - 1 || c !== ''));
    const header = rows.find((c) => c[0] === 'ROLE');
    const row = rows.find((c) => c[0] === 'eng');
    assert.ok(header && row, table.stdout);
    const cell = (name: string): string => row[header.indexOf(name)] ?? '';
    assert.equal(cell('WEIGHT'), '2.5');
    assert.equal(cell('GUARANTEE'), 'cpus:1');
    assert.equal(cell('LIMIT'), 'cpus:2;mem:1024');
    assert.equal(cell('ALLOCATED'), '-');
    assert.match(cell('OFFERED'), /(^|;)cpus:2;mem:1024(;|$)/, 'the offer was cut to the limit');
    assert.equal(cell('FRAMEWORKS'), '1');

    const json = JSON.parse((await agora(['roles', '--json', '--master', master])).stdout) as { name: string; weight: number; frameworkIds: string[] }[];
    assert.deepEqual(json.map((r) => [r.name, r.weight, r.frameworkIds]), [['eng', 2.5, [fw.id]]]);

    // The offer was cut to the limit; the agent's rest is held back by it.
    const why = await agora(['why', fw.id, '--master', master]);
    assert.equal(why.code, 0, why.stderr);
    assert.match(why.stdout, /^note: role 'eng' has reached its quota limit for cpus, mem$/m);
    assert.match(why.stdout, /agent-\S+\s+[│|]\s*\S+\s+[│|]\s*no\s+[│|]\s*already offered to this framework/);
    assert.match(why.stdout.replace(/\s+/g, ' '), /quota limit of role 'eng' reached \(room left: cpus 0, mem 0\)/);
    const whyJson = JSON.parse((await agora(['why', fw.id, '--json', '--master', master])).stdout) as { agents: { offerable?: boolean; reasons: string[] }[] };
    assert.equal(whyJson.agents.length, 1);
    assert.equal(whyJson.agents[0]?.offerable ?? false, false);
  } finally {
    fw.close();
  }
});

test('bad input to roles set and why is one clear line and a non-zero exit', { timeout: 60_000 }, async () => {
  const cases: [string[], RegExp][] = [
    [['roles', 'set', 'eng'], /nothing to set: give --weight, --guarantee and\/or --limit/],
    [['roles', 'set', 'eng', '--weight', '-1'], /--weight: '-1' is not a number > 0/],
    [['roles', 'set', 'eng', '--weight', 'lots'], /--weight: 'lots' is not a number > 0/],
    [['roles', 'set', 'eng', '--guarantee', 'cpus:x'], /--guarantee: /],
    [['roles', 'set', 'eng//web', '--weight', '2'], /role name 'eng\/\/web' must be segments/],
    [['roles', 'set', 'eng', '--guarantee', 'cpus:4', '--limit', 'cpus:2'], /guarantee of cpus \(4\) is above its limit \(2\)/],
    [['roles', 'set', 'eng', '--limit', 'ports:[1-2]'], /limit\[0\] \('ports'\) must be a SCALAR resource/],
    [['why', 'fw-nope'], /framework 'fw-nope' is not known to the master/],
  ];
  const results = await Promise.all(cases.map(([args]) => agora([...args, '--master', master])));
  for (const [i, [args, re]] of cases.entries()) {
    const r = results[i] as Result;
    try { oneClearLine(r, re); } catch (e) { throw new Error(`agora ${args.join(' ')}: ${(e as Error).message}`); }
  }
  // Nothing of the refused updates was stored.
  const roles = JSON.parse((await agora(['roles', '--json', '--master', master])).stdout) as { name: string; limit?: unknown[] }[];
  assert.ok(roles.every((r) => r.name !== 'eng//web'));
});

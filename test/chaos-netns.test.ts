// Chaos, multi-host: the master and two agents each run in their own network namespace, joined
// by veth pairs (one private /30 per agent, a /32 for the master on its loopback; every address
// lives inside namespaces this test creates, and no traffic leaves them). Cutting one agent's
// link makes it unreachable (its task TASK_UNREACHABLE for the partition-aware scheduler) while
// the other agent is untouched; restoring the link heals it (the same task RUNNING again).
// Needs root and `ip`; skips with a message where network namespaces cannot be made.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { deleteNamespaces, inNs, ip, makeNamespaces, netnsUnavailable, runInNamespace, type NsProcess } from './helpers/netns.js';
import { AGORA_BIN, ROOT, tempDir, stopAll } from './helpers/processes.js';

const TAG = `ag${process.pid % 100_000}`;
const NS = { master: `${TAG}-m`, a1: `${TAG}-a1`, a2: `${TAG}-a2` };
const MASTER_IP = '10.201.0.1';
const MASTER = `${MASTER_IP}:5050`;
const children: ChildProcess[] = [];
let skipReason: string | undefined;

const cleanupNetwork = (): void => deleteNamespaces(Object.values(NS));

/** A process inside a namespace, in its own process group; output kept. */
function runIn(ns: string, argv: string[]): NsProcess {
  return runInNamespace(ns, argv, children, process.env.AGORA_LOG_LEVEL ?? 'warn');
}

before(() => {
  skipReason = netnsUnavailable();
  if (skipReason) return;
  try {
    makeNamespaces(Object.values(NS));
    inNs(NS.master, 'addr', 'add', `${MASTER_IP}/32`, 'dev', 'lo');
    for (const [k, ns] of [[1, NS.a1], [2, NS.a2]] as const) {
      const m = `${TAG}m${k}`;
      const a = `${TAG}a${k}`;
      ip('link', 'add', m, 'netns', NS.master, 'type', 'veth', 'peer', 'name', a, 'netns', ns);
      inNs(NS.master, 'addr', 'add', `10.201.${k}.1/30`, 'dev', m);
      inNs(NS.master, 'link', 'set', m, 'up');
      inNs(ns, 'addr', 'add', `10.201.${k}.2/30`, 'dev', a);
      inNs(ns, 'link', 'set', a, 'up');
      // The agent reaches the master's loopback address through its own link only.
      inNs(ns, 'route', 'add', `${MASTER_IP}/32`, 'via', `10.201.${k}.1`);
    }
  } catch (e) {
    cleanupNetwork();
    skipReason = `cannot make network namespaces here: ${(e as Error).message}`;
  }
});

after(async () => {
  for (const c of children) {
    try { if (c.pid) process.kill(-c.pid, 'SIGTERM'); } catch { /* gone */ }
  }
  await new Promise((r) => setTimeout(r, 500));
  for (const c of children) {
    try { if (c.pid) process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  if (!skipReason) cleanupNetwork();
  await stopAll();
});

interface Line { event: string; taskId?: string; state?: string; agentId?: string; agents?: { id: string; address: string; reachability: string }[] }

test('multi-host: cutting an agent link makes it unreachable, restoring it heals', { timeout: 150_000 }, async (t) => {
  if (skipReason) {
    t.skip(`skipped: ${skipReason}`);
    return;
  }
  const dir = tempDir('agora-chaos-netns-');
  const master = runIn(NS.master, [process.execPath, AGORA_BIN, 'master', '--host', MASTER_IP, '--port', '5050', '--work-dir', join(dir, 'master'), '--agent-ping-timeout', '3', '--insecure']);
  const agents = [1, 2].map((k) => runIn(k === 1 ? NS.a1 : NS.a2, [
    process.execPath, AGORA_BIN, 'agent', '--master', MASTER, '--host', `10.201.${k}.2`, '--port', '5060',
    '--work-dir', join(dir, `agent-${k}`), '--resources', 'cpus:1;mem:256;disk:100;ports:[31000-31005]', '--insecure',
  ]));
  // The scheduler starts once the master listens, so its first connection does not race it.
  for (const end = Date.now() + 30_000; !/master listening/.test(master.output()) && Date.now() < end;) await new Promise((r) => setTimeout(r, 100));
  const sched = runIn(NS.master, [process.execPath, '--import', 'tsx', join(ROOT, 'test/fixtures/netns-scheduler.ts'), MASTER, '2']);
  const lines = (): Line[] => sched.output().split('\n').filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l) as Line; } catch { return { event: '' }; } });
  const latestAgents = (): NonNullable<Line['agents']> => lines().filter((l) => l.event === 'agents').at(-1)?.agents ?? [];
  const taskState = (agentId: string): string => lines().filter((l) => l.event === 'update' && l.agentId === agentId).at(-1)?.state ?? '';
  const wait = async (what: string, pred: () => boolean, ms: number): Promise<void> => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) {
        throw new Error(`timed out: ${what}\nscheduler:\n${sched.output().split('\n').slice(-15).join('\n')}\nmaster:\n${master.output().slice(-2000)}\nagent 1:\n${agents[0]?.output().slice(-2000)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  await wait('both agents reachable', () => latestAgents().filter((a) => a.reachability === 'REACHABLE').length === 2, 60_000);
  const cut = latestAgents().find((a) => a.address === '10.201.1.2:5060')?.id ?? '';
  const kept = latestAgents().find((a) => a.address === '10.201.2.2:5060')?.id ?? '';
  assert.ok(cut && kept, `agent IDs by address: ${JSON.stringify(latestAgents())}`);
  await wait('a task running on each agent', () => taskState(cut) === 'TASK_RUNNING' && taskState(kept) === 'TASK_RUNNING', 60_000);

  const cutAt = Date.now();
  inNs(NS.master, 'link', 'set', `${TAG}m1`, 'down');
  try {
    await wait('the cut agent unreachable', () => taskState(cut) === 'TASK_UNREACHABLE' && latestAgents().find((a) => a.id === cut)?.reachability === 'UNREACHABLE', 30_000);
    const detectMs = Date.now() - cutAt;
    assert.ok(detectMs >= 2_500 && detectMs < 15_000, `detected after ${detectMs} ms (ping timeout 3 s)`);
    // The other agent is untouched: no false positive from its neighbour's partition.
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(latestAgents().find((a) => a.id === kept)?.reachability, 'REACHABLE');
    assert.equal(taskState(kept), 'TASK_RUNNING');
  } finally {
    inNs(NS.master, 'link', 'set', `${TAG}m1`, 'up');
  }
  // The agent notices its dead stream (keepalive or the master's reset) and re-registers.
  await wait('the cut agent back and its task running again', () => taskState(cut) === 'TASK_RUNNING' && latestAgents().find((a) => a.id === cut)?.reachability === 'REACHABLE', 90_000);
  assert.equal(taskState(kept), 'TASK_RUNNING');
  assert.equal(lines().filter((l) => l.event === 'update' && l.agentId === kept && l.state !== 'TASK_RUNNING' && l.state !== 'TASK_STARTING').length, 0);
});

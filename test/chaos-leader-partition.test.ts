// Chaos: a partitioned leader is not deposed by the fast path. Two masters with the default
// lease TTL (5 s), each in its own network namespace joined by one veth pair; etcd lives beside
// the standby. Cutting the link isolates the leader from etcd and from the standby alike: the
// standby's probe of the leader's port now times out (no process died, nothing refuses), so it
// must wait for the lease to expire — the leader, for its part, fences itself by time. Needs root
// and `ip`; skips with a message where network namespaces cannot be made.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { deleteNamespaces, inNs, ip, makeNamespaces, netnsUnavailable, runInNamespace, type NsProcess } from './helpers/netns.js';
import { AGORA_BIN, tempDir } from './helpers/processes.js';
import { etcdMissing } from './helpers/etcd.js';

const TAG = `lp${process.pid % 100_000}`;
const NS = { leader: `${TAG}-l`, standby: `${TAG}-s` };
const IP = { leader: '10.202.0.1', standby: '10.202.0.2' };
const LINK = { leader: `${TAG}l`, standby: `${TAG}s` };
const TTL = 5; // the default
const children: ChildProcess[] = [];
let skipReason: string | undefined = etcdMissing();

const cleanupNetwork = (): void => deleteNamespaces(Object.values(NS));

/** A process inside a namespace, in its own process group; output kept. */
function runIn(ns: string, argv: string[]): NsProcess {
  return runInNamespace(ns, argv, children, 'info');
}

before(() => {
  skipReason ??= netnsUnavailable();
  if (skipReason) return;
  try {
    makeNamespaces(Object.values(NS));
    ip('link', 'add', LINK.leader, 'netns', NS.leader, 'type', 'veth', 'peer', 'name', LINK.standby, 'netns', NS.standby);
    inNs(NS.leader, 'addr', 'add', `${IP.leader}/30`, 'dev', LINK.leader);
    inNs(NS.standby, 'addr', 'add', `${IP.standby}/30`, 'dev', LINK.standby);
    inNs(NS.leader, 'link', 'set', LINK.leader, 'up');
    inNs(NS.standby, 'link', 'set', LINK.standby, 'up');
  } catch (e) {
    cleanupNetwork();
    skipReason = `cannot make network namespaces here: ${(e as Error).message}`;
  }
});

after(async () => {
  for (const c of children) { try { if (c.pid) process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ } }
  await new Promise((r) => setTimeout(r, 300));
  if (!skipReason) cleanupNetwork();
});

async function waitFor(what: string, pred: () => boolean, ms: number, dump: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}\n${dump()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a partitioned leader is left to its lease: the standby does not revoke it, and takes over only after the TTL', { timeout: 90_000 }, async (t) => {
  if (skipReason) {
    t.skip(`skipped: ${skipReason}`);
    return;
  }
  const dir = tempDir('agora-leader-partition-');
  const etcdUrl = `http://${IP.standby}:2379`;
  const etcd = runIn(NS.standby, ['etcd', '--name', 'default', '--data-dir', join(dir, 'etcd'),
    '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
    '--listen-peer-urls', 'http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
    '--initial-cluster', 'default=http://127.0.0.1:2380', '--log-level', 'error']);
  const master = (who: 'leader' | 'standby') => runIn(NS[who], [process.execPath, AGORA_BIN, 'master', '--host', IP[who], '--port', '5050', '--etcd', etcdUrl, '--etcd-prefix', '/partition/',
    // A test network of its own, not reachable from outside the namespaces: no authentication needed.
    '--insecure']);
  const leader = master('leader');
  const dump = (): string => `leader:\n${leader.output().slice(-2000)}\nstandby:\n${standby?.output().slice(-2000) ?? ''}\netcd:\n${etcd.output().slice(-1000)}`;
  let standby: ReturnType<typeof master> | undefined;
  await waitFor('the first master elected', () => /elected leader/.test(leader.output()), 40_000, dump);
  standby = master('standby');
  await waitFor('the standby a candidate', () => /candidate for leadership/.test(standby!.output()), 30_000, dump);
  // Let its probe connect to the leader (a refusal counts only after that).
  await new Promise((r) => setTimeout(r, 1500));
  assert.doesNotMatch(standby.output(), /elected leader/);

  const cutAt = Date.now();
  inNs(NS.leader, 'link', 'set', LINK.leader, 'down');
  await waitFor('the standby elected', () => /elected leader/.test(standby!.output()), (TTL + 10) * 1000, dump);
  const took = Date.now() - cutAt;
  // The lease runs ≥ TTL − one keep-alive interval past the cut; the fast path would take ~0.1 s.
  assert.ok(took >= (TTL - TTL / 5) * 1000 - 300, `the partitioned leader was replaced after ${took} ms, before its lease could expire\n${dump()}`);
  assert.doesNotMatch(standby.output(), /revoking its lease/, 'no fast-path verdict on a partitioned leader');
  // The leader fenced itself by time, on its own side of the partition.
  await waitFor('the partitioned leader to step down', () => /lost leadership/.test(leader.output()), 10_000, dump);
  process.stdout.write(`# partitioned leader replaced after ${took} ms (TTL ${TTL} s)\n`);
});

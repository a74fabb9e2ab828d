// Masters on etcd as real `agora master --etcd` processes: one leader, standbys that redirect,
// takeover after kill -9 within TTL + margin (and within a second or two with the fast path:
// the standby sees the dead leader's port refuse and revokes its lease), and a frozen (SIGSTOP)
// leader that the fast path leaves alone: it is deposed by its lease's expiry only, and steps
// down (exits non-zero) when it resumes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { OperatorClient, schedulerClient, type agora as wire } from '@agora/core';
import { agora, freePort, stopAll, until, type Proc } from './helpers/processes.js';
import { etcdMissing, startEtcd, type EtcdServer } from './helpers/etcd.js';

const skip = etcdMissing();
const TTL = 3;
let etcd: EtcdServer;
let prefixSeq = 0;

before(async () => { if (!skip) etcd = await startEtcd(); });
after(async () => {
  await stopAll();
  await etcd?.stop();
});

interface Candidate { proc: Proc; address: string }

async function candidates(count: number, extra: string[] = ['--etcd-ttl', String(TTL)]): Promise<Candidate[]> {
  const prefix = `/ha-election-${++prefixSeq}/`;
  const out: Candidate[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const proc = agora(['master', '--port', String(port), '--etcd', etcd.url, '--etcd-prefix', prefix, ...extra]);
    out.push({ proc, address: `127.0.0.1:${port}` });
  }
  return out;
}

async function health(address: string): Promise<wire.v1.Health | undefined> {
  const op = new OperatorClient(address, 500);
  try {
    return await op.getHealth();
  } catch {
    return undefined;
  } finally {
    op.close();
  }
}

async function leaderOf(cs: Candidate[], timeoutMs = 15_000): Promise<Candidate> {
  let found: Candidate | undefined;
  await until(async () => {
    const hs = await Promise.all(cs.map((c) => health(c.address)));
    const leaders = cs.filter((_, i) => hs[i]?.masterInfo?.leader);
    if (leaders.length > 1) throw new Error('two leaders');
    found = leaders[0];
    return !!found;
  }, timeoutMs, () => 'a leader to be elected');
  return found!;
}

/** Opens Scheduler.Connect and resolves with the gRPC error (or 'open' if the stream stays up). */
function connectOutcome(address: string): Promise<{ code?: number; details?: string }> {
  const client = schedulerClient(address);
  const call = client.connect();
  return new Promise((resolve) => {
    const timer = setTimeout(() => { call.cancel(); client.close(); resolve({}); }, 2000);
    call.on('data', () => undefined);
    call.on('error', (e: { code?: number; details?: string }) => { clearTimeout(timer); client.close(); resolve({ code: e.code, details: e.details }); });
  });
}

test('one leader; standbys report it and refuse schedulers with UNAVAILABLE and its address', { skip }, async () => {
  const cs = await candidates(2);
  const leader = await leaderOf(cs);
  const standby = cs.find((c) => c !== leader)!;
  await until(async () => (await health(standby.address))?.masterInfo?.leaderAddress === leader.address, 10_000, () => 'standby to learn the leader');
  const h = await health(standby.address);
  assert.equal(h?.healthy, true, 'a standby is healthy');
  assert.equal(h?.masterInfo?.leader, false);
  const refused = await connectOutcome(standby.address);
  assert.equal(refused.code, 14, 'UNAVAILABLE');
  assert.equal(refused.details, `not leader; leader is ${leader.address}`);
  const op = new OperatorClient(standby.address, 1000);
  await assert.rejects(op.getState(), /not leader; leader is/);
  op.close();
  const lh = await health(leader.address);
  assert.equal(lh?.masterInfo?.leaderAddress, leader.address);
});

test('kill -9 the leader with the default TTL (5 s): a standby takes over within about a second', { skip }, async () => {
  const cs = await candidates(2, []);
  const leader = await leaderOf(cs);
  const standby = cs.find((c) => c !== leader)!;
  await until(async () => (await health(standby.address))?.masterInfo?.leaderAddress === leader.address, 10_000);
  // Let the standby's probe connect to the leader first (it trusts a refusal only after that).
  await new Promise((r) => setTimeout(r, 1500));
  const t0 = Date.now();
  leader.proc.kill('SIGKILL');
  const next = await leaderOf([standby], 10_000);
  const took = Date.now() - t0;
  assert.equal(next, standby);
  // The lease alone would take 4–5.5 s; generous bound for a loaded machine, still well under it.
  assert.ok(took < 3000, `takeover took ${took} ms with the default TTL of 5 s`);
  assert.match(standby.proc.output(), /revoking its lease/);
  process.stdout.write(`# takeover after kill -9, default TTL 5 s: ${took} ms\n`);
});

test('kill -9 the leader without the fast path: a standby takes over within TTL + margin', { skip }, async () => {
  const cs = await candidates(2, ['--etcd-ttl', String(TTL), '--no-etcd-fast-failover']);
  const leader = await leaderOf(cs);
  const standby = cs.find((c) => c !== leader)!;
  await until(async () => (await health(standby.address))?.masterInfo?.leaderAddress === leader.address, 10_000);
  const t0 = Date.now();
  leader.proc.kill('SIGKILL');
  const next = await leaderOf([standby], (TTL + 5) * 1000);
  const took = Date.now() - t0;
  assert.equal(next, standby);
  assert.ok(took <= (TTL + 2) * 1000, `takeover took ${took} ms (TTL ${TTL} s)`);
  process.stdout.write(`# takeover after kill -9: ${took} ms (TTL ${TTL} s)\n`);
});

test('a frozen leader (SIGSTOP) is replaced, and on SIGCONT steps down and exits non-zero', { skip }, async () => {
  const cs = await candidates(2);
  const leader = await leaderOf(cs);
  const standby = cs.find((c) => c !== leader)!;
  await until(async () => (await health(standby.address))?.masterInfo?.leaderAddress === leader.address, 10_000);
  await new Promise((r) => setTimeout(r, 1500));
  leader.proc.kill('SIGSTOP');
  const t0 = Date.now();
  await leaderOf([standby], (TTL + 5) * 1000);
  const took = Date.now() - t0;
  assert.ok(took <= (TTL + 2) * 1000, `takeover took ${took} ms`);
  // Not deposed by the fast path: a frozen process still accepts connections, so only the lease
  // expiry (≥ TTL − one keep-alive interval after the last keep-alive) can end its term.
  assert.ok(took >= (TTL - TTL / 5) * 1000 - 300, `a frozen leader was replaced after ${took} ms, before its lease could expire`);
  assert.doesNotMatch(standby.proc.output(), /revoking its lease/);
  leader.proc.kill('SIGCONT');
  const code = await Promise.race([leader.proc.exited, new Promise((r) => setTimeout(() => r('still running'), 8000))]);
  assert.notEqual(code, 0, 'the deposed leader exits non-zero');
  assert.notEqual(code, 'still running', `the deposed leader did not exit; output:\n${leader.proc.output()}`);
  assert.match(leader.proc.output(), /lost leadership/);
  // Exactly one leader now: the standby.
  assert.equal((await health(standby.address))?.masterInfo?.leader, true);
});

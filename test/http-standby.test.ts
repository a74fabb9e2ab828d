// Two `agora master --etcd` candidates: the standby's HTTP API answers /health and /metrics
// itself and sends every other route to the leader's HTTP address with a 307.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { agora, freePort, stopAll, until, type Proc } from './helpers/processes.js';
import { etcdMissing, startEtcd, type EtcdServer } from './helpers/etcd.js';
import { parsePrometheus, sampleValue } from './helpers/prometheus.js';

const skip = etcdMissing();
let etcd: EtcdServer;

before(async () => { if (!skip) etcd = await startEtcd(); });
after(async () => {
  await stopAll();
  await etcd?.stop();
});

interface Candidate { proc: Proc; http: string }

async function health(http: string): Promise<any> {
  try {
    const res = await fetch(`http://${http}/health`, { signal: AbortSignal.timeout(1000) });
    return await res.json();
  } catch {
    return undefined;
  }
}

test('a standby redirects HTTP operators to the leader (307), answering /health and /metrics itself', { skip }, async () => {
  const cs: Candidate[] = [];
  for (let i = 0; i < 2; i++) {
    const proc = agora(['master', '--port', String(await freePort()), '--http-port', '0', '--etcd', etcd.url, '--etcd-ttl', '3', '--etcd-prefix', '/http-standby/']);
    const http = (await proc.waitFor(/web ui on http:\/\/(\S+)\//, 20_000))[1]!;
    cs.push({ proc, http });
  }
  let leader: Candidate | undefined;
  let standby: Candidate | undefined;
  await until(async () => {
    const hs = await Promise.all(cs.map((c) => health(c.http)));
    leader = cs.find((_, i) => hs[i]?.leader === true);
    standby = cs.find((_, i) => hs[i]?.role === 'standby');
    return !!leader && !!standby && hs[cs.indexOf(standby)]?.leaderHttpAddress === leader.http;
  }, 20_000, () => 'one leader and one standby that knows the leader\'s HTTP address');

  const res = await fetch(`http://${standby!.http}/state?taskLimit=5`, { redirect: 'manual' });
  assert.equal(res.status, 307);
  assert.equal(res.headers.get('location'), `http://${leader!.http}/state?taskLimit=5`);
  for (const path of ['/tasks', '/agents', '/events', '/files/read?taskId=x&path=stdout', '/']) {
    const r = await fetch(`http://${standby!.http}${path}`, { redirect: 'manual' });
    assert.equal(r.status, 307, path);
    assert.equal(r.headers.get('location'), `http://${leader!.http}${path}`);
  }
  // Following the redirect gets the leader's answer.
  const followed = await fetch(`http://${standby!.http}/state`);
  assert.equal(followed.status, 200);
  assert.equal(((await followed.json()) as any).master.leader, true);

  const h = await health(standby!.http);
  assert.deepEqual({ healthy: h.healthy, leader: h.leader, role: h.role }, { healthy: true, leader: false, role: 'standby' });
  const m = await fetch(`http://${standby!.http}/metrics`);
  assert.equal(m.status, 200);
  assert.equal(sampleValue(parsePrometheus(await m.text()), 'agora_master_is_leader'), 0);
});

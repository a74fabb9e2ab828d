// Per-principal rate limits on the master's APIs: a principal flooding the operator API gets
// RESOURCE_EXHAUSTED naming its limit, and one flooding its scheduler stream is slowed down,
// while another principal's calls are answered at once all along.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { OperatorClient, grpc, silentLogger, type Credential } from '@agora/core';
import { startMaster, type Master } from '@agora/master';
import { SchedulerDriver } from '@agora/sdk';
import { tempDir } from './helpers/processes.js';

const flood: Credential = { principal: 'flood', secret: 'flood-secret' };
const calm: Credential = { principal: 'calm', secret: 'calm-secret' };
let master: Master;

before(async () => {
  master = await startMaster({
    port: 0, workDir: join(tempDir('agora-rate-'), 'master'), logger: silentLogger(),
    security: {
      // Secrets over plaintext are accepted from loopback only: this is a local test.
      credentials: [flood, calm],
      rateLimits: { limits: [{ principal: 'flood', qps: 20 }, { principal: 'calm', qps: 1000 }] },
    },
  });
});

after(async () => {
  await master?.stop();
});

test('a principal over its limit gets RESOURCE_EXHAUSTED with the limit; another principal is served meanwhile', async () => {
  // Long deadlines: on a loaded machine 200 concurrent calls take a while to even be read.
  const flooder = new OperatorClient(master.address, 30_000, { credential: flood });
  const other = new OperatorClient(master.address, 30_000, { credential: calm });
  try {
    const storm = Array.from({ length: 200 }, () => flooder.getMetrics().then(() => 'ok', (e: grpc.ServiceError) => e));
    const served: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = Date.now();
      await other.getFrameworks();
      served.push(Date.now() - t0);
    }
    const results = await Promise.all(storm);
    const refused = results.filter((r): r is grpc.ServiceError => typeof r !== 'string' && r.code === grpc.status.RESOURCE_EXHAUSTED);
    // The bucket holds 20 calls and refills at 20/s: most of the 200 must be refused.
    assert.ok(refused.length >= 100, `only ${refused.length} of 200 calls were refused with RESOURCE_EXHAUSTED`);
    assert.ok(results.filter((r) => r === 'ok').length >= 20, 'calls within the limit are served');
    assert.match(refused[0]?.details ?? '', /rate limit exceeded: principal flood is limited to 20 calls\/s/);
    assert.equal(served.length, 10, 'every call of the other principal was answered');
  } finally {
    flooder.close();
    other.close();
  }
});

/** Subscribes a framework and returns it with a way to wait for N updates. */
async function framework(name: string, credential: Credential): Promise<{ driver: SchedulerDriver; updates: () => number; next: (n: number) => Promise<number> }> {
  let count = 0;
  const waiters: { n: number; resolve: (t: number) => void }[] = [];
  const driver = new SchedulerDriver({
    master: master.address, framework: { name }, credential,
    callbacks: {
      statusUpdate: () => {
        count++;
        for (const w of waiters.filter((x) => count >= x.n)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(Date.now());
        }
      },
    },
  });
  await driver.start();
  return { driver, updates: () => count, next: (n) => (count >= n ? Promise.resolve(Date.now()) : new Promise((resolve) => waiters.push({ n, resolve }))) };
}

test('a flooded scheduler stream is slowed to its rate, not dropped; another framework is answered ahead of the backlog', async () => {
  const a = await framework('flooder', flood);
  const b = await framework('calm', calm);
  try {
    const start = Date.now();
    // 100 explicit reconciliations of unknown tasks: each is answered with one TASK_LOST.
    for (let i = 0; i < 100; i++) a.driver.reconcile([{ taskId: `ghost-${i}` }]);
    const floodDone = a.next(100);
    await new Promise((r) => setTimeout(r, 200));
    b.driver.reconcile([{ taskId: 'calm-ghost' }]);
    const calmAt = await b.next(1);
    const floodAt = await floodDone;
    assert.equal(a.updates(), 100, 'no call of the flooder was dropped');
    // 20 calls at once, then 20/s: the last of 100 needs about 4 s; allow for a loaded machine.
    assert.ok(floodAt - start >= 2_500, `the flooder's 100 calls were answered within ${floodAt - start} ms despite its 20 calls/s limit`);
    assert.ok(calmAt < floodAt, 'the other framework was answered before the flooder\'s backlog was through');
  } finally {
    await a.driver.stop();
    await b.driver.stop();
  }
});

// The standby's direct watch on the leader's port (leader-probe.ts): a refused port is a dead
// leader; a live, frozen or connection-dropping leader is not.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { LeaderProbe, unprobeable } from '../src/leader-probe.js';

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } }
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function listen(): Promise<{ server: Server; address: string; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => undefined); });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, address: `127.0.0.1:${(server.address() as { port: number }).port}`, sockets })));
}

/** Resolves once the probe has been connected to its leader (it trusts refusals only after that). */
async function connected(probe: LeaderProbe): Promise<void> {
  for (let i = 0; i < 500 && !probe.seenAlive; i++) await sleep(20);
  assert.ok(probe.seenAlive, 'the probe connected to the leader');
}

/** The verdict, or a failure after `ms` (never a hanging test). */
function within<T>(p: Promise<T>, ms = 15_000): Promise<T> {
  return Promise.race([p, sleep(ms).then(() => { throw new Error(`no verdict within ${ms} ms`); })]);
}

function watch(address: string): { probe: LeaderProbe; dead: Promise<{ at: number; evidence: string }>; verdicts: () => number } {
  let n = 0;
  let resolve!: (v: { at: number; evidence: string }) => void;
  const dead = new Promise<{ at: number; evidence: string }>((r) => { resolve = r; });
  // The probe's socket and timers do not hold the process open; the test must, until a verdict.
  const hold = setInterval(() => undefined, 1000);
  const probe = new LeaderProbe({ address, onDead: (evidence) => { n++; clearInterval(hold); resolve({ at: Date.now(), evidence }); } });
  const stop = probe.stop.bind(probe);
  probe.stop = () => { clearInterval(hold); stop(); };
  probe.start();
  return { probe, dead, verdicts: () => n };
}

test('a leader whose port goes away is declared dead at once', async () => {
  const { server, address, sockets } = await listen();
  const w = watch(address);
  await connected(w.probe);
  await sleep(100);
  assert.equal(w.verdicts(), 0, 'no verdict while the leader listens');
  const t0 = Date.now();
  server.close();
  for (const s of sockets) s.destroy();
  const { at, evidence } = await within(w.dead);
  assert.ok(at - t0 < 1000, `declared dead after ${at - t0} ms`);
  assert.match(evidence, /refused/);
  await sleep(100);
  assert.equal(w.verdicts(), 1, 'one verdict only');
});

test('a live leader that drops the idle connection is not declared dead', async () => {
  const { server, address, sockets } = await listen();
  const w = watch(address);
  await connected(w.probe);
  // The leader's server closes idle connections now and then; the probe reconnects each time.
  for (let i = 0; i < 10; i++) {
    await sleep(100);
    for (const s of sockets) s.destroy();
  }
  await sleep(300);
  assert.equal(w.verdicts(), 0);
  w.probe.stop();
  server.close();
});

test('a frozen leader (SIGSTOP) is not declared dead; once killed it is', { skip: process.platform !== 'linux' }, async () => {
  // A separate process listening, as a master would; its kernel still accepts while it is stopped.
  const child = spawn(process.execPath, ['-e', "require('net').createServer(()=>{}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})"], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const port = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
  const w = watch(`127.0.0.1:${port}`);
  await connected(w.probe);
  child.kill('SIGSTOP');
  await sleep(1500);
  assert.equal(w.verdicts(), 0, 'a frozen process is not dead');
  const t0 = Date.now();
  child.kill('SIGKILL');
  const { at } = await within(w.dead);
  assert.ok(at - t0 < 1000, `declared dead ${at - t0} ms after kill -9`);
});

test('what proves nothing: a port that refuses from the start, an unresolvable host', async () => {
  // Never seen listening: a refusal may come from a firewall answering with resets (this very
  // machine's sandbox does so for unknown destinations), not from a dead leader.
  const { server, address } = await listen();
  server.close();
  await sleep(50);
  const w = watch(address);
  const w2 = watch('no-such-host.invalid:5050');
  await sleep(1500);
  assert.equal(w.verdicts(), 0, 'a port never seen listening is no proof of death');
  assert.equal(w2.verdicts(), 0, 'a name that does not resolve is no proof of death');
  w.probe.stop();
  w2.probe.stop();
});

test('addresses a standby cannot judge are not probed', () => {
  assert.match(unprobeable('0.0.0.0:5050', '10.0.0.2:5050') ?? '', /names no host/);
  assert.match(unprobeable('127.0.0.1:5050', '10.0.0.2:5050') ?? '', /loopback/);
  assert.equal(unprobeable('127.0.0.1:5050', '127.0.0.1:5051'), undefined);
  assert.equal(unprobeable('10.0.0.1:5050', '10.0.0.2:5050'), undefined);
  assert.match(unprobeable('nonsense', '10.0.0.2:5050') ?? '', /not host:port/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { AgentLinkService, bindServer, grpc, newServer, silentLogger, stopServer } from '@agora/core';
import { startAgent } from '@agora/agent';
import { leaderFromRefusal } from '../src/master-link.js';
import { FakeMaster } from './fake-master.js';
import { tempDir } from './helpers.js';

/** Fails after `ms` instead of hanging (an agent that never registers never resolves). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => { t = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms); })]).finally(() => clearTimeout(t));
}

/** A standby master: refuses every AgentLink.Connect as the HA masters do. */
async function standby(details: string): Promise<{ address: string; refused: () => number; stop: () => Promise<void> }> {
  const server = newServer();
  let refused = 0;
  server.addService(AgentLinkService, {
    connect: (call: grpc.ServerDuplexStream<unknown, unknown>) => {
      refused++;
      call.on('error', () => {});
      call.emit('error', { code: grpc.status.UNAVAILABLE, details });
    },
  });
  const port = await bindServer(server, '127.0.0.1', 0);
  return { address: `127.0.0.1:${port}`, refused: () => refused, stop: () => stopServer(server, 10) };
}

test('leaderFromRefusal reads only UNAVAILABLE "not leader; leader is HOST:PORT"', () => {
  assert.equal(leaderFromRefusal({ code: grpc.status.UNAVAILABLE, details: 'not leader; leader is 10.0.0.2:5050' }), '10.0.0.2:5050');
  assert.equal(leaderFromRefusal({ code: grpc.status.UNAVAILABLE, details: 'not leader; no leader elected yet' }), undefined);
  assert.equal(leaderFromRefusal({ code: grpc.status.UNAVAILABLE, details: 'No connection established' }), undefined);
  assert.equal(leaderFromRefusal({ code: grpc.status.INTERNAL, details: 'not leader; leader is 10.0.0.2:5050' }), undefined);
});

test('a standby naming the leader sends the agent there, even when the leader is not in its list', async () => {
  const leader = await new FakeMaster().start();
  const std = await standby(`not leader; leader is ${leader.address}`);
  const workDir = tempDir();
  const started = startAgent({ master: [std.address], workDir, port: 0, resources: 'cpus:1;mem:64;disk:10', logger: silentLogger(), reconnectMinMs: 10, reconnectMaxMs: 50 });
  const agent = await within(started, 10_000, 'registration through the redirect').catch(async (err) => {
    void started.then((a) => a.stop());
    throw err;
  });
  try {
    assert.equal(agent.agentId, 'agent-fake-1');
    assert.equal(std.refused(), 1, 'one refusal, then straight to the leader');
  } finally {
    await agent.stop();
    await std.stop();
    await leader.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
});

test('"no leader elected yet": the agent tries the next master of its list', async () => {
  const leader = await new FakeMaster().start();
  const std = await standby('not leader; no leader elected yet');
  const workDir = tempDir();
  const agent = await within(startAgent({ master: [std.address, leader.address], workDir, port: 0, resources: 'cpus:1;mem:64;disk:10', logger: silentLogger(), reconnectMinMs: 10, reconnectMaxMs: 50 }), 10_000, 'registration with the next master');
  try {
    assert.equal(agent.agentId, 'agent-fake-1');
    assert.ok(std.refused() >= 1);
  } finally {
    await agent.stop();
    await std.stop();
    await leader.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
});

test('an agent the master marked gone stops, and forgets its identity so it can rejoin as new', async () => {
  const { setup } = await import('./helpers.js');
  const { existsSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { startAgent } = await import('@agora/agent');
  const { silentLogger } = await import('@agora/core');
  const first = await setup();
  const idFile = join(first.workDir, 'meta', 'agent-id');
  for (let i = 0; i < 100 && !existsSync(idFile); i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(existsSync(idFile), 'the ID was persisted');
  await first.agent.stop();
  first.master.refuseAsGone = true;
  await assert.rejects(
    startAgent({ master: first.master.address, port: 0, workDir: first.workDir, resources: 'cpus:1;mem:256', logger: silentLogger() }),
    /marked gone.*identity was reset/,
  );
  assert.ok(!existsSync(idFile), 'the identity was forgotten');
  assert.equal(first.master.registrations.length, 2, 'no retry loop against a master that refuses it');
  await first.master.stop();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resources } from '@agora/core';
import { FileRegistry } from '../src/registry-file.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'agora-registry-'));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

test('state survives a restart, infos exactly', () => withDir(async (dir) => {
  const r1 = new FileRegistry(dir);
  assert.deepEqual(await r1.load(), { frameworks: [], agents: [], roles: [], reservations: [] });
  await r1.apply([{ type: 'putFramework', framework: { id: 'fw-1', info: { name: 'web', roles: ['eng'], capabilities: [2], failoverTimeoutSeconds: 30 }, registeredTime: 1 } }]);
  await r1.apply([{ type: 'putAgent', agent: { id: 'agent-1', info: { hostname: 'h1', resources: resources.parseResources('cpus:4;ports:[1-9]') }, registeredTime: 2 } }]);
  await r1.apply([{ type: 'putFramework', framework: { id: 'fw-2', info: { name: 'gone' }, registeredTime: 3 } }, { type: 'removeFramework', frameworkId: 'fw-2' }]);
  await r1.close();
  const s = await new FileRegistry(dir).load();
  assert.deepEqual(s.frameworks.map((f) => f.id), ['fw-1']);
  assert.equal(s.frameworks[0]!.info.name, 'web');
  assert.deepEqual(s.frameworks[0]!.info.roles, ['eng']);
  assert.deepEqual(s.frameworks[0]!.info.capabilities, [2]);
  assert.equal(s.frameworks[0]!.info.failoverTimeoutSeconds, 30);
  assert.equal(s.agents[0]!.id, 'agent-1');
  assert.equal(resources.formatResources(s.agents[0]!.info.resources ?? []), 'cpus:4;ports:[1-9]');
}));

test('a torn temp file from a crash is ignored; the committed state stays', () => withDir(async (dir) => {
  const r1 = new FileRegistry(dir);
  await r1.load();
  await r1.apply([{ type: 'putAgent', agent: { id: 'agent-1', info: { hostname: 'h1' }, registeredTime: 1 } }]);
  await r1.close();
  await writeFile(join(dir, 'state.json.tmp'), '{"version":1,"agents":[{"id":"agent-2","inf');
  const r2 = new FileRegistry(dir);
  const s = await r2.load();
  assert.deepEqual(s.agents.map((a) => a.id), ['agent-1']);
  await r2.apply([{ type: 'putAgent', agent: { id: 'agent-3', info: {}, registeredTime: 1 } }]);
  assert.deepEqual((await readdir(dir)).sort(), ['state.json']);
  assert.deepEqual((await new FileRegistry(dir).load()).agents.map((a) => a.id), ['agent-1', 'agent-3']);
}));

test('a corrupt committed file is refused loudly, not silently emptied', () => withDir(async (dir) => {
  await writeFile(join(dir, 'state.json'), 'garbage');
  await assert.rejects(new FileRegistry(dir).load(), /registry file .* is unreadable/);
}));

test('concurrent applies are group-committed and all durable', () => withDir(async (dir) => {
  const r = new FileRegistry(dir);
  await r.load();
  await Promise.all(Array.from({ length: 200 }, (_, i) => r.apply([{ type: 'putAgent', agent: { id: `agent-${i}`, info: { hostname: `h${i}` }, registeredTime: i } }])));
  assert.ok(r.writes < 20, `expected group commit, got ${r.writes} writes`);
  const text = await readFile(join(dir, 'state.json'), 'utf8');
  assert.equal(JSON.parse(text).agents.length, 200);
  await assert.rejects(r.apply([{ type: 'bogus' } as never]), /unknown registry operation/);
}));

test('apply before load is refused', async () => {
  await assert.rejects(new FileRegistry('/nonexistent').apply([]), /load\(\) must be called/);
});

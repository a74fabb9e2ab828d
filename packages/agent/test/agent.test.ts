import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { AgentCallType, FilesClient, TaskState, TaskStatusReason, resources as R, grpc } from '@agora/core';
import { startAgent } from '@agora/agent';
import { silentLogger } from '@agora/core';
import { FakeMaster, commandTask } from './fake-master.js';
import { alive, setup, sleep, tempDir } from './helpers.js';

const ST = TaskState;

test('registers, heartbeats, and keeps its persisted ID across a restart', async () => {
  const { master, agent, workDir, cleanup } = await setup({ heartbeatIntervalSeconds: 0.05, attributes: 'rack:r1;zone:a' });
  try {
    assert.equal(agent.agentId, 'agent-fake-1');
    const reg = master.registrations[0]!;
    assert.equal(reg.agentInfo?.address, agent.address);
    assert.equal(reg.agentInfo?.id, null, 'a new agent registers without an ID');
    assert.equal(R.scalarOf(reg.agentInfo?.resources ?? [], 'cpus'), 2);
    assert.deepEqual(reg.agentInfo?.attributes?.map((a) => a.name), ['rack', 'zone']);
    await master.waitFor('heartbeats', () => master.calls.filter((c) => c.type === AgentCallType.HEARTBEAT).length >= 3);
    await master.waitFor('persisted id', () => existsSync(path.join(workDir, 'meta', 'agent-id')));
    assert.equal(readFileSync(path.join(workDir, 'meta', 'agent-id'), 'utf8').trim(), 'agent-fake-1');
    await agent.stop();
    master.nextId = 'agent-other';
    const again = await startAgent({ master: master.address, port: 0, workDir, resources: 'cpus:1;mem:64;disk:10', logger: silentLogger() });
    try {
      assert.equal(master.registrations[1]?.agentInfo?.id?.value, 'agent-fake-1', 're-registers with its ID');
      assert.equal(again.agentId, 'agent-fake-1');
    } finally {
      await again.stop();
    }
  } finally {
    await cleanup();
  }
});

test("sh -c 'echo hi' goes STARTING → RUNNING → FINISHED with hi in stdout and the env set", async () => {
  const { master, agent, workDir, cleanup } = await setup();
  try {
    master.run(commandTask('t-echo', 'echo hi; env > env.txt', {
      resources: R.parseResources('cpus:0.1;ports:[31002-31003]'),
      command: { value: 'echo hi; env > env.txt', environment: { variables: [{ name: 'GREETING', value: 'hello' }] } },
    }));
    const fin = await master.waitState('t-echo', ST.TASK_FINISHED);
    assert.deepEqual(master.states('t-echo'), ['STARTING', 'RUNNING', 'FINISHED']);
    assert.equal(fin.exitCode, 0);
    assert.equal(fin.agentId?.value, agent.agentId);
    assert.equal(fin.executorId?.value, 't-echo');
    assert.equal(fin.uuid?.length, 16);
    const runs = path.join(workDir, 'agents', agent.agentId!, 'frameworks', 'fw-1', 'executors', 't-echo', 'runs');
    const files = new FilesClient(agent.address);
    try {
      const out = await files.read({ frameworkId: { value: 'fw-1' }, executorId: { value: 't-echo' }, path: 'stdout' });
      assert.equal(Buffer.from(out.data).toString(), 'hi\n');
      const env = Object.fromEntries(Buffer.from((await files.read({ frameworkId: { value: 'fw-1' }, executorId: { value: 't-echo' }, path: 'env.txt' })).data).toString().trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      assert.equal(env.AGORA_TASK_ID, 't-echo');
      assert.equal(env.AGORA_FRAMEWORK_ID, 'fw-1');
      assert.equal(env.AGORA_AGENT_ID, agent.agentId);
      assert.equal(env.AGORA_EXECUTOR_ID, 't-echo');
      assert.ok(env.AGORA_SANDBOX?.startsWith(runs), env.AGORA_SANDBOX);
      assert.equal(env.PWD, env.AGORA_SANDBOX);
      assert.equal(env.PORT0, '31002');
      assert.equal(env.PORT1, '31003');
      assert.equal(env.PORTS, '31002,31003');
      assert.equal(env.GREETING, 'hello');
      assert.ok(env.HOST);
      const listing = await files.browse({ frameworkId: { value: 'fw-1' }, executorId: { value: 't-echo' }, path: '' });
      assert.deepEqual(listing.entries.map((e) => e.path), ['env.txt', 'stderr', 'stdout']);
    } finally {
      files.close();
    }
    // Acknowledged terminal tasks are forgotten.
    await master.waitFor('task forgotten', () => agent.taskCount === 0);
  } finally {
    await cleanup();
  }
});

test('exit 3 → TASK_FAILED with exit_code 3; a missing executable → FAILED with the reason', async () => {
  const { master, cleanup } = await setup();
  try {
    master.run(commandTask('t-fail', 'exit 3'));
    const failed = await master.waitState('t-fail', ST.TASK_FAILED);
    assert.equal(failed.exitCode, 3);
    assert.equal(failed.message, 'exited with code 3');
    master.run(commandTask('t-noexec', '/no/such/binary', { command: { value: '/no/such/binary', shell: false } }));
    const nx = await master.waitState('t-noexec', ST.TASK_FAILED);
    assert.match(nx.message ?? '', /ENOENT/);
    assert.equal(nx.reason, TaskStatusReason.REASON_CONTAINER_LAUNCH_FAILED);
    master.run(commandTask('t-argv', '/bin/sh', { command: { value: '/bin/sh', shell: false, arguments: ['sh', '-c', 'exit 7'] } }));
    assert.equal((await master.waitState('t-argv', ST.TASK_FAILED)).exitCode, 7);
  } finally {
    await cleanup();
  }
});

test('kill ends the whole process group (a child sleep too) with TASK_KILLED', async () => {
  const { master, agent, workDir, cleanup } = await setup();
  try {
    master.run(commandTask('t-kill', 'sleep 300 & echo $! > child.pid; wait'));
    await master.waitState('t-kill', ST.TASK_RUNNING);
    const sandbox = path.join(workDir, 'agents', agent.agentId!, 'frameworks', 'fw-1', 'executors', 't-kill', 'runs');
    const pidFile = await master.waitFor('child pid', () => {
      try {
        const dir = path.join(sandbox, readdir(sandbox)[0]!);
        const txt = readFileSync(path.join(dir, 'child.pid'), 'utf8').trim();
        return txt ? Number(txt) : undefined;
      } catch { return undefined; }
    });
    assert.ok(alive(pidFile));
    master.kill('t-kill');
    const killed = await master.waitState('t-kill', ST.TASK_KILLED);
    assert.match(killed.message ?? '', /killed/);
    await master.waitFor('child gone', () => !alive(pidFile), 2000);
  } finally {
    await cleanup();
  }
});

test('a task trapping SIGTERM is SIGKILLed after its grace period', async () => {
  const { master, cleanup } = await setup();
  try {
    master.run(commandTask('t-trap', "trap 'echo got TERM' TERM; while true; do sleep 0.05; done"));
    await master.waitState('t-trap', ST.TASK_RUNNING);
    await sleep(100); // let the shell install its trap
    const t0 = Date.now();
    master.kill('t-trap', 0.5);
    const killed = await master.waitState('t-trap', ST.TASK_KILLED, 4000);
    const took = Date.now() - t0;
    assert.ok(took >= 450, `killed after ${took} ms, before its 0.5 s grace`);
    assert.ok(took < 2500, `took ${took} ms`);
    assert.match(killed.message ?? '', /SIGKILL/);
    // TASK_KILLING is sent only to frameworks with that capability.
    master.run(commandTask('t-killing', 'sleep 30'), 'fw-2', [3]);
    await master.waitState('t-killing', ST.TASK_RUNNING);
    master.kill('t-killing', 1, 'fw-2');
    await master.waitState('t-killing', ST.TASK_KILLED);
    assert.deepEqual(master.states('t-killing'), ['STARTING', 'RUNNING', 'KILLING', 'KILLED']);
  } finally {
    await cleanup();
  }
});

test('unknown task kill → TASK_LOST; unacknowledged updates are retried and stop after ACKNOWLEDGE', async () => {
  const { master, agent, cleanup } = await setup({ statusUpdateRetryMs: 100, statusUpdateRetryMaxMs: 200 });
  try {
    master.kill('nope');
    const lost = await master.waitState('nope', ST.TASK_LOST);
    assert.equal(lost.reason, TaskStatusReason.REASON_TASK_UNKNOWN);
    master.autoAck = false;
    master.run(commandTask('t-retry', 'true'));
    await master.waitState('t-retry', ST.TASK_FINISHED);
    await master.waitFor('retries', () => master.states('t-retry').length >= 9);
    const seq = master.states('t-retry');
    assert.deepEqual(seq.slice(0, 6), ['STARTING', 'RUNNING', 'FINISHED', 'STARTING', 'RUNNING', 'FINISHED'], 'resent in order');
    assert.equal(agent.taskCount, 1, 'kept until acknowledged');
    const first = new Map<string, typeof master.updates[number]['status']>();
    for (const u of master.updates) if (u.status.taskId?.value === 't-retry') first.set(Buffer.from(u.status.uuid!).toString('hex'), u.status);
    assert.equal(first.size, 3, 'retries carry the same uuids');
    for (const s of first.values()) master.ack('fw-1', s);
    await master.waitFor('forgotten', () => agent.taskCount === 0);
    const n = master.states('t-retry').length;
    await sleep(500);
    assert.equal(master.states('t-retry').length, n, 'no retries after ACKNOWLEDGE');
  } finally {
    await cleanup();
  }
});

test('after the stream drops the agent re-registers with its tasks and re-sends unacknowledged updates', async () => {
  const { master, agent, cleanup } = await setup({ reconnectMinMs: 50, reconnectMaxMs: 100 });
  try {
    master.autoAck = false;
    master.run(commandTask('t-long', 'sleep 30'));
    await master.waitState('t-long', ST.TASK_RUNNING);
    master.dropStream();
    await master.waitFor('re-registration', () => master.registrations.length >= 2, 5000);
    const reg = master.registrations[1]!;
    assert.equal(reg.agentInfo?.id?.value, agent.agentId);
    assert.equal(reg.tasks?.length, 1);
    assert.equal(reg.tasks?.[0]?.taskId?.value, 't-long');
    assert.equal(reg.tasks?.[0]?.state, ST.TASK_RUNNING);
    assert.equal(reg.tasks?.[0]?.statuses?.length, 2, 'STARTING and RUNNING still unacknowledged');
    assert.equal(reg.frameworks?.[0]?.id?.value, 'fw-1');
    await master.waitFor('resent', () => master.states('t-long').length >= 4);
    assert.deepEqual(master.states('t-long').slice(2, 4), ['STARTING', 'RUNNING']);
    // The master process goes away and comes back on the same port.
    const port = Number(master.address.split(':')[1]);
    await master.stop();
    await sleep(200);
    await master.start(port);
    await master.waitFor('re-registration after a master restart', () => master.registrations.length >= 3, 8000);
    assert.equal(master.registrations[2]?.tasks?.[0]?.taskId?.value, 't-long');
  } finally {
    await cleanup();
  }
});

test('a list of masters is tried in turn', async () => {
  const dead = new FakeMaster();
  await dead.start();
  const deadAddress = dead.address;
  await dead.stop();
  const master = await new FakeMaster().start();
  const workDir = tempDir();
  const agent = await startAgent({ master: [deadAddress, master.address], port: 0, workDir, resources: 'cpus:1;mem:64;disk:10', logger: silentLogger(), reconnectMinMs: 20 });
  try {
    assert.equal(agent.agentId, 'agent-fake-1');
  } finally {
    await agent.stop();
    await master.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
});

test('fetcher: data: URL and a file path land in the sandbox before the command; a bad URI fails the task', async () => {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'payload.txt'), 'from a file\n');
  const { master, cleanup } = await setup();
  try {
    master.run(commandTask('t-fetch', 'x', {
      command: {
        value: './hello.sh && cat payload.txt',
        uris: [
          { value: `data:text/plain;base64,${Buffer.from('#!/bin/sh\necho from data\n').toString('base64')}`, outputFile: 'hello.sh', executable: true },
          { value: path.join(dir, 'payload.txt') },
        ],
      },
    }));
    await master.waitState('t-fetch', ST.TASK_FINISHED);
    const files = new FilesClient((await master.waitFor('x', () => master.registrations[0]?.agentInfo?.address))!);
    try {
      const out = await files.read({ frameworkId: { value: 'fw-1' }, executorId: { value: 't-fetch' }, path: 'stdout' });
      assert.equal(Buffer.from(out.data).toString(), 'from data\nfrom a file\n');
    } finally {
      files.close();
    }
    master.run(commandTask('t-fetch-bad', 'true', { command: { value: 'true', uris: [{ value: '/no/such/file' }] } }));
    const failed = await master.waitState('t-fetch-bad', ST.TASK_FAILED);
    assert.equal(failed.reason, TaskStatusReason.REASON_FETCH_FAILED);
    assert.match(failed.message ?? '', /cannot fetch '\/no\/such\/file'/);
    master.run(commandTask('t-fetch-esc', 'true', { command: { value: 'true', uris: [{ value: 'data:,x', outputFile: '../escape' }] } }));
    assert.match((await master.waitState('t-fetch-esc', ST.TASK_FAILED)).message ?? '', /would leave the sandbox/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await cleanup();
  }
});

test('Files.Read and Browse refuse ../, absolute paths and symlinks out of the sandbox', async () => {
  const { master, agent, cleanup } = await setup();
  const files = new FilesClient(agent.address);
  try {
    master.run(commandTask('t-files', 'echo secret > ../../../../../outside.txt; ln -s /etc/passwd link; ln -s / rootlink; mkdir sub; ln -s sub inlink; echo ok'));
    await master.waitState('t-files', ST.TASK_FINISHED);
    const req = (p: string) => files.read({ frameworkId: { value: 'fw-1' }, executorId: { value: 't-files' }, path: p });
    await assert.rejects(req('../../../../../outside.txt'), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /may not contain '\.\.'/.test(e.details));
    await assert.rejects(req('/etc/passwd'), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /relative/.test(e.details));
    await assert.rejects(req('link'), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /outside the sandbox/.test(e.details));
    await assert.rejects(req('missing'), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
    await assert.rejects(files.read({ frameworkId: { value: '..' }, executorId: { value: 't-files' }, path: 'stdout' }), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT);
    const part = await files.read({ frameworkId: { value: 'fw-1' }, executorId: { value: 't-files' }, path: 'stdout', offset: 1, length: 1 });
    assert.equal(Buffer.from(part.data).toString(), 'k');
    assert.equal(part.size, 3);
    // Browse: a link out of the sandbox cannot be listed, and listing its directory shows the
    // link only (not the size or kind of what it points to); a link inside is followed.
    const browse = (p: string) => files.browse({ frameworkId: { value: 'fw-1' }, executorId: { value: 't-files' }, path: p });
    await assert.rejects(browse('rootlink'), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /outside the sandbox/.test(e.details));
    await assert.rejects(browse('rootlink/etc'), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT && /outside the sandbox/.test(e.details));
    await assert.rejects(browse('../..'), (e: grpc.ServiceError) => e.code === grpc.status.INVALID_ARGUMENT);
    const listing = new Map((await browse('')).entries.map((e) => [e.path, e]));
    assert.equal(listing.get('link')?.size, 0, 'the size of /etc/passwd does not show through the link');
    assert.equal(listing.get('rootlink')?.directory, false, 'a link to / is not shown as a directory');
    assert.equal(listing.get('inlink')?.directory, true, 'a link inside the sandbox is followed');
    assert.deepEqual((await browse('inlink')).entries, []);
  } finally {
    files.close();
    await cleanup();
  }
});

test('a task group: each task its own process; one failing kills the others', async () => {
  const { master, cleanup } = await setup();
  try {
    master.send({
      type: 3 /* RUN_TASK_GROUP */,
      runTaskGroup: {
        framework: { id: { value: 'fw-1' }, name: 'g' },
        executor: { executorId: { value: 'group-1' } },
        taskGroup: { tasks: [commandTask('g-sleep', 'sleep 30'), commandTask('g-fail', 'sleep 0.2; exit 2')] },
      },
    });
    const f = await master.waitState('g-fail', ST.TASK_FAILED);
    assert.equal(f.exitCode, 2);
    assert.equal(f.executorId?.value, 'group-1');
    await master.waitState('g-sleep', ST.TASK_KILLED);
  } finally {
    await cleanup();
  }
});

test('stop() kills the running tasks', async () => {
  const { master, agent, workDir, cleanup } = await setup();
  try {
    master.run(commandTask('t-stop', 'echo $$ > pid; exec sleep 300'));
    await master.waitState('t-stop', ST.TASK_RUNNING);
    const runs = path.join(workDir, 'agents', agent.agentId!, 'frameworks', 'fw-1', 'executors', 't-stop', 'runs');
    const pid = await master.waitFor('pid', () => {
      try { return Number(readFileSync(path.join(runs, readdir(runs)[0]!, 'pid'), 'utf8')) || undefined; } catch { return undefined; }
    });
    await agent.stop();
    assert.equal(alive(pid), false);
  } finally {
    await cleanup();
  }
});

import { readdirSync as readdir } from 'node:fs';

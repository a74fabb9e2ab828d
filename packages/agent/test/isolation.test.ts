// Isolation on the agent with real processes: cgroups survive an agent restart for tasks that
// survive it and are removed for tasks that did not; the rlimits fallback holds memory too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { FilesClient, TaskState, resources as R, silentLogger } from '@agora/core';
import { startAgent } from '@agora/agent';
import { FakeMaster, commandTask } from './fake-master.js';
import { setup, sleep, tempDir } from './helpers.js';

const CGROUPS = existsSync('/sys/fs/cgroup/memory') && process.getuid?.() === 0;

/** The memory cgroup directory a process is in. */
function memoryCgroupOf(pid: number): string {
  const rel = /^\d+:memory:(.*)$/m.exec(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.[1] ?? '/';
  return path.join('/sys/fs/cgroup/memory', rel);
}

function procPid(workDir: string, taskId: string): number {
  const lines = readFileSync(path.join(workDir, 'meta', 'checkpoint.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; task?: string; pid?: number });
  return lines.find((r) => r.t === 'proc' && r.task === taskId)!.pid!;
}

test('after kill -9 of the agent: a surviving task keeps its cgroup, a task that ended meanwhile loses it', { skip: !CGROUPS && 'needs root and cgroup v1' }, async () => {
  const master = await new FakeMaster().start();
  const workDir = tempDir();
  const fixture = new URL('./fixtures/agent-process.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, master.address, workDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let again: Awaited<ReturnType<typeof startAgent>> | undefined;
  try {
    await master.waitFor('child agent registered', () => master.registrations.length >= 1, 20_000);
    const mem = { resources: R.parseResources('cpus:0.2;mem:32') };
    master.run(commandTask('stays', 'sleep 60', mem));
    master.run(commandTask('ends', 'sleep 0.7', mem));
    await master.waitFor('both running', () => ['stays', 'ends'].every((t) => master.states(t).includes('RUNNING')), 10_000);
    await master.waitFor('pids checkpointed', () => { try { return procPid(workDir, 'stays') > 0 && procPid(workDir, 'ends') > 0; } catch { return false; } }, 5_000);
    const staysCg = memoryCgroupOf(procPid(workDir, 'stays'));
    const endsCg = memoryCgroupOf(procPid(workDir, 'ends'));
    assert.notEqual(staysCg, endsCg, 'a cgroup per task');
    assert.equal(Number(readFileSync(path.join(staysCg, 'memory.limit_in_bytes'), 'utf8')), 32 * 1024 * 1024, 'limited to its mem');
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await sleep(1200);
    assert.ok(existsSync(endsCg), 'nobody removed the cgroup while the agent was down');

    again = await startAgent({ master: master.address, workDir, port: 0, resources: 'cpus:4;mem:1024;disk:100', logger: silentLogger() });
    await master.waitState('ends', TaskState.TASK_FINISHED, 5_000);
    assert.ok(!existsSync(endsCg), 'the ended task\'s cgroup was removed at recovery');
    assert.ok(existsSync(staysCg), 'the surviving task keeps its cgroup');
    assert.match(readFileSync(path.join(staysCg, 'cgroup.procs'), 'utf8'), new RegExp(`^${procPid(workDir, 'stays')}$`, 'm'), 'and is still in it');
    master.kill('stays', 1);
    await master.waitState('stays', TaskState.TASK_KILLED, 5_000);
    await master.waitFor('cgroup of the killed task removed', () => !existsSync(staysCg), 5_000);
  } finally {
    child.kill('SIGKILL');
    await again?.stop();
    await master.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
});

test('--isolation rlimits: the agent says so, and a task cannot allocate past its mem', async () => {
  const { master, agent, cleanup } = await setup({ isolation: 'rlimits' });
  try {
    assert.match(agent.isolationSummary ?? '', /^isolation: rlimits/);
    master.run(commandTask('hog', `python3 -c 'b = bytearray(300 * 1024 * 1024); print("allocated")'`, { resources: R.parseResources('cpus:0.2;mem:64') }));
    const failed = await master.waitState('hog', TaskState.TASK_FAILED, 20_000);
    assert.equal(failed.exitCode, 1);
    const files = new FilesClient(agent.address);
    try {
      const read = async (p: string) => Buffer.from((await files.read({ frameworkId: { value: 'fw-1' }, executorId: { value: 'hog' }, path: p })).data).toString();
      assert.match(await read('stderr'), /MemoryError/);
      assert.doesNotMatch(await read('stdout'), /allocated/);
    } finally {
      files.close();
    }
  } finally {
    await cleanup();
  }
});

test('bad isolation options are refused with a clear message', async () => {
  await assert.rejects(startAgent({ master: '127.0.0.1:1', workDir: tempDir(), isolation: 'docker' as never }), /option isolation must be auto, cgroups, rlimits or none/);
  await assert.rejects(startAgent({ master: '127.0.0.1:1', workDir: tempDir(), dynamicUidRange: '5-1' }), /dynamicUidRange must look like 61000-61999/);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, TaskState, silentLogger } from '@agora/core';
import type { ProcessExit, ProcessSpec, RunningProcess, TaskRunner } from '@agora/agent';
import { commandTask } from './fake-master.js';
import { setup } from './helpers.js';

/** A runner that starts nothing: records specs and signals; the test decides when processes exit. */
class FakeRunner implements TaskRunner {
  readonly started: ProcessSpec[] = [];
  readonly signals: string[] = [];
  private exits: Array<(e: ProcessExit) => void> = [];
  async start(spec: ProcessSpec): Promise<RunningProcess> {
    this.started.push(spec);
    let exit!: (e: ProcessExit) => void;
    const exited = new Promise<ProcessExit>((r) => { exit = r; });
    this.exits.push(exit);
    const pid = 10_000 + this.started.length;
    return { pid, exited, signalGroup: (sig) => { this.signals.push(`${pid}:${sig}`); return true; } };
  }
  exit(i: number, e: ProcessExit): void {
    this.exits[i]?.(e);
  }
}

test('with a fake runner and clock: the kill grace period is exact and the group is SIGKILLed after exit', async () => {
  const runner = new FakeRunner();
  const clock = new FakeClock(Date.now());
  const { master, cleanup } = await setup({ runner, clock, logger: silentLogger() });
  try {
    master.run(commandTask('f-1', 'serve', { killPolicy: { gracePeriodSeconds: 10 } }));
    await master.waitState('f-1', TaskState.TASK_RUNNING);
    assert.deepEqual(runner.started[0]?.args, ['-c', 'serve']);
    assert.match(runner.started[0]?.stdoutPath ?? '', /executors\/f-1\/runs\/[^/]+\/stdout$/);
    master.kill('f-1');
    await master.waitFor('SIGTERM', () => runner.signals.length === 1);
    assert.deepEqual(runner.signals, ['10001:SIGTERM']);
    clock.advance(9_999);
    assert.equal(runner.signals.length, 1, 'no SIGKILL before the task policy grace (10 s)');
    clock.advance(1);
    assert.deepEqual(runner.signals, ['10001:SIGTERM', '10001:SIGKILL']);
    runner.exit(0, { code: null, signal: 'SIGKILL' });
    const killed = await master.waitState('f-1', TaskState.TASK_KILLED);
    assert.equal(killed.exitCode, 137);
    assert.equal(runner.signals.at(-1), '10001:SIGKILL', 'the group is killed once the main process is gone');
  } finally {
    runner.exit(0, { code: 0, signal: null });
    await cleanup();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { AgentCallType, AgentEventType, ExecutorInfoType, TaskState, TaskStatusReason, TaskStatusSource } from '@agora/core';
import { commandTask } from './fake-master.js';
import { setup } from './helpers.js';

const EXECUTOR = fileURLToPath(new URL('./fixtures/echo-executor.mjs', import.meta.url));
const executorInfo = (id: string, command = `exec "${process.execPath}" "${EXECUTOR}"`) => ({
  type: ExecutorInfoType.CUSTOM,
  executorId: { value: id },
  command: { value: command },
});

test('a custom executor subscribes, receives LAUNCH, and its UPDATEs reach the master; messages flow both ways', async () => {
  const { master, agent, cleanup } = await setup();
  try {
    master.run(commandTask('c-1', '', { command: null, executor: executorInfo('exec-1') }));
    const running = await master.waitState('c-1', TaskState.TASK_RUNNING, 10_000);
    assert.equal(running.source, TaskStatusSource.SOURCE_EXECUTOR);
    assert.equal(running.executorId?.value, 'exec-1');
    assert.equal(running.agentId?.value, agent.agentId);
    assert.equal(running.message, 'running in custom executor');
    await master.waitState('c-1', TaskState.TASK_FINISHED);
    // A second task goes to the same executor process (already subscribed).
    master.run(commandTask('c-2', '', { command: null, executor: executorInfo('exec-1'), data: Buffer.from('stay') }));
    await master.waitState('c-2', TaskState.TASK_RUNNING);
    master.send({ type: AgentEventType.FRAMEWORK_MESSAGE, frameworkMessage: { frameworkId: { value: 'fw-1' }, executorId: { value: 'exec-1' }, data: Buffer.from('ping') } });
    const msg = await master.waitFor('executor message', () => master.calls.find((c) => c.type === AgentCallType.EXECUTOR_MESSAGE));
    assert.equal(Buffer.from(msg.executorMessage?.data ?? []).toString(), 'echo:ping');
    assert.equal(msg.executorMessage?.executorId?.value, 'exec-1');
    master.kill('c-2');
    const killed = await master.waitState('c-2', TaskState.TASK_KILLED);
    assert.equal(killed.message, 'killed by executor');
    // The executor's stdout is in its sandbox.
    master.run(commandTask('c-3', '', { command: null, executor: executorInfo('exec-1'), data: Buffer.from('stay') }));
    await master.waitState('c-3', TaskState.TASK_RUNNING);
    master.send({ type: AgentEventType.SHUTDOWN_EXECUTOR, shutdownExecutor: { frameworkId: { value: 'fw-1' }, executorId: { value: 'exec-1' } } });
    await master.waitState('c-3', TaskState.TASK_KILLED);
  } finally {
    await cleanup();
  }
});

test('an executor that exits fails its tasks with REASON_EXECUTOR_TERMINATED; one that never subscribes times out', async () => {
  const { master, cleanup } = await setup({ executorRegistrationTimeoutSeconds: 0.5 });
  try {
    master.run(commandTask('c-exit', '', { command: null, executor: executorInfo('exec-exit', 'exit 4') }));
    const failed = await master.waitState('c-exit', TaskState.TASK_FAILED);
    assert.equal(failed.reason, TaskStatusReason.REASON_EXECUTOR_TERMINATED);
    assert.match(failed.message ?? '', /exited with code 4/);
    master.run(commandTask('c-mute', '', { command: null, executor: executorInfo('exec-mute', 'sleep 30') }));
    const timedOut = await master.waitState('c-mute', TaskState.TASK_FAILED, 5000);
    assert.equal(timedOut.reason, TaskStatusReason.REASON_EXECUTOR_REGISTRATION_TIMEOUT);
  } finally {
    await cleanup();
  }
});

// Secrets: an environment variable marked secret reaches the
// task, but its value never appears in the master's operator answers (GetState, GetTasks), in
// the master's or the agent's logs (at debug level), nor in any file another task can read.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { FilesClient, OperatorClient } from '@agora/core';
import { agora, freePort, stopAll, tempDir } from './helpers/processes.js';
import { TestScheduler } from './helpers/scheduler.js';

after(stopAll);

const SECRET = 'tok-7f3c9a1e5b2d8c4f';
const SECRET_SHA256 = createHash('sha256').update(SECRET).digest('hex');

test('a secret environment value reaches its task and nothing else', async () => {
  const dir = tempDir('agora-secrets-');
  const port = await freePort();
  const local = agora(['local', '--port', String(port), '--agent-port', '0', '--no-apps', '--no-cron', '--work-dir', join(dir, 'agora'),
    '--resources', 'cpus:2;mem:2048;disk:1000;ports:[33100-33150]'], { AGORA_LOG_LEVEL: 'debug' });
  const web = (await local.waitFor(/web ui on (http:\/\/\S+?)\/?\n/, 30_000))[1];
  await local.waitFor(/agent listening on/, 30_000);
  const master = `127.0.0.1:${port}`;
  const sched = new TestScheduler(master, 'secrets');
  const frameworkId = await sched.driver.start();
  const checkpoint = join(dir, 'agora', 'agent', 'meta', 'checkpoint.jsonl');
  sched.submit(
    // The command proves it got the value by its digest: the value itself is not in the command
    // line, which the master shows (as it shows any command).
    { name: 'uses-secret', command: `[ "$(printf %s "$API_TOKEN" | sha256sum | cut -c1-64)" = "${SECRET_SHA256}" ] && echo secret arrived; sleep 30`, secrets: { API_TOKEN: SECRET }, killGracePeriodSeconds: 0 },
  );
  await sched.waitUntil(() => sched.state('uses-secret') === 'TASK_RUNNING', 20_000, 'task running');
  // Another task, as another unprivileged user, tries the agent's checkpoint (which holds TaskInfos).
  sched.submit({ name: 'peeker', command: `cat '${checkpoint}' > /dev/null; echo "cat exited $?"` });
  await sched.waitTerminal(['peeker'], 20_000);

  const op = new OperatorClient(master);
  try {
    const agentAddress = (await op.getAgents()).agents[0]?.agentInfo?.address ?? '';
    const files = new FilesClient(agentAddress);
    const read = async (executorId: string, path: string) =>
      Buffer.from((await files.read({ frameworkId: { value: frameworkId }, executorId: { value: executorId }, path })).data).toString();
    try {
      for (let i = 0; i < 100 && !(await read('uses-secret', 'stdout').catch(() => '')).includes('secret arrived'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(await read('uses-secret', 'stdout'), /secret arrived/, 'the task sees the value');
      assert.match(await read('peeker', 'stdout'), /cat exited 1/, 'another task cannot read the checkpoint');
    } finally {
      files.close();
    }
    const state = JSON.stringify((await op.getState({})).toJSON());
    const tasks = JSON.stringify((await op.getTasks({ includeCompleted: true })).toJSON());
    assert.match(state, /uses-secret/, 'the task is in the state');
    assert.ok(!state.includes(SECRET), 'GetState does not show the secret');
    assert.ok(!tasks.includes(SECRET), 'GetTasks does not show the secret');
    // The HTTP API, which is also all the web UI sees: /state, /tasks and the task itself.
    for (const path of ['/state?taskLimit=1000', '/tasks?limit=1000', '/tasks/uses-secret']) {
      const res = await fetch(`${web}${path}`);
      const body = await res.text();
      assert.equal(res.status, 200, `${path}: ${body}`);
      assert.match(body, /uses-secret/, `${path} shows the task`);
      assert.ok(!body.includes(SECRET), `${path} does not show the secret`);
    }
  } finally {
    op.close();
  }
  sched.driver.kill('uses-secret');
  await sched.waitTerminal(['uses-secret'], 20_000);
  await sched.driver.stop();
  const logs = local.output();
  assert.match(logs, /"level":20/, 'debug logging was on');
  assert.match(logs, /uses-secret/, 'the logs talk about the task');
  assert.ok(!logs.includes(SECRET), 'the master\'s and the agent\'s logs never show the secret');
});

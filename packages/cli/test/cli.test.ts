/**
 * The `agora` binary as a user runs it: help, and one clear line (never a stack trace) for
 * every kind of bad input. These need no cluster.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, truncateSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agora, freePort } from './helpers.js';

function assertOneLineError(r: { code: number | null; stderr: string; stdout: string }, pattern: RegExp): void {
  assert.notEqual(r.code, 0, `exit code should be non-zero; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.ok(lines.length <= 2, `at most two lines on stderr, got:\n${r.stderr}`);
  assert.match(lines[0] ?? '', /^agora: /);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
}

test('--help lists every command', async () => {
  const r = await agora(['--help']);
  assert.equal(r.code, 0, r.stderr);
  for (const c of ['master', 'agent', 'local', 'task', 'state', 'agents', 'frameworks', 'tasks']) {
    assert.match(r.stdout, new RegExp(`^\\s+${c}\\s`, 'm'), `help should list '${c}'\n${r.stdout}`);
  }
  const topic = await agora(['task', '--help']);
  assert.match(topic.stdout, /task run/);
  const t = await agora(['task', 'run', '--help']);
  assert.equal(t.code, 0);
  for (const f of ['--cpus', '--mem', '--file', '--env', '--task-file', '--master', '--json']) assert.ok(t.stdout.includes(f), `task run --help shows ${f}`);
});

/** Runs the cases side by side (each is a process start) and checks each. */
async function expectErrors(cases: [string[], RegExp, Record<string, string>?][]): Promise<void> {
  const results = await Promise.all(cases.map(([args, , env]) => agora(args, env)));
  results.forEach((r, i) => assertOneLineError(r, (cases[i] as [string[], RegExp])[1]));
}

test('an unknown flag is one clear line', async () => {
  await expectErrors([
    [['agents', '--bogus'], /Nonexistent flag: --bogus/],
    [['task', 'run', '--cpus', 'many', '--', 'true'], /bad --cpus: 'many' is not a non-negative number/],
    [['master', '--port', '70000'], /bad --port/],
  ]);
});

test('an unknown command is one clear line', async () => {
  assertOneLineError(await agora(['frobnicate']), /command frobnicate not found/);
});

test('bad --resources and --attributes are one clear line', async () => {
  await expectErrors([
    [['agent', '--resources', 'cpus:lots;mem:1'], /bad --resources 'cpus:lots;mem:1': resource 'cpus' has a value 'lots' that is not a number/],
    [['agent', '--resources', 'ports:[5-1]'], /bad --resources/],
    [['local', '--resources', 'cpus=4'], /bad --resources 'cpus=4'/],
    [['agent', '--attributes', 'rack'], /bad --attributes/],
    [['agent', '--master', 'nohost'], /bad --master/],
  ]);
});

test('an unreachable master is one clear line, fast', async () => {
  const port = await freePort();
  const master = `127.0.0.1:${port}`;
  const commands = [['state'], ['agents'], ['frameworks'], ['tasks'], ['agents', '--json'], ['task', 'run', '--cpus', '0.1', '--mem', '8']];
  const refused = new RegExp(`cannot reach the master at ${master} \\(connection refused\\)`);
  const cases: [string[], Record<string, string>?][] = [
    // Flags before '--': what follows it is the task's command line.
    ...commands.map((args): [string[]] => [[...args, '--master', master, ...(args[0] === 'task' ? ['--', 'true'] : [])]]),
    // AGORA_MASTER works as --master.
    [['state'], { AGORA_MASTER: master }],
  ];
  // One at a time, each timed on its own: the CLI must give up within its 3 s deadline (plus
  // its start-up), not hang until a connect timeout; parallel runs would time CPU contention.
  for (const [args, env] of cases) {
    const started = Date.now();
    assertOneLineError(await agora(args, env), refused);
    const took = Date.now() - started;
    assert.ok(took < 8_000, `agora ${args.join(' ')} gave up after ${took} ms`);
  }
});

test('task run: bad -f, --env and --file are refused clearly', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agora-cli-'));
  try {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ "id": "t1", ');
    const arr = join(dir, 'arr.json');
    writeFileSync(arr, '[1]');
    const neg = join(dir, 'neg.json');
    writeFileSync(neg, '{"cmd": "true", "resources": {"mem": -1}}');
    const big = join(dir, 'big.bin');
    writeFileSync(big, '');
    truncateSync(big, 9 << 20);
    await expectErrors([
      [['task', 'run', '-f', bad], /bad\.json is not valid JSON/],
      [['task', 'run', '-f', arr], /must hold a JSON object/],
      [['task', 'run', '-f', neg], /resources\.mem must be a non-negative number/],
      [['task', 'run', '-f', join(dir, 'missing.json')], /cannot read .*missing\.json: no such file/],
      [['task', 'run', '--env', 'NOEQUALS', '--', 'true'], /bad --env 'NOEQUALS'/],
      [['task', 'run', '--file', big, '--', 'true'], /over the 8 MiB limit/],
      [['task', 'run', '--name', 'x'], /no command to run/],
      // The frameworks' -f definitions are read the same way, before any API is called.
      [['app', 'deploy', '-f', bad, '--api', 'http://127.0.0.1:1'], /bad\.json is not valid JSON/],
      [['job', 'add', '-f', bad, '--api', 'http://127.0.0.1:1'], /bad\.json is not valid JSON/],
      [['job', 'add', '-f', join(dir, 'missing.json')], /cannot read .*missing\.json/],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('task run: the spec merges -f with flags and quotes argv', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agora-cli-'));
  try {
    const file = join(dir, 'task.json');
    writeFileSync(file, JSON.stringify({ id: 'seed-1', cmd: 'echo from-file', resources: { mem: 256, cpu: 0.5 }, role: 'eng' }));
    const r = await agora(['task', 'run', '--dry-run', '-f', file, '--mem', '64', '--env', 'A=1']);
    assert.equal(r.code, 0, r.stderr);
    const spec = JSON.parse(r.stdout);
    assert.equal(spec.taskId, 'seed-1');
    assert.equal(spec.cpus, 0.5);
    assert.equal(spec.mem, 64);
    assert.equal(spec.role, 'eng');
    assert.deepEqual(spec.command, { value: 'echo from-file', shell: true });
    assert.deepEqual(spec.env, { A: '1' });

    const q = JSON.parse((await agora(['task', 'run', '--dry-run', '--name', 'splitter', '--cores', '2', '--', 'sh', '-c', 'echo out; exit 3'])).stdout);
    assert.equal(q.command.value, "sh -c 'echo out; exit 3'");
    assert.equal(q.cpus, 2);
    assert.match(q.taskId, /^splitter\./);

    const script = join(dir, 'run.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n', { mode: 0o755 });
    const f = JSON.parse((await agora(['task', 'run', '--dry-run', '--no-shell', '--file', script, '--', './run.sh', 'a b'])).stdout);
    assert.deepEqual(f.command, { value: './run.sh', arguments: ['./run.sh', 'a b'], shell: false });
    assert.equal(f.uris[0].outputFile, 'run.sh');
    assert.equal(f.uris[0].executable, true);
    assert.equal(Buffer.from(f.uris[0].value.split(',')[1], 'base64').toString(), '#!/bin/sh\necho hi\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chooseLogFormat, resolveLogLevel } from '../src/log.js';

test('logs are JSON unless stderr is a terminal; AGORA_LOG_FORMAT decides when set', () => {
  assert.equal(chooseLogFormat(false, {}), 'json');
  assert.equal(chooseLogFormat(true, {}), 'pretty');
  assert.equal(chooseLogFormat(true, { AGORA_LOG_FORMAT: 'json' }), 'json');
  assert.equal(chooseLogFormat(false, { AGORA_LOG_FORMAT: 'PRETTY' }), 'pretty');
  // Anything else is ignored rather than fatal: the terminal test decides.
  assert.equal(chooseLogFormat(false, { AGORA_LOG_FORMAT: 'xml' }), 'json');
});

test('the level comes from the argument, else AGORA_LOG_LEVEL, else info; unknown ones are named', () => {
  assert.equal(resolveLogLevel(undefined, {}), 'info');
  assert.equal(resolveLogLevel(undefined, { AGORA_LOG_LEVEL: 'debug' }), 'debug');
  assert.equal(resolveLogLevel('WARN', { AGORA_LOG_LEVEL: 'debug' }), 'warn');
  assert.throws(() => resolveLogLevel('loud', {}), /unknown log level 'loud'; one of fatal, error, warn, info, debug, trace, silent/);
  assert.throws(() => resolveLogLevel(undefined, { AGORA_LOG_LEVEL: 'verbose' }), /from AGORA_LOG_LEVEL/);
});

/** Runs createLogger in a child whose stderr is a pipe, with the given environment. */
function logOnce(env: Record<string, string>): string {
  const code = "import { createLogger } from './packages/core/src/log.ts'; const l = createLogger('unit', process.env.LEVEL); l.info({ k: 1 }, 'hello'); l.debug('quiet');";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: new URL('../../..', import.meta.url).pathname, env: { ...process.env, AGORA_LOG_FORMAT: '', AGORA_LOG_LEVEL: '', ...env }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr;
}

test('a logger on a pipe writes one JSON object per line, at the chosen level', () => {
  const lines = logOnce({ LEVEL: 'info' }).trim().split('\n');
  assert.equal(lines.length, 1, lines.join('\n'));
  const rec = JSON.parse(lines[0] as string) as { level: number; name: string; msg: string; k: number };
  assert.deepEqual([rec.level, rec.name, rec.msg, rec.k], [30, 'unit', 'hello', 1]);
  assert.equal(logOnce({ LEVEL: 'debug' }).trim().split('\n').length, 2);
  // Forced pretty: human text, not JSON.
  const pretty = logOnce({ LEVEL: 'info', AGORA_LOG_FORMAT: 'pretty', NO_COLOR: '1' });
  assert.match(pretty, /INFO.*\(unit\).*hello/);
  assert.throws(() => JSON.parse(pretty.trim()));
});

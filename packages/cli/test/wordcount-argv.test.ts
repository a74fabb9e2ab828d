/**
 * `agora wordcount`'s fast path (bin/run.js → wordcount-argv.ts): it parses only plainly
 * well-formed arguments, exactly as the oclif command would, and hands everything else to
 * oclif — so help and parse errors look the same whichever path ran. No cluster needed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWordcountArgv } from '../src/wordcount-argv.js';
import { agora } from './helpers.js';

test('well-formed arguments are parsed as the oclif flags define them', () => {
  assert.deepEqual(parseWordcountArgv(['big.txt'], {}), { input: 'big.txt', top: 0, json: false });
  assert.deepEqual(
    parseWordcountArgv(['--master=h:1,h:2', 'big.txt', '--chunks', '8', '--top', '10', '--json', '--cpus', '0.5', '--mem=64', '--serve-host', '0.0.0.0', '--advertise-host', 'me'], {}),
    { input: 'big.txt', master: 'h:1,h:2', chunks: 8, top: 10, cpus: 0.5, mem: 64, serveHost: '0.0.0.0', advertiseHost: 'me', json: true },
  );
  assert.deepEqual(parseWordcountArgv(['x', '--chunk-size', '32MiB'], { AGORA_MASTER: 'm:5050' }), { input: 'x', master: 'm:5050', chunkSize: '32MiB', top: 0, json: false });
  // The flag wins over the environment, as in oclif.
  assert.equal(parseWordcountArgv(['x', '--master', 'a:1'], { AGORA_MASTER: 'm:5050' })?.master, 'a:1');
});

test('anything oclif might read differently or reject is left to oclif', () => {
  const declined: string[][] = [
    [], ['a', 'b'], ['--help', 'x'], ['x', '-h'], ['x', '--version'], ['x', '--nope'], ['x', '--'], ['-'],
    ['x', '--chunks', '0'], ['x', '--chunks', '1.5'], ['x', '--chunks', 'many'], ['x', '--top', '-1'], ['x', '--top'],
    ['x', '--chunks', '2', '--chunk-size', '1k'], ['x', '--json', '--json'], ['x', '--json=true'], ['x', '--no-json'],
    ['x', '--mem', 'lots'], ['x', '--cpus', '-2'], ['x', '--master', ''], ['x', '--master', '--json'], ['x', '--master'],
  ];
  for (const argv of declined) assert.equal(parseWordcountArgv(argv, {}), undefined, argv.join(' '));
  assert.equal(parseWordcountArgv(['x'], { AGORA_MASTER: ' ' }), undefined, 'empty AGORA_MASTER');
});

test('the agora binary: oclif help and parse errors, fast-path errors as one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agora-wc-argv-'));
  const file = join(dir, 'in.txt');
  writeFileSync(file, 'a b c\n');
  // Generous deadlines: each is a process start, on a machine that may be busy.
  const [help, zero, noMaster, missing] = await Promise.all([
    agora(['wordcount', '--help'], {}, 120_000),
    agora(['wordcount', file, '--chunks', '0'], {}, 120_000),
    agora(['wordcount', file, '--master', '127.0.0.1:1', '--top', '3'], {}, 120_000),
    agora(['wordcount', join(dir, 'missing.txt'), '--master', '127.0.0.1:1'], {}, 120_000),
  ]);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /USAGE[\s\S]*--chunk-size[\s\S]*--top/);
  assert.equal(zero.code, 2, zero.stderr);
  assert.equal(zero.stderr, 'agora: bad --chunks: Expected an integer greater than or equal to 1 but received: 0\n');
  assert.equal(noMaster.code, 1);
  assert.equal(noMaster.stderr, 'agora: cannot reach the master at 127.0.0.1:1 (connection refused)\n');
  // The input is reported before the master.
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^agora: .*missing\.txt: no such file\n$/);
});

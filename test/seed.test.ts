// Acceptance 5 of the wordcount issue: the seed's own flow on Agora. The seed's
// split_and_count.py is read from ../shared/seed/ (not copied into the repository), shipped into
// the sandbox with `agora task run --file`, together with its input, and run by python3; its
// per-chunk lines ("<file> has N words") appear on our stdout. Then the seed's JSON task shape
// (`-f task.json`: id, cmd, resources {mem, cpu}, role) runs the same.
//
// Seed quirk: as written (`python3 split_and_count.py input.txt`) the script calls
// os.listdir(os.path.dirname('input.txt')) = os.listdir('') and dies; `./input.txt` is what works.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agora, agoraRun, stopAll, tempDir, freePort } from './helpers/processes.js';

const SEED = new URL('../../shared/seed/split_and_count.py', import.meta.url).pathname;
let master = '';
let dir = '';

before(async () => {
  dir = tempDir('agora-seed-');
  const port = await freePort();
  const local = agora(['local', '--port', String(port), '--agent-port', '0', '--no-apps', '--no-cron', '--work-dir', join(dir, 'agora'), '--resources', 'cpus:2;mem:4096;disk:1000;ports:[33000-33050]']);
  await local.waitFor(/agent listening on/, 30_000);
  master = `127.0.0.1:${port}`;
  // 2500 lines → chunks of 1000 lines: input.txt.0.txt (1000), .1.txt (1000), .2.txt (500).
  writeFileSync(join(dir, 'input.txt'), Array.from({ length: 2500 }, (_, i) => `line ${i} has five words`).join('\n') + '\n');
});
after(stopAll);

test('the seed split_and_count.py runs through agora task run --file and prints per-chunk counts', { skip: !existsSync(SEED) && 'seed not found' }, async () => {
  const input = join(dir, 'input.txt');
  const { code, output } = await agoraRun(['task', 'run', '--master', master, '--name', 'splitter', '--cores', '1', '--mem', '1024',
    '--file', SEED, '--file', input, '--', 'python3 split_and_count.py ./input.txt']);
  assert.equal(code, 0, output);
  assert.match(output, /input\.txt\.0\.txt has 5000 words/);
  assert.match(output, /input\.txt\.1\.txt has 5000 words/);
  assert.match(output, /input\.txt\.2\.txt has 2500 words/);
  // Its quirk: the input itself ends in .txt, so it is counted too.
  assert.match(output, /input\.txt has 12500 words/);
});

test('the seed JSON task definition runs with agora task run -f', { skip: !existsSync(SEED) && 'seed not found' }, async () => {
  const taskFile = join(dir, 'task.json');
  writeFileSync(taskFile, JSON.stringify({ id: 'splitter-json', cmd: 'python3 split_and_count.py ./input.txt', resources: { mem: 1024, cpu: 1 }, role: '*' }));
  const { code, output } = await agoraRun(['task', 'run', '--master', master, '-f', taskFile, '--file', SEED, '--file', join(dir, 'input.txt')]);
  assert.equal(code, 0, output);
  assert.match(output, /input\.txt\.2\.txt has 2500 words/);
});

// Acceptance 1–4 of the wordcount issue on a real in-process cluster (startCluster): exact
// totals for 1, 2, 7 and 64 chunks on tricky text, --top against an independent count, a count
// task's process killed mid-run, edge inputs, and the `agora wordcount` binary's error lines.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type TestCluster } from '@agora/sdk';
import { runWordcount, serveFile } from '@agora/wordcount';
import { agoraRun, processAlive, stopAll, tempDir } from './helpers/processes.js';

let cluster: TestCluster;
let dir: string;
let tricky: string;
let independent: { words: number; lines: number; bytes: number; top: [string, number][] };

/** Independent counts by Python: bytes.split(), newlines, size, and a Counter's top 10 (count desc, bytes asc). */
function pythonCount(file: string): typeof independent {
  const script = [
    'import sys, json, collections',
    'b = open(sys.argv[1], "rb").read()',
    'w = b.split()',
    'c = collections.Counter(w)',
    'top = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:10]',
    'print(json.dumps({"words": len(w), "lines": b.count(b"\\n"), "bytes": len(b), "top": [[k.decode("utf-8", "replace"), n] for k, n in top]}))',
  ].join('\n');
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: "utf8", maxBuffer: 256 << 20 })) as typeof independent;
}

/** Text with multi-byte UTF-8, tabs, CRLF, runs of spaces, \v \f, long words; seeded. */
function trickyText(bytes: number): Buffer {
  let seed = 42;
  const rnd = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n; };
  const words = ['the', 'The', 'über', 'naïve', '中文', '字', 'Ω', '😀', 'a', 'résumé', 'x'.repeat(300), 'word', 'κόσμε', 'end.'];
  const seps = [' ', ' ', ' ', '  ', '\t', '\r\n', '\n', '   \t ', '\v', '\f', '\r', '\n\n'];
  const parts: string[] = [];
  let len = 0;
  while (len < bytes) {
    const p = words[rnd(words.length)]! + seps[rnd(seps.length)]!;
    parts.push(p);
    len += Buffer.byteLength(p);
  }
  return Buffer.from(parts.join(''));
}

before(async () => {
  dir = tempDir('agora-wordcount-');
  tricky = join(dir, 'tricky.txt');
  writeFileSync(tricky, trickyText(600_000));
  independent = pythonCount(tricky);
  cluster = await startCluster({ agents: 2, agentResources: 'cpus:2;mem:4096;disk:1000' });
});
after(async () => {
  await cluster?.stop();
  await stopAll();
});

test('1, 2, 7 and 64 chunks give the exact totals of bytes.split()', async () => {
  for (const chunks of [1, 2, 7, 64]) {
    const r = await runWordcount({ master: cluster.masterAddress, input: tricky, chunks });
    assert.equal(r.words, independent.words, `${chunks} chunks: words`);
    assert.equal(r.lines, independent.lines, `${chunks} chunks: lines`);
    assert.equal(r.bytes, independent.bytes, `${chunks} chunks: bytes`);
    assert.equal(r.chunks.length, chunks, `${chunks} chunks planned`);
    assert.equal(r.chunks.reduce((n, c) => n + c.words, 0), r.words);
    // The ranges tile the input.
    r.chunks.forEach((c, i) => assert.equal(c.start, i === 0 ? 0 : r.chunks[i - 1]!.end));
  }
});

test('--top 10 equals an independent frequency count (UTF-8 intact); reading over HTTP too', async () => {
  const r = await runWordcount({ master: cluster.masterAddress, input: tricky, chunks: 5, top: 10 });
  assert.deepEqual(r.top!.map((t) => [t.word, t.count]), independent.top);
  assert.equal(r.words, independent.words);
  // An http(s) input: tasks fetch their range with Range requests.
  const server = await serveFile(tricky, independent.bytes);
  try {
    const h = await runWordcount({ master: cluster.masterAddress, input: server.url, chunks: 3, top: 10 });
    assert.equal(h.words, independent.words);
    assert.deepEqual(h.top!.map((t) => [t.word, t.count]), independent.top);
    assert.ok(h.chunks.every((c) => c.via === 'http'));
  } finally {
    await server.close();
  }
});

test('a count task killed mid-run is re-run and the total stays exact', async () => {
  let killed = 0;
  const r = await runWordcount({
    master: cluster.masterAddress, input: tricky, chunks: 3, readBytes: 64 << 10, slowMs: 150,
    onTaskStarted({ chunk, pid }) {
      // The task has just started its ≥ 4 slowed reads (≥ 0.6 s): killing it now hits it
      // mid-run even when timers run late on a busy machine.
      if (chunk === 1 && killed === 0) {
        killed = pid;
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    },
  });
  assert.ok(killed > 0, 'a count task was killed');
  assert.equal(r.words, independent.words);
  assert.equal(r.lines, independent.lines);
  assert.ok(r.chunks[1]!.attempts >= 2, `chunk 1 re-run (attempts ${r.chunks[1]!.attempts})`);
  assert.ok(r.tasksLaunched > r.chunks.length);
});

test('an aborted job tears its framework down: the call rejects and its count tasks end', async () => {
  const abort = new AbortController();
  const pids: number[] = [];
  const job = runWordcount({
    master: cluster.masterAddress, input: tricky, chunks: 2, readBytes: 16 << 10, slowMs: 200, signal: abort.signal,
    onTaskStarted({ pid }) {
      pids.push(pid);
      abort.abort();
    },
  });
  await assert.rejects(job, /interrupted/);
  assert.ok(pids.length > 0);
  // The executors go with the framework (the agent kills them on its shutdown).
  const deadline = Date.now() + 30_000;
  while (pids.some(processAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(pids.filter(processAlive), [], 'count executors still running');
});

test('edge inputs: empty, only whitespace, one huge word', async () => {
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '');
  const blank = join(dir, 'blank.txt');
  writeFileSync(blank, ' \t\r\n\v\f  \n\n'.repeat(5000));
  const huge = join(dir, 'huge.txt');
  writeFileSync(huge, Buffer.alloc(1 << 20, 'é'));
  for (const [file, words, chunks] of [[empty, 0, 2], [blank, 0, 3], [huge, 1, 4]] as const) {
    const r = await runWordcount({ master: cluster.masterAddress, input: file, chunks, top: 3 });
    const py = pythonCount(file);
    assert.equal(r.words, words, file);
    assert.equal(r.words, py.words, file);
    assert.equal(r.lines, py.lines, file);
    assert.equal(r.bytes, py.bytes, file);
    assert.deepEqual(r.top!.map((t) => [t.word, t.count]), py.top);
  }
});

test('agora wordcount: one clear error line and a non-zero exit for bad inputs or no master', async () => {
  const sub = join(dir, 'a-dir');
  mkdirSync(sub);
  const secret = join(dir, 'secret.txt');
  writeFileSync(secret, 'hidden words');
  chmodSync(secret, 0o000);
  const cases: [string[], RegExp][] = [
    [[join(dir, 'missing.txt')], /no such file/],
    [[sub], /is a directory/],
    [['http://127.0.0.1:1/x.txt'], /cannot reach it/],
    [[tricky, '--master', '127.0.0.1:1'], /cannot reach the master at 127\.0\.0\.1:1/],
    [[tricky, '--chunk-size', 'lots'], /bad --chunk-size/],
  ];
  // root reads anything: only check the unreadable file as an ordinary user.
  if (process.getuid?.() !== 0) cases.push([[secret], /permission denied/]);
  for (const [args, re] of cases) {
    const { code, output } = await agoraRun(['wordcount', ...args]);
    assert.notEqual(code, 0, `${args.join(' ')} exits non-zero`);
    const lines = output.trim().split('\n');
    assert.match(lines[0]!, /^agora: /, output);
    assert.match(output, re);
    assert.ok(lines.length <= 2, `one line (plus a --help pointer at most): ${output}`);
  }
});

test('agora wordcount prints per-chunk lines, the total and --top; --json for machines', async () => {
  const text = await agoraRun(['wordcount', tricky, '--master', cluster.masterAddress, '--chunks', '3', '--top', '3']);
  assert.equal(text.code, 0, text.output);
  assert.match(text.output, /^chunk 0 has \d+ words$/m);
  assert.match(text.output, /^chunk 2 has \d+ words$/m);
  assert.match(text.output, new RegExp(`^total: ${independent.words} words, ${independent.lines} lines, ${independent.bytes} bytes in 3 chunks$`, 'm'));
  for (const [word, count] of independent.top.slice(0, 3)) assert.match(text.output, new RegExp(`^ *${count} ${word}$`, 'm'));
  const json = await agoraRun(['wordcount', tricky, '--master', cluster.masterAddress, '--chunk-size', '256k', '--json']);
  assert.equal(json.code, 0, json.output);
  const r = JSON.parse(json.output) as { words: number; chunks: unknown[] };
  assert.equal(r.words, independent.words);
  assert.equal(r.chunks.length, Math.ceil(independent.bytes / (256 << 10)));
});

#!/usr/bin/env node
// Runs every test of the repository with node's test runner (TypeScript through tsx):
// unit tests of each package (packages/*/test, frameworks/*/test) and the cross-package
// integration tests (test/). Extra arguments are passed to `node --test` (e.g. a file filter).
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const files = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(relative(root, p));
  }
}
for (const base of ['packages', 'frameworks', 'test']) {
  try { walk(join(root, base)); } catch { /* a room without tests yet */ }
}
// Tasks in the tests run as unprivileged users of their own (the agent's default as root), and
// some run code from this checkout (custom executors, test fixtures). A checkout below a
// directory other users cannot search (a 0700 mktemp dir, /root) would make those tasks fail,
// so the tests add search permission (o+x: enter, not list) to such directories above the
// checkout for their run, and put it back afterwards.
const opened = [];
if (process.getuid?.() === 0) {
  for (let dir = dirname(root.replace(/\/$/, '')); ; dir = dirname(dir)) {
    const mode = statSync(dir).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      chmodSync(dir, mode | 0o001);
      opened.push([dir, mode]);
    }
    if (dir === dirname(dir)) break;
  }
  if (opened.length) console.log(`# tests: ${opened.map(([d]) => d).join(', ')} made searchable by task users for this run (restored after)`);
}
const restore = () => { for (const [dir, mode] of opened.splice(0)) { try { chmodSync(dir, mode); } catch { /* gone */ } } };
process.on('exit', restore);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { restore(); process.exit(130); });

const only = process.argv.slice(2);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
const res = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...selected], {
  cwd: root,
  stdio: 'inherit',
  // Masters started by tests take an ephemeral HTTP port unless a test names one (parallel
  // tests would otherwise all want 5051).
  env: { ...process.env, AGORA_LOG_LEVEL: process.env.AGORA_LOG_LEVEL ?? 'warn', AGORA_HTTP_PORT: process.env.AGORA_HTTP_PORT ?? '0' },
});
process.exit(res.status ?? 1);

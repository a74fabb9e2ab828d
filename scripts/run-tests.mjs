#!/usr/bin/env node
// Runs every test of the repository with node's test runner (TypeScript through tsx):
// unit tests of each package (packages/*/test, frameworks/*/test) and the cross-package
// integration tests (test/). Extra arguments are passed to `node --test` (e.g. a file filter).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

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

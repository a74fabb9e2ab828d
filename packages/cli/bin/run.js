#!/usr/bin/env node
// The `agora` command. Commands live in packages/cli/src/commands (compiled to dist/commands).
// Errors that escape a command (unknown command, a failure while loading) are printed as one
// line, like the commands' own errors, instead of oclif's boxed message or a stack trace.
//
// `agora wordcount` with plainly well-formed arguments skips oclif (loading it and the command
// set is a large part of a one-second job); for anything else — --help, a parse error — its
// fast path declines and oclif runs as for every other command.
import { readFileSync, statSync } from 'node:fs';

const argv = process.argv.slice(2);
if (argv[0] === 'wordcount') {
  const { wordcountFastPath } = await import(freshBundle('../dist/wordcount.bundle.mjs') ?? '../dist/wordcount-argv.js');
  const code = await wordcountFastPath(argv.slice(1));
  if (code !== undefined) process.exit(code);
}

const { flush, run } = await import('@oclif/core');
try {
  await run(argv, import.meta.url);
  await flush();
} catch (err) {
  const exit = err?.oclif?.exit;
  if (err?.code === 'EEXIT' || err?.skipOclifErrorHandling) process.exit(typeof exit === 'number' ? exit : 0);
  const message = String(err?.message ?? err).replace(/\u001b\[[0-9;]*m/g, '').split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
  process.stderr.write(`agora: ${message}\n`);
  if (process.env.AGORA_DEBUG && err?.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(typeof exit === 'number' && exit !== 0 ? exit : 1);
}

/**
 * The one-file build of the fast path (scripts/bundle-wordcount-executor.mjs), when it is newer
 * than every compiled file it was made from; else undefined (the modules are used).
 */
function freshBundle(rel) {
  try {
    const url = new URL(rel, import.meta.url);
    const made = statSync(url).mtimeMs;
    const { inputs } = JSON.parse(readFileSync(new URL(rel.replace(/\.mjs$/, '.json'), import.meta.url), 'utf8'));
    return inputs.length > 0 && inputs.every((p) => statSync(p).mtimeMs <= made) ? rel : undefined;
  } catch {
    return undefined;
  }
}

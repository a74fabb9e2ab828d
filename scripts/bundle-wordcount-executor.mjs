#!/usr/bin/env node
// Bundles the two processes on a word count job's critical path into one minified file each,
// with a list of our compiled files each was made from (for freshness checks):
//  - the count executor: frameworks/wordcount/dist/executor.js with @agora/sdk, @agora/core,
//    grpc-js, protobufjs and pino → dist/executor.bundle.mjs (+ .bundle.json). The scheduler
//    uses it only while every listed input is older than it (see defaultExecutorCommand);
//  - the CLI's fast path: packages/cli/dist/wordcount-argv.js and the job it runs →
//    packages/cli/dist/wordcount.bundle.mjs (+ .bundle.json), used the same way by bin/run.js.
// Why: a Node process resolving and compiling ~200 modules spends ~0.1–0.2 s more starting
// than one loading a single file, and both starts are on the path of every one-second job.
// So a stale bundle is never run. Part of `npm run build`.
import { build } from 'esbuild';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;

async function bundle(entry, outfile) {
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    metafile: true,
    logLevel: 'error',
    // CommonJS dependencies (grpc-js, protobufjs) call require() for Node's own modules.
    banner: { js: "import { createRequire as __agoraRequire } from 'node:module'; const require = __agoraRequire(import.meta.url);" },
  });
  // Our own compiled files only: node_modules change with npm install, which is followed by a build.
  const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.includes('node_modules/')).map((p) => resolve(root, p));
  writeFileSync(outfile.replace(/\.mjs$/, '.json'), `${JSON.stringify({ inputs }, null, 1)}\n`);
}

const wordcount = resolve(root, 'frameworks/wordcount/dist');
await bundle(resolve(wordcount, 'executor.js'), resolve(wordcount, 'executor.bundle.mjs'));
const cli = resolve(root, 'packages/cli/dist');
await bundle(resolve(cli, 'wordcount-argv.js'), resolve(cli, 'wordcount.bundle.mjs'));

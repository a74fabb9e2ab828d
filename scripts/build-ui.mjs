#!/usr/bin/env node
// Builds the web UI the master serves: type-checks packages/master/ui (its own tsconfig: DOM,
// preact JSX), then bundles src/main.tsx with esbuild into packages/master/dist/ui/
// {index.html, app.js, app.css}. Everything (preact, uPlot and its CSS) is inside the bundle:
// the page fetches nothing but the master's API. index.html names each file with a content
// hash query, so a browser never mixes an old app.js with a new master.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const uiDir = join(root, 'packages/master/ui');
const outDir = join(root, 'packages/master/dist/ui');
const require = createRequire(import.meta.url);

const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(uiDir, 'tsconfig.json')], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('build-ui: the web UI does not type-check');
  process.exit(1);
}

let result;
try {
  result = await build({
    entryPoints: { app: join(uiDir, 'src/main.tsx') },
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2022', 'chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    define: { 'process.env.NODE_ENV': '"production"' },
    outdir: 'out', // virtual: write is off, the files are named below
    write: false,
    logLevel: 'warning',
    legalComments: 'none',
  });
} catch {
  console.error('build-ui: esbuild failed (see above)');
  process.exit(1);
}

const files = new Map(result.outputFiles.map((f) => [basename(f.path), f.contents]));
const js = files.get('app.js');
const css = files.get('app.css');
if (!js || !css) {
  console.error(`build-ui: expected app.js and app.css from esbuild, got ${[...files.keys()].join(', ')}`);
  process.exit(1);
}
const hash = (bytes) => createHash('sha256').update(bytes).digest('hex').slice(0, 12);

rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'app.js'), js);
writeFileSync(join(outDir, 'app.css'), css);
// Absolute paths: index.html is also the fallback of every /ui/* path.
writeFileSync(join(outDir, 'index.html'), `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Agora</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui/app.css?v=${hash(css)}">
<script defer src="/ui/app.js?v=${hash(js)}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The Agora web UI needs JavaScript; the same data is at /state.</noscript>
</body>
</html>
`);
console.log(`build-ui: packages/master/dist/ui (app.js ${(js.length / 1024).toFixed(0)} KiB, app.css ${(css.length / 1024).toFixed(0)} KiB)`);

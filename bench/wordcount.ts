/**
 * `npm run bench:wordcount` — `agora wordcount` against its peers on the same page-cached file,
 * in one run. Prints figures, never passes or fails on them.
 *
 * Input: BENCH_WORDCOUNT_MB (default 1024) MiB of natural-language-like text, generated once
 * into the temp dir (reused by later runs): sentences drawn with a seeded RNG from a Zipf-ranked
 * vocabulary of ~60k words (a few hundred common English words plus syllable-built words, some
 * with accents), punctuation, paragraph breaks (LF and some CRLF), tabs, and every ~40th
 * paragraph a passage of the seed article's Chinese text (/work/shared/seed/000_…txt).
 *
 * Measured: `wc -w` (LC_ALL=C.UTF-8), `LC_ALL=C wc -w`, `agora wordcount FILE` end to end (a
 * real `agora local` cluster with cpus:2; command start → result printed), its counting phase
 * (first launch → last chunk counted, and the longest in-task read+count), `--top 10` end to
 * end vs `tr -s '[:space:]' '\n' | sort | uniq -c | sort -rn | head` (on the first
 * BENCH_WORDCOUNT_PEER_MB MiB, default 128, since it runs at ~10 MB/s), the peak RSS of a
 * count task, the speed-ups against Agora's targets (end to end ≥ 6× wc -w, --top ≥ 20× the
 * pipeline) and the load average (the machine may be shared: then the figures are loaded).
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { agora, freePort, stopAll, tempDir, AGORA_BIN, ROOT } from '../test/helpers/processes.js';

const MB = Number(process.env.BENCH_WORDCOUNT_MB ?? 1024);
const PEER_MB = Math.min(MB, Number(process.env.BENCH_WORDCOUNT_PEER_MB ?? 128));
const SEED_TEXT = '/work/shared/seed/000_a0a8fc330697e016.txt';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COMMON = `the of and to a in is it you that he was for on are with as I his they be at one have this from or had by hot word but what some we can out other were all there when up use your how said an each she which do their time if will way about many then them write would like so these her long make thing see him two has look more day could go come did number sound no most people my over know water than call first who may down side been now find any new work part take get place made live where after back little only round man year came show every good me give our under name very through just form sentence great think say help low line differ turn cause much mean before move right boy old too same tell does set three want air well also play small end put home read hand port large spell add even land here must big high such follow act why ask men change went light kind off need house picture try us again animal point mother world near build self earth father head stand own page should country found answer school grow study still learn plant cover food sun four between state keep eye never last let thought city tree cross farm hard start might story saw far sea draw left late run don't while press close night real life few north open seem together next white children begin got walk example ease paper group always music those both mark often letter until mile river car feet care second book carry took science eat room friend began idea fish mountain stop once base hear horse cut sure watch color face wood main enough plain girl usual young ready above ever red list though feel talk bird soon body dog family direct pose leave song measure door product black short numeral class wind question happen complete ship area half rock order fire south problem piece told knew pass since top whole king space heard best hour better true during hundred five remember step early hold west ground interest reach fast verb sing listen six table travel less morning ten simple several vowel toward war lay against pattern slow center love person money serve appear road map rain rule govern pull cold notice voice unit power town fine certain fly fall lead cry dark machine note wait plan figure star box noun field rest correct able pound done beauty drive stood contain front teach week final gave green oh quick develop ocean warm free minute strong special mind behind clear tail produce fact street inch multiply nothing course stay wheel full force blue object decide surface deep moon island foot system busy test record boat common gold possible plane stead dry wonder laugh thousand ago ran check game shape equate miss brought heat snow tire bring yes distant fill east paint language among café naïve résumé über façade coöperate jalapeño piñata Zürich São Paulo`.split(/\s+/);

function buildVocabulary(r: () => number): string[] {
  const syll = ['ka', 'lo', 'mi', 'ter', 'an', 'ver', 'sto', 'pre', 'ing', 'tion', 'al', 'er', 'ou', 'ch', 'gr', 'ble', 'ment', 'ness', 'qu', 'is', 'el', 'ar', 'on', 'ré', 'ü', 'ø', 'ñ'];
  const vocab = [...COMMON];
  const seen = new Set(vocab);
  while (vocab.length < 60_000) {
    const n = 1 + Math.floor(r() * 4);
    let w = '';
    for (let i = 0; i < n; i++) w += syll[Math.floor(r() * syll.length)];
    if (!seen.has(w)) { seen.add(w); vocab.push(w); }
  }
  return vocab;
}

/** Writes `bytes` of text to `file` (through a temp name, so a half-written file is never reused). */
function generate(file: string, bytes: number): void {
  const r = rng(20240601);
  const vocab = buildVocabulary(r);
  // Zipf(1.0) sampling through a 1M-entry table of ranks.
  const H = vocab.reduce((h, _, i) => h + 1 / (i + 1), 0);
  const table = new Uint32Array(1 << 20);
  let k = 0;
  for (let i = 0; i < vocab.length && k < table.length; i++) {
    const n = Math.max(1, Math.round(((1 / (i + 1)) / H) * table.length));
    for (let j = 0; j < n && k < table.length; j++) table[k++] = i;
  }
  while (k < table.length) table[k++] = Math.floor(r() * vocab.length);
  const chinese = readFileSync(SEED_TEXT, 'utf8').split('\n').map((l) => l.trim()).filter((l) => /[\u4e00-\u9fff]/.test(l));
  const punct = ['', '', '', '', '', ',', ',', ';', ':'];
  const tmp = `${file}.part`;
  const fd = openSync(tmp, 'w');
  let written = 0;
  let paragraphs = 0;
  while (written < bytes) {
    const parts: string[] = [];
    for (let p = 0; p < 200; p++) {
      paragraphs++;
      if (paragraphs % 40 === 0) { parts.push(chinese[Math.floor(r() * chinese.length)]!, '\n\n'); continue; }
      const sentences = 2 + Math.floor(r() * 6);
      for (let s = 0; s < sentences; s++) {
        const words = 4 + Math.floor(r() * 18);
        let sentence = '';
        for (let w = 0; w < words; w++) {
          let word = vocab[table[Math.floor(r() * table.length)]!]!;
          if (w === 0) word = word[0]!.toUpperCase() + word.slice(1);
          sentence += (w > 0 ? (r() < 0.01 ? '  ' : ' ') : '') + word + (w < words - 1 ? punct[Math.floor(r() * punct.length)]! : '');
        }
        parts.push(sentence, r() < 0.1 ? '!' : '.', s < sentences - 1 ? (r() < 0.02 ? '\t' : ' ') : '');
      }
      parts.push(r() < 0.05 ? '\r\n\r\n' : '\n\n');
    }
    const buf = Buffer.from(parts.join(''));
    const take = Math.min(buf.length, bytes - written);
    writeSync(fd, buf, 0, take);
    written += take;
  }
  closeSync(fd);
  renameSync(tmp, file);
}

function timeIt(cmd: string, env: NodeJS.ProcessEnv = {}): { s: number; out: string } {
  const t = performance.now();
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 30 });
  const s = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return { s, out: r.stdout };
}

function runAgora(args: string[]): Promise<{ s: number; out: string }> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(process.execPath, [AGORA_BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('exit', (code) => {
      const s = (performance.now() - t) / 1000;
      if (code !== 0) reject(new Error(`agora ${args.join(' ')} exited ${code}: ${err}`));
      else resolve({ s, out });
    });
  });
}

interface JsonResult {
  words: number; lines: number; bytes: number; elapsedMs: number;
  timings: { totalMs: number; planMs: number; launchMs: number; countMs: number; maxTaskMs: number };
  chunks: { maxRssKiB: number; kernel: string; ms: number }[];
  top?: { word: string; count: number }[];
}

const fmt = (n: number, d = 2): string => n.toFixed(d);
const rate = (bytes: number, s: number): string => `${fmt(bytes / 1e6 / s, 0)} MB/s`;

async function main(): Promise<void> {
  const file = join(tmpdir(), `agora-bench-wordcount-${MB}MiB.txt`);
  const bytes = MB * 2 ** 20;
  if (!existsSync(file) || statSync(file).size !== bytes) {
    process.stderr.write(`generating ${MB} MiB of text into ${file} …\n`);
    const t = performance.now();
    generate(file, bytes);
    process.stderr.write(`  done in ${fmt((performance.now() - t) / 1000, 1)} s\n`);
  }
  const slice = join(tempDir('agora-bench-wc-'), `slice-${PEER_MB}MiB.txt`);
  timeIt(`head -c ${PEER_MB * 2 ** 20} '${file}' > '${slice}'`);
  // Page-cache both, twice.
  timeIt(`cat '${file}' '${slice}' > /dev/null; cat '${file}' '${slice}' > /dev/null`);

  const load0 = loadavg().map((l) => l.toFixed(1)).join(' ');
  const utf8 = spawnSync('locale', ['-a'], { encoding: 'utf8' }).stdout.split('\n').find((l) => /^(C\.utf-?8|en_US\.utf-?8)$/i.test(l.trim())) ?? 'C.UTF-8';
  const wcU = timeIt(`wc -w < '${file}'`, { LC_ALL: utf8 });
  const wcC = timeIt(`wc -w < '${file}'`, { LC_ALL: 'C' });

  const port = await freePort();
  const cluster = agora(['local', '--port', String(port), '--agent-port', '0', '--work-dir', join(tempDir('agora-bench-wc-'), 'agora'), '--resources', `cpus:${cpus().length};mem:8192;disk:10000;ports:[34000-34100]`]);
  await cluster.waitFor(/agent listening on/, 30_000);
  const master = `127.0.0.1:${port}`;
  try {
    // Warm-up (the executor's files into the page cache), then the measured runs.
    await runAgora(['wordcount', slice, '--master', master, '--json']);
    const runs: { s: number; r: JsonResult }[] = [];
    for (let i = 0; i < 3; i++) {
      const { s, out } = await runAgora(['wordcount', file, '--master', master, '--json']);
      runs.push({ s, r: JSON.parse(out) as JsonResult });
    }
    const best = runs.reduce((a, b) => (b.s < a.s ? b : a));
    const top = await runAgora(['wordcount', file, '--master', master, '--json', '--top', '10']);
    const topR = JSON.parse(top.out) as JsonResult;
    const topSlice = await runAgora(['wordcount', slice, '--master', master, '--json', '--top', '10']);
    const peer = timeIt(`tr -s '[:space:]' '\\n' < '${slice}' | sort | uniq -c | sort -rn | head -10`, { LC_ALL: 'C' });

    const wcWords = Number(wcU.out.trim());
    const r = best.r;
    const rows: [string, string, string, string][] = [
      ['wc -w (LC_ALL=' + utf8 + ')', `${fmt(wcU.s)} s`, rate(bytes, wcU.s), `${wcWords} words`],
      ['LC_ALL=C wc -w', `${fmt(wcC.s)} s`, rate(bytes, wcC.s), `${wcC.out.trim()} words (C locale: bytes ≥ 0x80 are not word characters)`],
      ['agora wordcount (end to end, best of 3)', `${fmt(best.s)} s`, rate(bytes, best.s), `${r.words} words ${r.words === wcWords ? '(= wc -w UTF-8)' : '(≠ wc -w!)'}; runs ${runs.map((x) => fmt(x.s)).join(', ')} s`],
      ['  command start → job start (CLI, checks)', `${fmt((r.elapsedMs - r.timings.totalMs) / 1000)} s`, '', ''],
      ['  job start → first task launched', `${fmt(r.timings.launchMs / 1000)} s`, '', `plan ${fmt(r.timings.planMs / 1000)} s, overlapped`],
      ['  counting phase (first launch → last count)', `${fmt(r.timings.countMs / 1000)} s`, rate(bytes, r.timings.countMs / 1000), `${r.chunks.length} chunks, kernel ${r.chunks[0]?.kernel}; includes executor start`],
      ['  longest read+count inside one task', `${fmt(r.timings.maxTaskMs / 1000)} s`, '', `per task ${rate(bytes / r.chunks.length, r.timings.maxTaskMs / 1000)}`],
      ['agora wordcount --top 10 (end to end)', `${fmt(top.s)} s`, rate(bytes, top.s), `${topR.words === wcWords ? '(= wc -w)' : '(≠ wc -w!)'} top: ${topR.top?.slice(0, 3).map((t) => `${t.word}×${t.count}`).join(' ')} …`],
      [`agora wordcount --top 10 on ${PEER_MB} MiB`, `${fmt(topSlice.s)} s`, rate(PEER_MB * 2 ** 20, topSlice.s), ''],
      [`tr -s|sort|uniq -c|sort -rn|head on ${PEER_MB} MiB (LC_ALL=C)`, `${fmt(peer.s)} s`, rate(PEER_MB * 2 ** 20, peer.s), ''],
    ];
    const w0 = Math.max(...rows.map((x) => x[0].length));
    const load = loadavg().map((l) => l.toFixed(1)).join(' ');
    console.log(`\nwordcount benchmark: ${MB} MiB page-cached (${file}), ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
    console.log(`load average at start ${load0}, at end ${load}${Number(load0.split(' ')[0]) > cpus().length / 2 ? ' — the machine was busy: figures are loaded' : ''}`);
    for (const x of rows) console.log(`${x[0].padEnd(w0)}  ${x[1].padStart(8)}  ${x[2].padStart(10)}  ${x[3]}`);
    const e2e = wcU.s / best.s;
    const topX = (bytes / top.s) / ((PEER_MB * 2 ** 20) / peer.s);
    const verdict = (x: number, target: number): string => `target ≥ ${target}×: ${x >= target ? 'met' : 'not met'}`;
    console.log(`speed-up vs wc -w (UTF-8): end to end ${fmt(e2e, 1)}× (${verdict(e2e, 6)}), counting phase alone ${fmt(wcU.s / (r.timings.countMs / 1000), 1)}×; vs LC_ALL=C wc -w ${fmt(wcC.s / best.s, 1)}×`);
    console.log(`--top speed-up vs tr|sort|uniq (MB/s): ${fmt(topX, 1)}× full file vs ${PEER_MB} MiB peer (${verdict(topX, 20)}), ${fmt(peer.s / topSlice.s, 1)}× on the same ${PEER_MB} MiB`);
    console.log(`peak RSS of a count task: ${fmt(Math.max(...r.chunks.map((c) => c.maxRssKiB)) / 1024, 0)} MiB (count), ${fmt(Math.max(...topR.chunks.map((c) => c.maxRssKiB)) / 1024, 0)} MiB (--top)`);
  } finally {
    await stopAll();
  }
}

await main();

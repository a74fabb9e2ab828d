import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { UserError, oneLine } from '../errors.js';
import { amountFlag, jsonFlag, masterFlag, parseMasters } from '../flags.js';

/** A progress bar on stderr, only when stderr is a terminal. */
class Bar {
  private readonly on = Boolean(process.stderr.isTTY);
  private last = 0;
  private shown = false;

  draw(p: { bytesDone: number; bytesTotal: number; chunksDone: number; chunksRunning: number; chunksTotal: number }, force = false): void {
    if (!this.on) return;
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const frac = p.bytesTotal > 0 ? Math.min(1, p.bytesDone / p.bytesTotal) : p.chunksDone / Math.max(1, p.chunksTotal);
    const width = 24;
    const full = Math.round(frac * width);
    const mib = (n: number): string => (n / 2 ** 20).toFixed(n < 10 * 2 ** 20 ? 1 : 0);
    const line = `[${'#'.repeat(full)}${'.'.repeat(width - full)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${mib(p.bytesDone)}/${mib(p.bytesTotal)} MiB  chunks: ${p.chunksRunning} running, ${p.chunksDone}/${p.chunksTotal} done`;
    process.stderr.write(`\r\u001b[2K${line.slice(0, (process.stderr.columns ?? 100) - 1)}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) process.stderr.write('\r\u001b[2K');
    this.shown = false;
  }
}

export default class WordcountCommand extends BaseCommand {
  static override summary = 'Count the words, lines and bytes of a big text file on the cluster (split and count).';
  static override description = [
    'Registers the wordcount framework, splits INPUT into byte ranges (each boundary moved to the next whitespace byte, no copies), runs one count task per range on the agents and adds up the results. A word is a maximal run of bytes other than space, \\t, \\n, \\v, \\f, \\r (as `wc -w` and Python bytes.split()).',
    'INPUT is a local path (agents on this host read it directly; others fetch their range from a small HTTP server this command runs) or an http(s) URL that accepts Range requests.',
    'A count task that fails, is killed or whose agent is lost is re-run; each chunk is counted once.',
  ].join('\n\n');
  static override examples = [
    '<%= config.bin %> wordcount big.txt',
    '<%= config.bin %> wordcount big.txt --chunks 8 --top 10',
    '<%= config.bin %> wordcount https://example.org/big.txt --chunk-size 32MiB --json',
  ];
  static override args = {
    input: Args.string({ description: 'A local file or an http(s) URL.', required: true }),
  };
  static override flags = {
    master: masterFlag,
    chunks: Flags.integer({ summary: 'Number of chunks (count tasks).', min: 1, exclusive: ['chunk-size'], helpValue: 'N' }),
    'chunk-size': Flags.string({ summary: 'Bytes per chunk: 64MiB, 512k, 1GiB, 1000000 (k/M/G are powers of 1024). Default 64MiB.', helpValue: 'SIZE' }),
    top: Flags.integer({ summary: 'Also print the K most frequent words.', min: 0, default: 0, helpValue: 'K' }),
    cpus: amountFlag({ summary: 'CPUs of each count task (default 1).', helpValue: 'N' }),
    mem: amountFlag({ summary: 'Memory of each count task in MiB (default 128).', helpValue: 'MiB' }),
    'serve-host': Flags.string({ summary: 'Address the range server for agents on other hosts binds (default 127.0.0.1).', helpValue: 'HOST' }),
    'advertise-host': Flags.string({ summary: 'Host name those agents use to reach it (default: --serve-host).', helpValue: 'HOST' }),
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const t0 = performance.now();
    const { args, flags } = await this.parse(WordcountCommand);
    let masters: string[];
    try {
      masters = parseMasters(flags.master);
    } catch (err) {
      throw new UserError(oneLine(err));
    }
    const wc = await import('@agora/wordcount');
    let chunkSize: number | undefined;
    if (flags['chunk-size'] !== undefined) {
      try {
        chunkSize = wc.parseSize(flags['chunk-size']);
      } catch (err) {
        throw new UserError(`bad --chunk-size: ${oneLine(err)}`);
      }
    }
    // Check the input before the master, so a typo is reported as such even with no cluster.
    try {
      const input = await wc.openInput(args.input);
      await input.close();
    } catch (err) {
      throw new UserError(oneLine(err));
    }
    await this.withOperator(masters.join(','), (c) => c.getHealth());

    const bar = new Bar();
    let result;
    try {
      result = await wc.runWordcount({
        master: masters,
        input: args.input,
        ...(flags.chunks !== undefined ? { chunks: flags.chunks } : {}),
        ...(chunkSize !== undefined ? { chunkSize } : {}),
        top: flags.top,
        ...(flags.cpus !== undefined ? { cpusPerTask: flags.cpus } : {}),
        ...(flags.mem !== undefined ? { memPerTask: flags.mem } : {}),
        ...(flags['serve-host'] ? { serveHost: flags['serve-host'] } : {}),
        ...(flags['advertise-host'] ? { advertiseHost: flags['advertise-host'] } : {}),
        ...(flags.json ? {} : { onProgress: (p) => bar.draw(p) }),
      });
    } catch (err) {
      bar.clear();
      throw new UserError(oneLine(err));
    }
    bar.clear();
    const elapsedMs = Math.round(performance.now() - t0);
    if (flags.json) {
      this.printJson({ ...result, elapsedMs });
      return;
    }
    const out: string[] = [];
    for (const c of result.chunks) out.push(`chunk ${c.index} has ${c.words} words`);
    out.push(`total: ${result.words} words, ${result.lines} lines, ${result.bytes} bytes in ${result.chunks.length} chunk${result.chunks.length === 1 ? '' : 's'}`);
    const mbps = result.bytes / 1e6 / (elapsedMs / 1000);
    const retried = result.tasksLaunched - result.chunks.length;
    out.push(`time: ${(elapsedMs / 1000).toFixed(2)} s (${mbps.toFixed(0)} MB/s), counting phase ${(result.timings.countMs / 1000).toFixed(2)} s${retried > 0 ? `, ${retried} task${retried === 1 ? '' : 's'} re-run` : ''}`);
    if (result.top) {
      out.push(`top ${result.top.length} of ${result.distinct} distinct words:`);
      const w = Math.max(...result.top.map((t) => String(t.count).length), 1);
      for (const t of result.top) out.push(`${String(t.count).padStart(w)} ${t.word}`);
    }
    process.stdout.write(`${out.join('\n')}\n`);
  }
}

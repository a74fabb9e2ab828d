import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../base-command.js';
import { amountFlag, jsonFlag, masterFlag } from '../flags.js';
import { runWordcountCommand } from '../wordcount-run.js';

/**
 * `agora wordcount` as an oclif command: its help, and the parsing of arguments the fast path
 * in bin/run.js (wordcount-argv.ts) hands over because they are not plainly well-formed. Both
 * run `runWordcountCommand`.
 */
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
  // Keep in step with wordcount-argv.ts (the fast path's parser of these same flags).
  static override flags = {
    master: masterFlag,
    chunks: Flags.integer({ summary: 'Number of chunks (count tasks). Default: one per task slot the cluster offers, 64 MiB to 1 GiB each (64 MiB chunks with --top).', min: 1, exclusive: ['chunk-size'], helpValue: 'N' }),
    'chunk-size': Flags.string({ summary: 'Bytes per chunk: 64MiB, 512k, 1GiB, 1000000 (k/M/G are powers of 1024).', helpValue: 'SIZE' }),
    top: Flags.integer({ summary: 'Also print the K most frequent words.', min: 0, default: 0, helpValue: 'K' }),
    cpus: amountFlag({ summary: 'CPUs of each count task (default 1; an agent with less than that but at least half left runs one more task on what is left).', helpValue: 'N' }),
    mem: amountFlag({ summary: 'Memory of each count task in MiB (default 128).', helpValue: 'MiB' }),
    'serve-host': Flags.string({ summary: 'Address the range server for agents on other hosts binds (default 127.0.0.1).', helpValue: 'HOST' }),
    'advertise-host': Flags.string({ summary: 'Host name those agents use to reach it (default: --serve-host).', helpValue: 'HOST' }),
    json: jsonFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(WordcountCommand);
    await runWordcountCommand({
      input: args.input,
      master: flags.master,
      ...(flags.chunks !== undefined ? { chunks: flags.chunks } : {}),
      ...(flags['chunk-size'] !== undefined ? { chunkSize: flags['chunk-size'] } : {}),
      top: flags.top,
      ...(flags.cpus !== undefined ? { cpus: flags.cpus } : {}),
      ...(flags.mem !== undefined ? { mem: flags.mem } : {}),
      ...(flags['serve-host'] ? { serveHost: flags['serve-host'] } : {}),
      ...(flags['advertise-host'] ? { advertiseHost: flags['advertise-host'] } : {}),
      json: flags.json,
    });
  }
}

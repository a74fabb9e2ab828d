/**
 * What `agora wordcount` does once its arguments are parsed — shared by the oclif command
 * (commands/wordcount.ts) and the fast path bin/run.js takes for well-formed arguments
 * (wordcount-argv.ts), so both behave the same. Imports no oclif.
 */
import { DEFAULTS, OperatorClient } from '@agora/core';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultExecutorCommand, openInput, parseSize, runWordcount, type WordcountProgress } from '@agora/wordcount';
import { UserError, oneLine, peerError } from './errors.js';
import { parseMasters } from './masters.js';

/** How long the reachability check of a master may take before we call it unreachable. */
const MASTER_DEADLINE_MS = 3_000;

/** The parsed arguments of `agora wordcount`. */
export interface WordcountArgs {
  input: string;
  /** HOST:PORT[,HOST:PORT]; the default master when unset. */
  master?: string;
  chunks?: number;
  /** Unparsed, as given (`64MiB`). */
  chunkSize?: string;
  top: number;
  cpus?: number;
  mem?: number;
  serveHost?: string;
  advertiseHost?: string;
  json: boolean;
}

/** The default of `--master`. */
export const DEFAULT_MASTER = `${DEFAULTS.bindHost}:${DEFAULTS.masterPort}`;

/** A progress bar on stderr, only when stderr is a terminal. */
class Bar {
  private readonly on = Boolean(process.stderr.isTTY);
  private last = 0;
  private shown = false;

  draw(p: WordcountProgress, force = false): void {
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

/** Throws a UserError unless one of `masters` answers a health check. */
async function checkMasters(masters: string[]): Promise<void> {
  let last: UserError | undefined;
  for (const address of masters) {
    const client = new OperatorClient(address, MASTER_DEADLINE_MS);
    try {
      await client.getHealth();
      return;
    } catch (err) {
      last = peerError(err, 'master', address, MASTER_DEADLINE_MS);
    } finally {
      client.close();
    }
  }
  throw last ?? new UserError('no master to ask');
}

/**
 * Runs the job and prints the result on stdout; the printed time runs from the start of the
 * process (command start → result). Every failure is a UserError with one line.
 */
export async function runWordcountCommand(args: WordcountArgs): Promise<void> {
  let masters: string[];
  try {
    masters = parseMasters(args.master ?? DEFAULT_MASTER);
  } catch (err) {
    throw new UserError(oneLine(err));
  }
  let chunkSize: number | undefined;
  if (args.chunkSize !== undefined) {
    try {
      chunkSize = parseSize(args.chunkSize);
    } catch (err) {
      throw new UserError(`bad --chunk-size: ${oneLine(err)}`);
    }
  }
  // The input and the master are checked at the same time, but an input error is reported
  // first, so a typo is reported as such even with no cluster. The job does not wait for the
  // master's answer (a round trip on the path of a one-second job): the check runs beside it
  // and, if no master answers, stops it with the check's clear error.
  const inputCheck = openInput(args.input).then((i) => i.close());
  const masterCheck = checkMasters(masters);
  masterCheck.catch(() => undefined);
  try {
    await inputCheck;
  } catch (err) {
    throw new UserError(oneLine(err));
  }

  const bar = new Bar();
  // Ctrl-C (or a TERM) stops the job properly: the framework is torn down, its tasks killed.
  const interrupt = new AbortController();
  let unreachable: unknown;
  let subscribed = false;
  masterCheck.catch((err: unknown) => {
    // A health check that fails once the framework is subscribed (a slow answer from a busy
    // master) says nothing the job does not know better: only an unanswered start is stopped.
    if (subscribed) return;
    unreachable = err;
    interrupt.abort();
  });
  const onSignal = (): void => interrupt.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let result;
  try {
    result = await runWordcount({
      // Named from the package's real location: this module may run from the CLI's bundle.
      executorCommand: defaultExecutorCommand(join(dirname(fileURLToPath(import.meta.resolve('@agora/wordcount'))), 'executor.js')),
      master: masters,
      input: args.input,
      ...(args.chunks !== undefined ? { chunks: args.chunks } : {}),
      ...(chunkSize !== undefined ? { chunkSize } : {}),
      top: args.top,
      ...(args.cpus !== undefined ? { cpusPerTask: args.cpus } : {}),
      ...(args.mem !== undefined ? { memPerTask: args.mem } : {}),
      ...(args.serveHost ? { serveHost: args.serveHost } : {}),
      ...(args.advertiseHost ? { advertiseHost: args.advertiseHost } : {}),
      ...(args.json ? {} : { onProgress: (p: WordcountProgress) => bar.draw(p) }),
      signal: interrupt.signal,
      onSubscribed: () => { subscribed = true; },
    });
  } catch (err) {
    bar.clear();
    if (unreachable !== undefined) throw unreachable;
    throw new UserError(oneLine(err), interrupt.signal.aborted ? 130 : 1);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  bar.clear();
  // performance.now() counts from the start of the process.
  const elapsedMs = Math.round(performance.now());
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ ...result, elapsedMs }, null, 2)}\n`);
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

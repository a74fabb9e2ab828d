/**
 * The fast path of `agora wordcount` (taken by bin/run.js): loading oclif and its command set
 * costs ≈0.25–0.4 s of a ~1 s job, so plainly well-formed arguments are parsed here — the
 * same flags as commands/wordcount.ts, the same values accepted — and the job runs without
 * oclif. Anything else (`--help`, an unknown or repeated flag, a value oclif would reject or
 * might read differently) returns `undefined`, and bin/run.js hands the untouched argv to oclif,
 * so help and parse errors are oclif's own. This module imports nothing heavy until it has
 * decided.
 */
import type { WordcountArgs } from './wordcount-run.js';

type Kind = 'string' | 'integer' | 'amount' | 'boolean';
/** Flag → [kind, smallest value]. Keep in step with WordcountCommand.flags. */
const FLAGS: Record<string, [Kind, number?]> = {
  master: ['string'],
  chunks: ['integer', 1],
  'chunk-size': ['string'],
  top: ['integer', 0],
  cpus: ['amount'],
  mem: ['amount'],
  'serve-host': ['string'],
  'advertise-host': ['string'],
  json: ['boolean'],
};

/**
 * Parses `agora wordcount` arguments (after the command name) when they are plainly
 * well-formed; `undefined` means "let oclif parse them".
 */
export function parseWordcountArgv(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): WordcountArgs | undefined {
  const seen = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (!token.startsWith('-')) {
      positional.push(token);
      continue;
    }
    const m = /^--([a-z][a-z-]*)(?:=(.*))?$/s.exec(token);
    if (!m) return undefined; // short flags, `--`, `-`: oclif's business
    const name = m[1]!;
    const spec = FLAGS[name];
    if (!spec || seen.has(name)) return undefined;
    if (spec[0] === 'boolean') {
      if (m[2] !== undefined) return undefined;
      seen.set(name, true);
      continue;
    }
    const value = m[2] ?? argv[++i];
    if (value === undefined || value === '' || value.startsWith('-')) return undefined;
    seen.set(name, value);
  }
  if (positional.length !== 1 || (seen.has('chunks') && seen.has('chunk-size'))) return undefined;
  const nums: Record<string, number> = {};
  for (const [name, raw] of seen) {
    const [kind, min] = FLAGS[name]!;
    if (kind !== 'integer' && kind !== 'amount') continue;
    const text = raw as string;
    const n = Number(text);
    if (kind === 'integer' && (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min!)) return undefined;
    if (kind === 'amount' && (text.trim() === '' || !Number.isFinite(n) || n < 0)) return undefined;
    nums[name] = n;
  }
  const envMaster = env.AGORA_MASTER;
  if (!seen.has('master') && envMaster !== undefined && envMaster.trim() === '') return undefined;
  const str = (name: string): string | undefined => seen.get(name) as string | undefined;
  const master = str('master') ?? envMaster;
  return {
    input: positional[0]!,
    ...(master !== undefined ? { master } : {}),
    ...(nums.chunks !== undefined ? { chunks: nums.chunks } : {}),
    ...(str('chunk-size') !== undefined ? { chunkSize: str('chunk-size') } : {}),
    top: nums.top ?? 0,
    ...(nums.cpus !== undefined ? { cpus: nums.cpus } : {}),
    ...(nums.mem !== undefined ? { mem: nums.mem } : {}),
    ...(str('serve-host') !== undefined ? { serveHost: str('serve-host') } : {}),
    ...(str('advertise-host') !== undefined ? { advertiseHost: str('advertise-host') } : {}),
    json: seen.has('json'),
  };
}

/**
 * Runs `agora wordcount` without oclif. Returns the exit code, or `undefined` when oclif must
 * take the arguments. Errors are printed as the oclif command prints them: `agora: <one line>`.
 */
export async function wordcountFastPath(argv: readonly string[]): Promise<number | undefined> {
  const args = parseWordcountArgv(argv);
  if (!args) return undefined;
  const [{ runWordcountCommand }, { UserError, oneLine }] = await Promise.all([import('./wordcount-run.js'), import('./errors.js')]);
  try {
    await runWordcountCommand(args);
    return 0;
  } catch (err) {
    process.stderr.write(`agora: ${oneLine(err)}\n`);
    if (process.env.AGORA_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    const code = err instanceof UserError ? err.exitCode : 1;
    return code === 0 ? 1 : code;
  }
}

/**
 * Flags shared by several commands, and parsers that reject bad values with a sentence.
 */
import { Flags } from '@oclif/core';
import { DEFAULTS, resources } from '@agora/core';

/** `--master HOST:PORT[,HOST:PORT]`; env AGORA_MASTER. */
export const masterFlag = Flags.string({
  summary: 'Master address(es), HOST:PORT[,HOST:PORT].',
  env: 'AGORA_MASTER',
  default: `${DEFAULTS.bindHost}:${DEFAULTS.masterPort}`,
  helpValue: 'HOST:PORT',
});

/** `--json`: machine-readable output on stdout. */
export const jsonFlag = Flags.boolean({ summary: 'Print machine-readable JSON instead of text.', default: false });

/** `--log-level` for the long-running processes (logs are JSON on stderr). */
export const logLevelFlag = Flags.string({
  summary: 'Log level of the structured logs on stderr.',
  options: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
  env: 'AGORA_LOG_LEVEL',
});

/** A port number 0-65535 (0: any free port). */
export const portFlag = Flags.custom<number>({
  helpValue: 'PORT',
  parse: async (input) => {
    const n = Number(input);
    if (!/^\d+$/.test(input.trim()) || !Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`'${input}' is not a port (0-65535)`);
    return n;
  },
});

/** A non-negative number (cpus, mem, disk). */
export const amountFlag = Flags.custom<number>({
  parse: async (input) => {
    const n = Number(input);
    if (input.trim() === '' || !Number.isFinite(n) || n < 0) throw new Error(`'${input}' is not a non-negative number`);
    return n;
  },
});

export { parseMasters } from './masters.js';

/** Checks a `--resources` string with core's parser; returns it unchanged. */
export function checkResources(text: string, flag = '--resources'): string {
  try {
    resources.parseResources(text);
  } catch (err) {
    throw new Error(`bad ${flag} '${text}': ${(err as Error).message}`);
  }
  return text;
}

/** Checks an `--attributes` string ("rack:r1;zone:a"); returns it unchanged. */
export function checkAttributes(text: string): string {
  for (const raw of text.split(';')) {
    const part = raw.trim();
    if (!part) continue;
    if (!/^[A-Za-z0-9_.\-/]+\s*:\s*\S.*$/.test(part)) throw new Error(`bad --attributes: cannot parse '${part}', expected name:value, e.g. rack:r1`);
  }
  return text;
}

/** A duration: `2s`, `500ms`, `1m`, or plain seconds (`1.5`). Returns milliseconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text);
  if (!m) throw new Error(`'${text}' is not a duration (e.g. 2s, 500ms, 1m)`);
  const n = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`'${text}' is not a positive duration`);
  return n;
}

/** A duration flag, parsed to milliseconds. */
export const durationFlag = Flags.custom<number>({
  helpValue: 'DURATION',
  parse: async (input) => parseDuration(input),
});

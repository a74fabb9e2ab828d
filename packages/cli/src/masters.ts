/**
 * Master address lists, without oclif: `agora wordcount`'s fast path (bin/run.js) parses its
 * arguments without loading oclif, and shares this with the oclif flags.
 */
import { parseHostPort } from '@agora/core';

/** Splits and checks a list of master addresses; throws an Error naming the bad one. */
export function parseMasters(text: string): string[] {
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new Error('--master is empty; expected HOST:PORT');
  for (const a of list) {
    try {
      const { port } = parseHostPort(a);
      if (port === 0) throw new Error(`'${a}' has port 0`);
    } catch (err) {
      throw new Error(`bad --master: ${(err as Error).message}`);
    }
  }
  return list;
}

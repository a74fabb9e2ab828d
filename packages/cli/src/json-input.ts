import { readFile } from 'node:fs/promises';
import { UserError, oneLine } from './errors.js';

/** Reads all of standard input. */
function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d: string) => { s += d; }).on('end', () => resolve(s)).on('error', reject);
  });
}

/**
 * Reads and parses a JSON definition file (`-` for standard input), for `-f` flags. A file that
 * cannot be read and one that is not JSON get different one-line errors naming the file.
 */
export async function readJsonInput(file: string): Promise<unknown> {
  let text: string;
  try {
    text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${oneLine(err)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UserError(`${file} is not valid JSON: ${oneLine(err)}`);
  }
}

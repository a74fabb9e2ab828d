/**
 * The URI fetcher: puts a task's CommandInfo.uris into its sandbox before the command starts.
 * Sources: http(s):// URLs, file:// URLs or absolute paths on this host, and data: URLs
 * (inline content, handy for small scripts and configs). `executable` makes the file 0755;
 * `extract` unpacks tar archives (tar, tgz/tar.gz, tar.bz2, tar.xz) with the system's `tar`.
 */
import { chmod, copyFile, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { CommandInfo } from '@agora/core';

type Uri = NonNullable<CommandInfo['uris']>[number];

/** Decodes a data: URL (RFC 2397): base64 or percent-encoded. */
export function decodeDataUrl(url: string): Buffer {
  const comma = url.indexOf(',');
  if (!url.startsWith('data:') || comma < 0) throw new Error('is not a data: URL (data:[<type>][;base64],<data>)');
  const meta = url.slice(5, comma);
  const body = url.slice(comma + 1);
  if (/;base64$/i.test(meta)) return Buffer.from(body, 'base64');
  return Buffer.from(decodeURIComponent(body), 'utf8');
}

/** The file name a URI lands in: output_file, else the last path segment of the value. */
export function outputName(uri: Uri): string {
  if (uri.outputFile) return uri.outputFile;
  const value = uri.value ?? '';
  if (value.startsWith('data:')) return 'data';
  let p = value;
  try {
    if (/^[a-z]+:\/\//i.test(value)) p = new URL(value).pathname;
  } catch { /* not a URL; keep the raw value */ }
  const base = path.posix.basename(p);
  return base || 'download';
}

/** Resolves a name inside the sandbox, refusing anything that would land outside it. */
function inside(sandbox: string, name: string): string {
  if (path.isAbsolute(name)) throw new Error(`output_file '${name}' must be relative to the sandbox`);
  const target = path.resolve(sandbox, name);
  if (target !== sandbox && !target.startsWith(sandbox + path.sep)) throw new Error(`output_file '${name}' would leave the sandbox`);
  return target;
}

const ARCHIVE = /\.(tar|tgz|tar\.gz|tar\.bz2|tbz2|tar\.xz|txz)$/i;

async function fetchOne(uri: Uri, sandbox: string, timeoutMs: number): Promise<void> {
  const value = (uri.value ?? '').trim();
  if (!value) throw new Error('a URI has no value');
  const target = inside(sandbox, outputName(uri));
  if (value.startsWith('data:')) {
    await writeFile(target, decodeDataUrl(value));
  } else if (/^https?:\/\//i.test(value)) {
    const res = await fetch(value, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
    await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(target));
  } else if (value.startsWith('file://') || path.isAbsolute(value)) {
    await copyFile(value.startsWith('file://') ? fileURLToPath(value) : value, target);
  } else {
    throw new Error('is neither http(s)://, file://, an absolute path nor a data: URL');
  }
  if (uri.executable) await chmod(target, 0o755);
  if (uri.extract && ARCHIVE.test(target)) {
    const r = await execa('tar', ['-xf', target, '-C', sandbox], { reject: false, timeout: timeoutMs, stdin: 'ignore' });
    if (r.exitCode !== 0) throw new Error(`cannot extract: ${String(r.stderr).trim() || `tar exited with ${r.exitCode}`}`);
  }
}

/**
 * Fetches every URI into the sandbox (concurrently). Rejects with an Error naming the first
 * URI that failed and why.
 */
export async function fetchUris(uris: readonly Uri[], sandbox: string, timeoutMs: number): Promise<void> {
  await Promise.all(uris.map(async (uri) => {
    try {
      await fetchOne(uri, sandbox, timeoutMs);
    } catch (err) {
      const v = uri.value ?? '';
      const shown = v.startsWith('data:') ? `${v.slice(0, 40)}${v.length > 40 ? '…' : ''}` : v;
      throw new Error(`cannot fetch '${shown}': ${(err as Error).message}`);
    }
  }));
}

/**
 * The scheduler's view of INPUT: a local file (checked, measured, read at boundaries, and served
 * over HTTP with Range requests for agents on other hosts) or an http(s) URL (measured with a
 * HEAD request, read at boundaries with Range requests). Every failure is one clear sentence.
 */
import { createReadStream } from 'node:fs';
import { access, constants, open, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { ReadAt } from './split.js';

export interface InputInfo {
  /** What the user gave. */
  name: string;
  kind: 'file' | 'url';
  size: number;
  /** Absolute path (file inputs). */
  path?: string;
  mtimeMs?: number;
  /** The URL tasks fetch ranges from (url inputs). */
  url?: string;
  readAt: ReadAt;
  close(): Promise<void>;
}

/** An input problem the user must fix (the CLI prints the message as is). */
export class InputError extends Error {
  override name = 'InputError';
}

export function isUrl(input: string): boolean {
  return /^https?:\/\//i.test(input);
}

export async function openInput(input: string): Promise<InputInfo> {
  return isUrl(input) ? openUrl(input) : openFile(input);
}

async function openFile(input: string): Promise<InputInfo> {
  const abs = path.resolve(input);
  let st;
  try {
    st = await stat(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' || code === 'ENOTDIR' ? `${input}: no such file` : `${input}: cannot read it (${code ?? (err as Error).message})`);
  }
  if (st.isDirectory()) throw new InputError(`${input} is a directory; give a file`);
  if (!st.isFile()) throw new InputError(`${input} is not a regular file`);
  try {
    await access(abs, constants.R_OK);
  } catch {
    throw new InputError(`${input}: permission denied (cannot read it)`);
  }
  const fh = await open(abs, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new InputError(`${input}: cannot open it (${err.code ?? err.message})`);
  });
  return {
    name: input,
    kind: 'file',
    size: st.size,
    path: abs,
    mtimeMs: st.mtimeMs,
    async readAt(pos, len) {
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, pos);
      return buf.subarray(0, bytesRead);
    },
    close: () => fh.close(),
  };
}

async function openUrl(url: string): Promise<InputInfo> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'HEAD' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new InputError(`${url}: cannot reach it (${cause?.code ?? cause?.message ?? (err as Error).message})`);
  }
  if (!res.ok) throw new InputError(`${url}: HTTP ${res.status} ${res.statusText}`.trim());
  const size = Number(res.headers.get('content-length'));
  if (!Number.isInteger(size) || size < 0) throw new InputError(`${url}: the server does not say its size (no Content-Length)`);
  if (size > 0 && !/bytes/i.test(res.headers.get('accept-ranges') ?? '')) {
    throw new InputError(`${url}: the server does not accept Range requests (no Accept-Ranges: bytes)`);
  }
  return {
    name: url,
    kind: 'url',
    size,
    url,
    async readAt(pos, len) {
      if (len <= 0) return new Uint8Array(0);
      const r = await fetch(url, { headers: { range: `bytes=${pos}-${pos + len - 1}` } });
      if (r.status !== 206) throw new InputError(`${url}: Range request answered HTTP ${r.status}`);
      return new Uint8Array(await r.arrayBuffer());
    },
    close: async () => undefined,
  };
}

/** A tiny HTTP server for one file, with Range requests, at an unguessable path. */
export interface RangeServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `file` (size `size`) at http://HOST:PORT/<token> — GET and HEAD, `Range: bytes=a-b`
 * (one range). Binds `host` (127.0.0.1 unless told: agents on other hosts need an address
 * they can reach, e.g. --serve-host 0.0.0.0 --advertise-host this-host).
 */
export function serveFile(file: string, size: number, host = '127.0.0.1', advertise?: string): Promise<RangeServer> {
  const token = `/wordcount/${randomBytes(12).toString('hex')}`;
  const server: Server = createServer((req, res) => {
    if (req.url !== token || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404).end();
      return;
    }
    let start = 0;
    let end = size - 1;
    let partial = false;
    const range = req.headers.range;
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      if (!m || (m[1] === '' && m[2] === '')) { res.writeHead(416, { 'content-range': `bytes */${size}` }).end(); return; }
      if (m[1] === '') { start = Math.max(0, size - Number(m[2])); } else { start = Number(m[1]); if (m[2] !== '') end = Math.min(size - 1, Number(m[2])); }
      if (start > end || start >= size) { res.writeHead(416, { 'content-range': `bytes */${size}` }).end(); return; }
      partial = true;
    }
    const headers = { 'accept-ranges': 'bytes', 'content-length': String(size === 0 ? 0 : end - start + 1), 'content-type': 'application/octet-stream' };
    if (partial) res.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${size}` });
    else res.writeHead(200, headers);
    if (req.method === 'HEAD' || size === 0) { res.end(); return; }
    const stream = createReadStream(file, { start, end, highWaterMark: 1 << 20 });
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      const port = (server.address() as { port: number }).port;
      const shown = advertise ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
      resolve({
        url: `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}${token}`,
        close: () => new Promise<void>((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
      });
    });
  });
}

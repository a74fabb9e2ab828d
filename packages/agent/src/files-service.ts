/**
 * The Files service: read and list sandbox files (Mesos /files/read, /files/browse).
 *
 * A sandbox is named by (framework_id, executor_id) and resolves to the executor's latest run.
 * Paths are relative; `..`, absolute paths and symlinks that resolve outside the sandbox are
 * refused, checked on the real path (after symlinks), not only on the text.
 */
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { grpc, type agora } from '@agora/core';
import type { AgentContext } from './context.js';
import { checkIdForPath, executorRunsDir } from './sandbox.js';

const DEFAULT_READ = 1 << 20;
const MAX_READ = 16 << 20;

class FilesError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
  }
}

/** The latest run directory of an executor: the live one, else the newest on disk. */
async function sandboxOf(ctx: AgentContext, frameworkId: string, executorId: string): Promise<string> {
  for (const [kind, id] of [['framework_id', frameworkId], ['executor_id', executorId]] as const) {
    const bad = checkIdForPath(kind, id);
    if (bad) throw new FilesError(grpc.status.INVALID_ARGUMENT, bad);
  }
  const live = ctx.state.executor(frameworkId, executorId);
  if (live) return live.sandbox;
  const runs = executorRunsDir(ctx.o.workDir, ctx.agentId(), frameworkId, executorId);
  let best: { dir: string; mtime: number } | undefined;
  try {
    for (const name of await readdir(runs)) {
      const dir = path.join(runs, name);
      const s = await stat(dir);
      if (s.isDirectory() && (!best || s.mtimeMs > best.mtime)) best = { dir, mtime: s.mtimeMs };
    }
  } catch { /* no such executor */ }
  if (!best) throw new FilesError(grpc.status.NOT_FOUND, `no sandbox for executor '${executorId}' of framework '${frameworkId}' on this agent`);
  return best.dir;
}

/** Resolves `rel` inside `sandbox`, refusing escapes. */
async function resolveInside(sandbox: string, rel: string): Promise<string> {
  const p = rel ?? '';
  if (path.isAbsolute(p)) throw new FilesError(grpc.status.INVALID_ARGUMENT, `path '${p}' must be relative to the sandbox`);
  if (p.split(/[\\/]/).includes('..')) throw new FilesError(grpc.status.INVALID_ARGUMENT, `path '${p}' may not contain '..'`);
  if (p.includes('\u0000')) throw new FilesError(grpc.status.INVALID_ARGUMENT, 'path contains a NUL byte');
  const root = await realpath(sandbox);
  let real: string;
  try {
    real = await realpath(path.join(root, p));
  } catch {
    throw new FilesError(grpc.status.NOT_FOUND, `'${p}' does not exist in the sandbox`);
  }
  if (real !== root && !real.startsWith(root + path.sep)) throw new FilesError(grpc.status.INVALID_ARGUMENT, `path '${p}' leads outside the sandbox`);
  return real;
}

/**
 * What a listing shows of one entry: a symlink that stays inside the sandbox shows its target
 * (a linked directory can be browsed); one that leads outside shows only the link itself, so
 * that listing a sandbox tells nothing about files outside it (not even their size).
 */
async function entryStat(root: string, p: string): Promise<Stats | undefined> {
  const l = await lstat(p).catch(() => undefined);
  if (!l?.isSymbolicLink()) return l;
  const real = await realpath(p).catch(() => undefined);
  if (real === undefined || (real !== root && !real.startsWith(root + path.sep))) return l;
  return stat(real).catch(() => l);
}

function toGrpcError(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof FilesError) return { code: err.code, details: err.message };
  return { code: grpc.status.INTERNAL, details: (err as Error)?.message ?? String(err) };
}

async function read(ctx: AgentContext, req: agora.v1.ReadFileRequest): Promise<agora.v1.ReadFileResponse.$Properties> {
  const sandbox = await sandboxOf(ctx, req.frameworkId?.value ?? '', req.executorId?.value ?? '');
  if (!req.path) throw new FilesError(grpc.status.INVALID_ARGUMENT, 'path is empty (e.g. "stdout")');
  const file = await resolveInside(sandbox, req.path);
  const offset = Math.max(0, Math.floor(Number(req.offset) || 0));
  const want = Math.min(MAX_READ, Math.max(0, Math.floor(Number(req.length) || 0)) || DEFAULT_READ);
  const fh = await open(file, 'r');
  try {
    const s = await fh.stat();
    if (s.isDirectory()) throw new FilesError(grpc.status.INVALID_ARGUMENT, `'${req.path}' is a directory (use Browse)`);
    const n = Math.max(0, Math.min(want, s.size - offset));
    const buf = Buffer.alloc(n);
    const { bytesRead } = n > 0 ? await fh.read(buf, 0, n, offset) : { bytesRead: 0 };
    return { data: buf.subarray(0, bytesRead), offset, size: s.size };
  } finally {
    await fh.close();
  }
}

async function browse(ctx: AgentContext, req: agora.v1.BrowseFilesRequest): Promise<agora.v1.BrowseFilesResponse.$Properties> {
  const sandbox = await sandboxOf(ctx, req.frameworkId?.value ?? '', req.executorId?.value ?? '');
  const dir = await resolveInside(sandbox, req.path ?? '');
  const s = await stat(dir);
  const rel = (req.path ?? '').replace(/^\.?\/+|\/+$/g, '');
  if (!s.isDirectory()) {
    return { entries: [{ path: rel, size: s.size, directory: false, mtime: s.mtimeMs / 1000, mode: s.mode }] };
  }
  const root = await realpath(sandbox);
  const names = (await readdir(dir)).sort();
  const entries = await Promise.all(names.map(async (name) => {
    const entryPath = rel ? `${rel}/${name}` : name;
    const st = await entryStat(root, path.join(dir, name));
    return { path: entryPath, size: st?.isSymbolicLink() ? 0 : st?.size ?? 0, directory: st?.isDirectory() ?? false, mtime: (st?.mtimeMs ?? 0) / 1000, mode: st?.mode ?? 0 };
  }));
  return { entries };
}

type Unary<Req, Res> = grpc.handleUnaryCall<Req, Res>;

/** Handlers of the Files service. */
export function filesHandlers(ctx: AgentContext): { read: Unary<agora.v1.ReadFileRequest, agora.v1.ReadFileResponse.$Properties>; browse: Unary<agora.v1.BrowseFilesRequest, agora.v1.BrowseFilesResponse.$Properties> } {
  return {
    read: (call, cb) => { read(ctx, call.request).then((r) => cb(null, r), (e) => cb(toGrpcError(e))); },
    browse: (call, cb) => { browse(ctx, call.request).then((r) => cb(null, r), (e) => cb(toGrpcError(e))); },
  };
}

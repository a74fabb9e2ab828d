/**
 * Sandbox files of a task, proxied from its agent's Files service: /files/browse, /files/read
 * (with offset and length; offset=-1 reads the tail) and /files/download.
 *
 * The master names the sandbox itself, from the task: the caller gives a task ID (and, to be
 * held to it, a framework ID) and a path relative to that task's sandbox. Paths with `..`,
 * absolute paths and NUL bytes are refused here, before the agent is asked; the agent refuses
 * the same again and, on the real path, symlinks that resolve outside the sandbox (it alone
 * can see them), which is answered 403 as well.
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { FilesClient, grpc, idOf, type Task } from '@agora/core';
import type { HttpContext } from './context.js';
import { badRequest, HttpError, int, str, type Query } from './query.js';
import { findTasks } from './views.js';

/** Bytes read when the request gives no length, and the most one read may ask for. */
export const DEFAULT_READ_LENGTH = 64 << 10;
export const MAX_READ_LENGTH = 1 << 20;
/** Chunk size of downloads (one agent read each). */
const DOWNLOAD_CHUNK = 1 << 20;

/** Refuses paths that could leave the sandbox by their text (the agent checks the real path). */
export function checkSandboxPath(p: string): string {
  if (p.includes('\u0000')) throw badRequest('path contains a NUL byte');
  if (p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p)) throw new HttpError(403, `path '${p}' is absolute; give it relative to the task's sandbox`);
  if (p.split(/[\\/]/).includes('..')) throw new HttpError(403, `path '${p}' contains '..'; it may not leave the task's sandbox`);
  return p.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
}

/** What a files request resolved to: the task, its sandbox name and its agent. */
interface Target {
  task: Task;
  frameworkId: string;
  executorId: string;
  agentId: string;
  address: string;
  path: string;
}

/** gRPC errors of the agent's Files service as HTTP errors. */
function fromAgent(e: unknown, t: Target): HttpError {
  const err = e as grpc.ServiceError;
  const details = err.details || err.message || String(e);
  switch (err.code) {
    case grpc.status.INVALID_ARGUMENT:
      // The agent's refusals of escapes (symlinks, '..', absolute paths) are 403 like ours.
      return /outside the sandbox|must be relative|may not contain/.test(details) ? new HttpError(403, details) : new HttpError(400, details);
    case grpc.status.NOT_FOUND: return new HttpError(404, details);
    case grpc.status.PERMISSION_DENIED: return new HttpError(403, details);
    default: return new HttpError(502, `agent ${t.agentId} at ${t.address} did not answer: ${details}`);
  }
}

export class FilesProxy {
  private readonly clients = new Map<string, FilesClient>();

  constructor(private readonly ctx: HttpContext) {}

  /**
   * Resolves taskId (+ frameworkId) to the task's sandbox on its agent; refuses what it must,
   * including what the access_sandboxes ACL denies `principal` (the authenticated caller).
   */
  target(q: Query, principal?: string): Target {
    const taskId = str(q, 'taskId', 200);
    if (!taskId) throw badRequest('taskId is required');
    const frameworkId = str(q, 'frameworkId', 200);
    const p = checkSandboxPath(str(q, 'path', 4096) ?? '');
    const all = findTasks(this.ctx.state, taskId);
    if (all.length === 0) throw new HttpError(404, `task '${taskId}' is not known to the master`);
    let found = all;
    if (frameworkId) {
      found = all.filter((t) => idOf(t.frameworkId) === frameworkId);
      if (found.length === 0) throw new HttpError(403, `task '${taskId}' does not belong to framework '${frameworkId}'; its sandbox is not yours to read`);
    }
    if (found.length > 1) throw new HttpError(409, `task ID '${taskId}' is used by ${found.length} frameworks; add frameworkId=`);
    const task = found[0]!;
    if (this.ctx.authorizeSandbox) {
      // The user the task was launched as; for a task this master only knows from its agent's
      // re-registration, its framework's. A framework gone with it leaves no user to check.
      const fid = idOf(task.frameworkId);
      const user = this.ctx.state.tasks.get(fid, taskId)?.user ?? this.ctx.state.frameworks.get(fid)?.info.user ?? undefined;
      if (user === undefined) throw new HttpError(403, `task '${taskId}': its framework is gone, so the user its sandbox belongs to is not known; access_sandboxes cannot allow it`);
      const denied = this.ctx.authorizeSandbox(principal ?? '', { user, frameworkId: fid });
      if (denied) throw new HttpError(403, denied);
    }
    const agentId = idOf(task.agentId);
    const agent = this.ctx.state.agents.get(agentId);
    if (!agent) throw new HttpError(404, `agent '${agentId}' of task '${taskId}' is not known to the master any more; its sandbox cannot be reached`);
    const address = agent.info.address ?? '';
    if (!address) throw new HttpError(502, `agent '${agentId}' registered no address`);
    return { task, frameworkId: idOf(task.frameworkId), executorId: idOf(task.executorId) || taskId, agentId, address, path: p };
  }

  private client(address: string): FilesClient {
    let c = this.clients.get(address);
    if (!c) this.clients.set(address, (c = new FilesClient(address, 10_000)));
    return c;
  }

  async browse(t: Target): Promise<Record<string, unknown>> {
    try {
      const res = await this.client(t.address).browse({ frameworkId: { value: t.frameworkId }, executorId: { value: t.executorId }, path: t.path });
      return {
        path: t.path,
        entries: res.entries.map((e) => ({
          path: e.path ?? '', name: path.posix.basename(e.path ?? ''), size: e.size ?? 0, mtime: e.mtime ?? 0, isDir: !!e.directory, mode: e.mode ?? 0,
        })),
      };
    } catch (e) {
      throw fromAgent(e, t);
    }
  }

  /** One read; offset -1 means the last `length` bytes. */
  async read(t: Target, offset: number, length: number): Promise<{ data: Buffer; offset: number; size: number }> {
    if (!t.path) throw badRequest('path is required (e.g. "stdout")');
    const c = this.client(t.address);
    const base = { frameworkId: { value: t.frameworkId }, executorId: { value: t.executorId }, path: t.path };
    try {
      let at = offset;
      if (offset < 0) {
        // The tail: ask the size first (a 1-byte read), then read the end.
        const head = await c.read({ ...base, offset: 0, length: 1 });
        at = Math.max(0, (head.size ?? 0) - length);
      }
      const res = await c.read({ ...base, offset: at, length });
      return { data: Buffer.from(res.data ?? []), offset: res.offset ?? at, size: res.size ?? 0 };
    } catch (e) {
      throw fromAgent(e, t);
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}

/** The principal the authentication hook found (undefined when the master authenticates no one). */
function principalOf(req: unknown): string | undefined {
  return (req as { principal?: string }).principal;
}

export function fileRoutes(app: FastifyInstance, files: FilesProxy): void {
  app.get('/files/browse', async (req) => files.browse(files.target(req.query as Query, principalOf(req))));

  app.get('/files/read', async (req) => {
    const q = req.query as Query;
    const t = files.target(q, principalOf(req));
    const offset = int(q, 'offset', { min: -1, max: Number.MAX_SAFE_INTEGER, dflt: 0 });
    const length = int(q, 'length', { min: 1, max: MAX_READ_LENGTH, dflt: DEFAULT_READ_LENGTH });
    const r = await files.read(t, offset, length);
    return { data: r.data.toString('utf8'), offset: r.offset, length: r.data.length, eof: r.offset + r.data.length >= r.size, size: r.size };
  });

  app.get('/files/download', async (req, reply) => {
    const t = files.target(req.query as Query, principalOf(req));
    // The first chunk answers errors (404, 403) before any byte of the body is sent.
    const first = await files.read(t, 0, DOWNLOAD_CHUNK);
    const name = path.posix.basename(t.path).replace(/[^\w.-]+/g, '_') || 'file';
    reply.header('content-type', 'application/octet-stream');
    reply.header('content-disposition', `attachment; filename="${name}"`);
    reply.header('content-length', String(first.size));
    async function* chunks(): AsyncGenerator<Buffer> {
      yield first.data;
      let at = first.data.length;
      while (at < first.size) {
        const next = await files.read(t, at, DOWNLOAD_CHUNK);
        if (next.data.length === 0) break;
        // A file that shrinks under us ends early: never send more than announced.
        const room = first.size - at;
        yield next.data.length > room ? next.data.subarray(0, room) : next.data;
        at += Math.min(next.data.length, room);
      }
    }
    return reply.send(Readable.from(chunks()));
  });
}

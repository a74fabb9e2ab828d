/**
 * GET /events: the master's change feed as Server-Sent Events.
 *
 * A client first gets `event: snapshot` (the /state answer with the first page of tasks),
 * then one event per change. Changes are coalesced over a short window (FLUSH_MS): an agent,
 * framework or task that changed five times in it is sent once, as it stands at flush time,
 * so a burst of 10k task updates costs one JSON per task, not per update, and no more when
 * several clients listen (each event is serialized once and written to every client).
 *
 * Slow clients are dropped, not buffered: a client whose socket holds more than
 * MAX_BUFFERED_BYTES unwritten is disconnected (it can reconnect and get a fresh snapshot).
 */
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { MasterEvent } from '../events.js';
import type { UtilizationSample } from '../utilization.js';
import type { HttpContext } from './context.js';
import { snapshotJson } from './routes-state.js';
import { aggregateTasks, type TaskAggregate } from './aggregate.js';
import { agentJson, frameworkJson, taskJson } from './views.js';

/** Coalescing window of the feed. */
const FLUSH_MS = 100;
/** Unwritten bytes after which a client counts as too slow and is dropped. */
export const MAX_BUFFERED_BYTES = 4 << 20;
/** Comment lines keep proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

interface Client {
  readonly res: ServerResponse;
  closed: boolean;
}

/** Fans the change feed out to SSE clients. */
export class EventHub {
  private readonly clients = new Set<Client>();
  private pending = new Map<string, MasterEvent>();
  private seq = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  /** Clients dropped for being slow, since start. */
  dropped = 0;

  constructor(private readonly ctx: HttpContext, private readonly maxBuffered = MAX_BUFFERED_BYTES) {
    this.unsubscribe = ctx.state.events.on((e) => this.onEvent(e));
    this.heartbeat = setInterval(() => this.write(': heartbeat\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.clients.size;
  }

  /** Takes over a response: headers, the snapshot, then the feed until the client leaves. */
  attach(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const client: Client = { res, closed: false };
    this.clients.add(client);
    const gone = (): void => {
      client.closed = true;
      this.clients.delete(client);
    };
    res.on('close', gone);
    res.on('error', gone);
    this.send(client, `retry: 2000\n\n${frame('snapshot', snapshotJson(this.ctx))}`);
  }

  /** Sends a utilization sample to every client. */
  utilization(sample: UtilizationSample): void {
    if (this.clients.size > 0) this.write(frame('utilization', { sample }));
  }

  /** Ends every client and stops listening. */
  close(): void {
    this.unsubscribe();
    clearInterval(this.heartbeat);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const c of [...this.clients]) {
      c.closed = true;
      c.res.end();
    }
    this.clients.clear();
  }

  private onEvent(e: MasterEvent): void {
    if (this.clients.size === 0) return;
    let key: string;
    switch (e.type) {
      case 'agent_updated': key = `a:${e.agent.id}`; break;
      case 'framework_updated': key = `f:${e.framework.id}`; break;
      case 'task_updated': key = `t:${e.task.key}`; break;
      // Additions and removals keep their place in the order (unique keys).
      default: key = `${e.type}:${++this.seq}`;
    }
    if (!this.pending.has(key)) this.pending.set(key, e);
    if (!this.flushTimer) {
      // A bug in building one event must cost that batch, never the master (this runs outside
      // any request, where a throw would be uncaught).
      this.flushTimer = setTimeout(() => {
        try { this.flush(); } catch (e) { this.ctx.log.error({ err: (e as Error).message }, 'event stream: a batch could not be sent'); }
      }, FLUSH_MS);
      this.flushTimer.unref();
    }
  }

  private flush(): void {
    this.flushTimer = undefined;
    const batch = this.pending;
    this.pending = new Map();
    if (this.clients.size === 0) return;
    const m = this.ctx.state;
    let agg: TaskAggregate | undefined;
    const parts: string[] = [];
    for (const e of batch.values()) {
      switch (e.type) {
        case 'agent_added': case 'agent_updated': case 'agent_removed':
          parts.push(frame(e.type, { agent: agentJson(m, e.agent) }));
          break;
        case 'framework_added': case 'framework_updated': case 'framework_removed':
          agg ??= aggregateTasks(m);
          parts.push(frame(e.type, { framework: frameworkJson(m, e.framework, agg) }));
          break;
        case 'task_updated':
          parts.push(frame(e.type, { task: taskJson(e.task.task, this.ctx.history) }));
          break;
      }
    }
    if (parts.length > 0) this.write(parts.join(''));
  }

  private write(text: string): void {
    for (const c of this.clients) this.send(c, text);
  }

  private send(c: Client, text: string): void {
    if (c.closed) return;
    if (c.res.writableLength > this.maxBuffered) {
      // Too slow: cut it off rather than hold an ever-growing buffer for it.
      this.dropped++;
      c.closed = true;
      this.clients.delete(c);
      this.ctx.log.warn({ bufferedBytes: c.res.writableLength }, 'event stream client too slow; dropped');
      c.res.destroy();
      return;
    }
    c.res.write(text);
  }
}

function frame(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function eventRoutes(app: FastifyInstance, hub: EventHub): void {
  app.get('/events', (req, reply) => {
    reply.hijack();
    req.raw.socket.setNoDelay(true);
    req.raw.socket.setTimeout(0);
    hub.attach(reply.raw);
  });
}

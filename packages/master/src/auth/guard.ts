/**
 * Wraps the master's gRPC handlers with what authentication alone cannot decide: rate limits
 * per principal, the ACLs of the operator API, and the admission of agents. Like the HA gate,
 * it wraps handlers from outside, so the API modules stay unaware of it; they read the
 * verified principal from the call metadata (core's `authenticatedPrincipal`) where a
 * decision needs the call's content (SUBSCRIBE roles, LAUNCH users, RESERVE roles).
 */
import { authenticatedPrincipal, grpc, idOf, type agora } from '@agora/core';
import type { MasterState } from '../master-state.js';
import type { CompiledMasterSecurity } from './master-security.js';
import type { TokenBucket } from './rate-limit.js';

type Handler = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => void;

interface GuardedStream extends NodeJS.EventEmitter {
  metadata: grpc.Metadata;
  pause(): unknown;
  resume(): unknown;
}

const fail = (code: grpc.status, details: string): grpc.ServiceError =>
  Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() }) as grpc.ServiceError;

/** Calls in one frame of a stream (each call costs one token). */
const callsIn = (frame: unknown): number => Math.max(1, ((frame as { calls?: unknown[] }).calls ?? []).length);

export class MasterGuard {
  constructor(private readonly sec: CompiledMasterSecurity, private readonly m: MasterState) {}

  /**
   * A stream handler whose frames pass the principal's rate limit (delayed, never dropped: see
   * rate-limit.ts) and, for agents, whose REGISTER passes `register_agents`.
   */
  stream<S extends GuardedStream>(kind: 'scheduler' | 'agent', connect: (stream: S) => void): (stream: S) => void {
    return (stream: S): void => {
      const authenticated = authenticatedPrincipal(stream.metadata) ?? '';
      let principal = authenticated;
      let first = true;
      const on = stream.on.bind(stream);
      (stream as NodeJS.EventEmitter).on = (event: string | symbol, listener: (...args: unknown[]) => void) => {
        if (event !== 'data') return on(event, listener);
        const limited = this.limited(stream, () => principal, (frame) => listener(frame));
        return on('data', (frame: unknown) => {
          if (first) {
            first = false;
            // Without authentication the claimed framework principal is all there is (as in Mesos).
            if (kind === 'scheduler' && !principal) principal = (frame as agora.v1.CallBatch).calls?.[0]?.subscribe?.frameworkInfo?.principal ?? '';
            if (kind === 'agent') {
              const hostname = (frame as agora.v1.AgentCallBatch).calls?.[0]?.register?.agentInfo?.hostname ?? '';
              const denied = this.sec.authorizer.registerAgent(authenticated || undefined, hostname);
              if (denied) {
                this.m.log.warn({ principal: authenticated, hostname }, `agent refused: ${denied}`);
                stream.emit('error', fail(grpc.status.PERMISSION_DENIED, denied));
                return;
              }
            }
          }
          limited(frame);
        });
      };
      connect(stream);
    };
  }

  /** Delivers frames in order, each once the principal's bucket allows; pauses the stream meanwhile. */
  private limited(stream: GuardedStream, principal: () => string, deliver: (frame: unknown) => void): (frame: unknown) => void {
    const limiter = this.sec.limiter;
    if (!limiter) return deliver;
    const queue: { frame: unknown; readyAt: number | undefined }[] = [];
    let timer: NodeJS.Timeout | undefined;
    let bucket: TokenBucket | null | undefined;
    const pump = (): void => {
      timer = undefined;
      while (queue.length > 0) {
        const head = queue[0] as { frame: unknown; readyAt: number | undefined };
        bucket ??= limiter.bucketOf(principal());
        if (head.readyAt === undefined) head.readyAt = Date.now() + (bucket ? bucket.takeOrWait(callsIn(head.frame)) : 0);
        const wait = head.readyAt - Date.now();
        if (wait > 0) {
          stream.pause();
          timer = setTimeout(pump, wait);
          return;
        }
        queue.shift();
        deliver(head.frame);
      }
      stream.resume();
    };
    const stop = (): void => { if (timer) clearTimeout(timer); timer = undefined; queue.length = 0; };
    stream.once('close', stop);
    stream.once('cancelled', stop);
    return (frame) => {
      queue.push({ frame, readyAt: undefined });
      if (!timer) pump();
    };
  }

  /** Operator handlers behind the rate limit, `operator_api` and the per-method ACLs. */
  operator<T extends Record<string, Handler>>(handlers: T): T {
    const out: Record<string, Handler> = {};
    for (const [name, h] of Object.entries(handlers)) {
      const method = name.charAt(0).toUpperCase() + name.slice(1);
      out[name] = (call, cb) => {
        if (name === 'getHealth') return h(call, cb);
        const principal = authenticatedPrincipal(call.metadata);
        const bucket = this.sec.limiter?.bucketOf(principal ?? '');
        if (bucket && !bucket.tryTake()) {
          return cb(fail(grpc.status.RESOURCE_EXHAUSTED, `${method}: rate limit exceeded: ${this.sec.limiter?.describe(principal ?? '')}; retry later`));
        }
        const denied = this.sec.authorizer.operatorMethod(principal, method) ?? this.methodAcl(name, principal, call.request);
        if (denied) {
          this.m.log.warn({ principal, method }, `operator call refused: ${denied}`);
          return cb(fail(grpc.status.PERMISSION_DENIED, `${method}: ${denied}`));
        }
        return h(call, cb);
      };
    }
    return out as T;
  }

  /** The ACL specific to a method's object (which framework, which role, which agent). */
  private methodAcl(name: string, principal: string | undefined, req: unknown): string | undefined {
    const a = this.sec.authorizer;
    switch (name) {
      case 'teardown': {
        const fw = this.m.frameworks.get(idOf((req as agora.v1.TeardownRequest).frameworkId));
        // An unknown framework is answered NOT_FOUND by the handler.
        return fw ? a.teardown(principal, fw.info.principal ?? '') : undefined;
      }
      case 'updateRole': {
        const r = req as agora.v1.UpdateRoleRequest;
        const weight = Object.prototype.hasOwnProperty.call(r, 'weight') && r.weight !== null && r.weight !== undefined;
        return a.updateRole(principal, r.role ?? '', weight, !!r.setQuota);
      }
      case 'drainAgent':
      case 'reactivateAgent': {
        const agent = this.m.agents.get(idOf((req as agora.v1.DrainAgentRequest).agentId));
        return agent ? a.drainAgent(principal, agent.info.hostname ?? '') : undefined;
      }
      default:
        return undefined;
    }
  }
}

/**
 * The role and "why not offered" RPCs of the operator API (GetRoles, UpdateRole,
 * ExplainOffers) with promises and a deadline, for `agora roles` and `agora why`. Core's
 * OperatorClient predates them; this talks to the same service definition.
 */
import { agora, clientTransport, defaultClientSecurity, grpc, OperatorService } from '@agora/core';
import { MASTER_DEADLINE_MS } from './base-command.js';
import { UserError, oneLine, peerError } from './errors.js';
import { parseMasters } from './flags.js';

type Cb<Res> = (err: grpc.ServiceError | null, res?: Res) => void;
type Unary<Req, Res> = (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: Cb<Res>) => grpc.ClientUnaryCall;
interface Raw extends grpc.Client {
  getRoles: Unary<agora.v1.GetRolesRequest.$Properties, agora.v1.GetRolesResponse>;
  updateRole: Unary<agora.v1.UpdateRoleRequest.$Properties, agora.v1.UpdateRoleResponse>;
  explainOffers: Unary<agora.v1.ExplainOffersRequest.$Properties, agora.v1.ExplainOffersResponse>;
}

/** Role RPCs against one master. */
export class RolesClient {
  private readonly raw: Raw;

  constructor(address: string, private readonly timeoutMs = MASTER_DEADLINE_MS) {
    const Ctor = grpc.makeGenericClientConstructor(OperatorService, 'Operator');
    // TLS and credentials as every other client of this process (the security flags).
    const { credentials, interceptors, options } = clientTransport(address, defaultClientSecurity());
    this.raw = new Ctor(address, credentials, { ...options, interceptors }) as unknown as Raw;
  }

  private call<Req, Res>(fn: Unary<Req, Res>, req: Req): Promise<Res> {
    return new Promise((resolve, reject) => {
      fn.call(this.raw, req, new grpc.Metadata(), { deadline: Date.now() + this.timeoutMs }, (err, res) => (err ? reject(err) : resolve(res as Res)));
    });
  }

  getRoles(): Promise<agora.v1.GetRolesResponse> { return this.call(this.raw.getRoles, {}); }
  updateRole(req: agora.v1.UpdateRoleRequest.$Properties): Promise<agora.v1.UpdateRoleResponse> { return this.call(this.raw.updateRole, req); }
  explainOffers(frameworkId: string): Promise<agora.v1.ExplainOffersResponse> { return this.call(this.raw.explainOffers, { frameworkId: { value: frameworkId } }); }
  close(): void { this.raw.close(); }
}

/** Runs `fn` against the first master of `masterList` that answers (as BaseCommand.withOperator). */
export async function withRoles<T>(masterList: string, fn: (c: RolesClient) => Promise<T>): Promise<T> {
  let masters: string[];
  try {
    masters = parseMasters(masterList);
  } catch (err) {
    throw new UserError(oneLine(err));
  }
  let last: UserError | undefined;
  for (const address of masters) {
    const client = new RolesClient(address);
    try {
      return await fn(client);
    } catch (err) {
      // A refusal (bad argument, unknown framework) is the answer, not an unreachable master.
      const code = (err as { code?: number }).code;
      if (code === grpc.status.INVALID_ARGUMENT || code === grpc.status.NOT_FOUND) throw new UserError((err as { details?: string }).details ?? oneLine(err));
      last = peerError(err, 'master', address, MASTER_DEADLINE_MS);
    } finally {
      client.close();
    }
  }
  throw last ?? new UserError('no master to ask');
}

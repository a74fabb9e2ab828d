/**
 * Turning every failure into one line a user can act on. The CLI never shows a stack trace:
 * errors from the network, from flag parsing and from our own checks all end up here.
 */
import { grpc } from '@agora/core';

/** An error whose message is already fit for the user, with the exit code to use. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}

/** Words for the gRPC status codes a user meets when a peer is down or slow. */
function grpcReason(err: { code?: number; details?: string; message?: string }, deadlineMs?: number): string {
  const details = (err.details ?? err.message ?? '').trim();
  switch (err.code) {
    case grpc.status.UNAVAILABLE:
      if (/ECONNREFUSED|connection refused/i.test(details)) return 'connection refused';
      if (/ENOTFOUND|getaddrinfo|Name resolution/i.test(details)) return 'unknown host';
      if (/ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/i.test(details)) return 'host unreachable';
      return details ? `unavailable: ${details}` : 'unavailable';
    case grpc.status.DEADLINE_EXCEEDED:
      return deadlineMs ? `no answer within ${Math.round(deadlineMs / 100) / 10} s` : 'no answer in time';
    case grpc.status.UNIMPLEMENTED:
      return `it does not serve this API${details ? ` (${details})` : ''}; is it an Agora master?`;
    default:
      return details || 'unknown error';
  }
}

/** True for an error object coming from grpc-js. */
export function isGrpcError(err: unknown): err is grpc.ServiceError {
  return typeof err === 'object' && err !== null && typeof (err as { code?: unknown }).code === 'number' && 'details' in err;
}

/**
 * Maps a failed call to a peer (master or agent) to a UserError such as
 * `cannot reach the master at 127.0.0.1:5050 (connection refused)`.
 */
export function peerError(err: unknown, what: string, address: string, deadlineMs?: number): UserError {
  if (err instanceof UserError) return err;
  if (isGrpcError(err)) {
    if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
      return new UserError(`cannot reach the ${what} at ${address} (${grpcReason(err, deadlineMs)})`);
    }
    return new UserError(`the ${what} at ${address} answered with an error: ${grpcReason(err, deadlineMs)}`);
  }
  return new UserError(`${what} at ${address}: ${oneLine(err)}`);
}

/** The message of anything thrown, squeezed onto one line. */
export function oneLine(err: unknown): string {
  const raw = err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err);
  return (raw ?? 'unknown error')
    // oclif: "Parsing --port \n\t'x' is not a port" → "bad --port: 'x' is not a port"
    .replace(/^Parsing (--[\w-]+)\s*\n\s*/, 'bad $1: ')
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^See more help with --help$/.test(l))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

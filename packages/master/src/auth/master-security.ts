/**
 * The master's security options: transport (TLS), authentication, ACLs and rate limits,
 * compiled once (files read, values checked) like every other master option.
 */
import { compileServerSecurity, parseAcls, readAclsFile, type Acls, type CompiledServerSecurity, type ServerSecurityOptions } from '@agora/core';
import { MasterAuthorizer } from './authorizer.js';
import { RateLimiter, parseRateLimits, readRateLimitsFile, type RateLimits } from './rate-limit.js';

/** Security of a master. Every field is optional: none set, a plaintext, open master (loopback only). */
export interface MasterSecurityOptions extends ServerSecurityOptions {
  /**
   * ACLs: a file's path, its JSON text, or parsed ACLs (format and default-deny rule in
   * @agora/core security/acls.ts). @default none: everything is allowed
   */
  acls?: string | Acls;
  /** Per-principal rate limits: a file's path, its JSON text, or the object. @default none */
  rateLimits?: string | RateLimits;
  /**
   * Allow listening on a non-loopback address without authentication (a loud warning is
   * logged). @default false: such a master refuses to start
   */
  insecure?: boolean;
}

/** MasterSecurityOptions checked and loaded. */
export interface CompiledMasterSecurity {
  server: CompiledServerSecurity;
  authorizer: MasterAuthorizer;
  limiter: RateLimiter | undefined;
  insecure: boolean;
}

/** GetHealth answers anyone: load balancers and supervisors probe it without credentials. */
export const PUBLIC_METHODS = ['/agora.v1.Operator/GetHealth'];

/** Compiles the security options; throws an Error naming the bad file or value. */
export function compileMasterSecurity(o: MasterSecurityOptions = {}): CompiledMasterSecurity {
  const server = compileServerSecurity({ ...o, publicMethods: [...PUBLIC_METHODS, ...(o.publicMethods ?? [])], name: o.name ?? 'this master' });
  let acls: Acls | undefined;
  if (typeof o.acls === 'string') acls = o.acls.trim().startsWith('{') ? parseAcls(o.acls) : readAclsFile(o.acls);
  else acls = o.acls;
  let limits: RateLimits | undefined;
  if (typeof o.rateLimits === 'string') limits = o.rateLimits.trim().startsWith('{') ? parseRateLimits(o.rateLimits) : readRateLimitsFile(o.rateLimits);
  else limits = o.rateLimits;
  return { server, authorizer: new MasterAuthorizer(acls), limiter: limits ? new RateLimiter(limits) : undefined, insecure: o.insecure ?? false };
}

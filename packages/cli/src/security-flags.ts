/**
 * Security flags. Every command takes the client ones (BaseCommand.baseFlags): how this
 * process reaches masters and agents — TLS files, a principal and its secret. The services
 * (`agora master`, `agora agent`, `agora local`) also take the server ones: what they serve
 * and whom they admit. Each flag can come from the environment (AGORA_TLS_CA, …) so a shell
 * configured once talks to a secured cluster with every command.
 */
import { Flags } from '@oclif/core';
import { checkBindSafety, readCredentialsFile, readSecretFile, setDefaultClientSecurity, type ClientSecurity, type Credential } from '@agora/core';

/** How this process reaches the cluster (every command). */
export const clientSecurityFlags = {
  'tls-ca': Flags.string({ summary: 'Cluster CA certificate (PEM): use TLS and verify peers with it.', env: 'AGORA_TLS_CA', helpValue: 'FILE', helpGroup: 'SECURITY' }),
  'tls-cert': Flags.string({ summary: 'Certificate (PEM) presented to peers: mutual TLS, principal = its CN.', env: 'AGORA_TLS_CERT', helpValue: 'FILE', helpGroup: 'SECURITY' }),
  'tls-key': Flags.string({ summary: 'Private key (PEM) of --tls-cert.', env: 'AGORA_TLS_KEY', helpValue: 'FILE', helpGroup: 'SECURITY' }),
  principal: Flags.string({ summary: 'Principal to authenticate as (with --secret-file).', env: 'AGORA_PRINCIPAL', helpGroup: 'SECURITY' }),
  'secret-file': Flags.string({ summary: 'File holding the secret of --principal.', env: 'AGORA_SECRET_FILE', helpValue: 'FILE', helpGroup: 'SECURITY' }),
};

/** What the services admit (`agora master`, `agora agent`, `agora local`). */
export const serverSecurityFlags = {
  'tls-required': Flags.boolean({ summary: 'Refuse plaintext connections (needs --tls-cert/--tls-key).', default: false, helpGroup: 'SECURITY' }),
  credentials: Flags.string({ summary: 'Principals and secrets that may connect; authentication becomes required.', env: 'AGORA_CREDENTIALS', helpValue: 'FILE', helpGroup: 'SECURITY' }),
  authenticate: Flags.boolean({ summary: 'Require authentication (a secret from --credentials, or a client certificate signed by --tls-ca).', default: false, helpGroup: 'SECURITY' }),
  insecure: Flags.boolean({ summary: 'Allow a non-loopback --host without authentication (prints a warning).', default: false, helpGroup: 'SECURITY' }),
};

/** Master-only: ACLs and rate limits. */
export const masterPolicyFlags = {
  acls: Flags.string({ summary: 'ACL file (JSON, Mesos-like: register_frameworks, run_tasks, teardown_frameworks, …).', env: 'AGORA_ACLS', helpValue: 'FILE', helpGroup: 'SECURITY' }),
  'rate-limits': Flags.string({ summary: 'Per-principal rate limits (JSON, like Mesos --rate_limits).', helpValue: 'FILE', helpGroup: 'SECURITY' }),
};

type ClientFlags = { 'tls-ca'?: string; 'tls-cert'?: string; 'tls-key'?: string; principal?: string; 'secret-file'?: string };
type ServerFlags = ClientFlags & { 'tls-required'?: boolean; credentials?: string; authenticate?: boolean; insecure?: boolean };

/** The client security the flags describe (undefined: plaintext, anonymous). Throws an Error naming the bad flag. */
export function clientSecurityOf(flags: ClientFlags): ClientSecurity | undefined {
  let credential: Credential | undefined;
  if (flags.principal || flags['secret-file']) {
    if (!flags.principal) throw new Error('--secret-file needs --principal');
    if (!flags['secret-file']) throw new Error('--principal needs --secret-file (a file holding its secret)');
    credential = { principal: flags.principal, secret: readSecretFile(flags['secret-file']) };
  }
  const tls = flags['tls-ca'] || flags['tls-cert'] || flags['tls-key']
    ? { ...(flags['tls-ca'] ? { ca: flags['tls-ca'] } : {}), ...(flags['tls-cert'] ? { cert: flags['tls-cert'] } : {}), ...(flags['tls-key'] ? { key: flags['tls-key'] } : {}) }
    : undefined;
  if (!tls && !credential) return undefined;
  return { ...(tls ? { tls } : {}), ...(credential ? { credential } : {}) };
}

/** Makes the flags' client security the default of every client in this process. */
export function applyClientSecurity(flags: ClientFlags): void {
  setDefaultClientSecurity(clientSecurityOf(flags));
}

/** The transport and authentication part of a master's or an agent's options. */
function serverPart(flags: ServerFlags): { tls?: { ca?: string; cert?: string; key?: string }; tlsRequired?: boolean; credentials?: string; authenticate?: boolean; insecure?: boolean } {
  const tls = flags['tls-cert'] || flags['tls-ca']
    ? { ...(flags['tls-ca'] ? { ca: flags['tls-ca'] } : {}), ...(flags['tls-cert'] ? { cert: flags['tls-cert'] } : {}), ...(flags['tls-key'] ? { key: flags['tls-key'] } : {}) }
    : undefined;
  return {
    ...(tls ? { tls } : {}),
    ...(flags['tls-required'] ? { tlsRequired: true } : {}),
    ...(flags.credentials ? { credentials: flags.credentials } : {}),
    ...(flags.authenticate ? { authenticate: true } : {}),
    ...(flags.insecure ? { insecure: true } : {}),
  };
}

/** MasterOptions.security from the flags. */
export function masterSecurityOptions(flags: ServerFlags & { acls?: string; 'rate-limits'?: string }): { security: Record<string, unknown> } {
  return { security: { ...serverPart(flags), ...(flags.acls ? { acls: flags.acls } : {}), ...(flags['rate-limits'] ? { rateLimits: flags['rate-limits'] } : {}) } };
}

/**
 * AgentOptions.security from the flags: the agent serves with the same TLS files, and presents
 * its certificate (mutual TLS) and/or --principal/--secret-file to the master.
 */
export function agentSecurityOptions(flags: ServerFlags, own?: Credential): { security: Record<string, unknown> } {
  const credential = own ?? clientSecurityOf(flags)?.credential;
  return { security: { ...serverPart(flags), ...(credential ? { credential } : {}) } };
}

/** With --insecure on a reachable address: the loud warning line, on stderr, before anything starts. */
export function warnIfInsecure(service: string, host: string, flags: ServerFlags): void {
  if (!flags.insecure) return;
  const warning = checkBindSafety(service, host, !!(flags.authenticate || flags.credentials), true);
  if (warning) process.stderr.write(`agora: ${warning}\n`);
}

/**
 * `agora local --credentials FILE` without --principal: the agent and the frameworks it runs
 * in this process authenticate as the file's first principal (they are the operator's own).
 */
export function adoptLocalCredential(flags: ServerFlags): Credential | undefined {
  if (!flags.credentials || flags.principal) return undefined;
  const first = readCredentialsFile(flags.credentials)[0];
  if (!first) throw new Error(`${flags.credentials} lists no principal`);
  setDefaultClientSecurity({ ...clientSecurityOf(flags), credential: first });
  return first;
}

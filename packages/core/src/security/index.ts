/**
 * Transport security and access control shared by every Agora endpoint: TLS material,
 * principals and secrets, the authenticating server, secure clients, and ACLs.
 */
export { loadTls, commonNameOf, isLoopbackHost } from './tls.js';
export type { TlsOptions, TlsMaterial } from './tls.js';
export {
  parseCredentials, readCredentialsFile, readSecretFile, credentialHeader, credentialFromMetadata, secretsEqual, authenticatedPrincipal,
  AUTHORIZATION_KEY, PRINCIPAL_KEY,
} from './credentials.js';
export type { Credential } from './credentials.js';
export { compileServerSecurity, authenticateCall, authenticateHttpRequest, checkBindSafety } from './server-security.js';
export type { ServerSecurityOptions, CompiledServerSecurity, Refusal } from './server-security.js';
export { clientTransport, setDefaultClientSecurity, defaultClientSecurity } from './client-security.js';
export type { ClientSecurity } from './client-security.js';
export { ACL_ACTIONS, parseAcls, readAclsFile, authorize } from './acls.js';
export type { Acls, AclAction, AclEntity, AclVerdict } from './acls.js';
export { httpsServerOptions } from './https.js';
export type { HttpsServerOptions } from './https.js';

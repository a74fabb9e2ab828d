/**
 * Principals and their secrets (Mesos `--credentials`): the file format, how a credential
 * travels in gRPC call metadata, and the constant-time check of a presented secret.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Metadata } from '@grpc/grpc-js';

/** One principal and its secret. */
export interface Credential {
  principal: string;
  secret: string;
}

/**
 * Metadata key of a presented credential: `Basic base64(principal:secret)`, as HTTP Basic
 * authentication, so proxies and logs treat it as the secret it is.
 */
export const AUTHORIZATION_KEY = 'authorization';
/**
 * Metadata key the server sets, after authentication, to the verified principal. Whatever a
 * client puts under this key is removed before the handlers run, so handlers can trust it.
 */
export const PRINCIPAL_KEY = 'x-agora-principal';

/** Reads a file holding a secret; surrounding whitespace (the trailing newline) is dropped. */
export function readSecretFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the secret file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const secret = text.trim();
  if (!secret) throw new Error(`the secret file ${path} is empty`);
  return secret;
}

/**
 * Parses a credentials file. Two formats, as Mesos accepts:
 * JSON `{"credentials": [{"principal": "web", "secret": "s3cret"}, …]}`, or text with one
 * `principal secret` pair per line (`#` starts a comment). Throws an Error naming the line or
 * entry at fault; a principal listed twice is an error (which secret would win?).
 */
export function parseCredentials(text: string, source = 'credentials'): Credential[] {
  const out: Credential[] = [];
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let doc: unknown;
    try {
      doc = JSON.parse(trimmed);
    } catch (e) {
      throw new Error(`${source}: not valid JSON: ${(e as Error).message}`);
    }
    const list = (doc as { credentials?: unknown }).credentials;
    if (!Array.isArray(list)) throw new Error(`${source}: expected {"credentials": [{"principal": …, "secret": …}]}`);
    for (const [i, c] of list.entries()) {
      const { principal, secret } = (c ?? {}) as { principal?: unknown; secret?: unknown };
      if (typeof principal !== 'string' || !principal) throw new Error(`${source}: credentials[${i}].principal must be a non-empty string`);
      if (typeof secret !== 'string' || !secret) throw new Error(`${source}: credentials[${i}].secret must be a non-empty string`);
      out.push({ principal, secret });
    }
  } else {
    for (const [i, raw] of text.split('\n').entries()) {
      const line = raw.replace(/#.*$/, '').trim();
      if (!line) continue;
      const m = /^(\S+)\s+(\S+)$/.exec(line);
      if (!m) throw new Error(`${source}:${i + 1}: expected 'principal secret'`);
      out.push({ principal: m[1] as string, secret: m[2] as string });
    }
  }
  const seen = new Set<string>();
  for (const c of out) {
    if (c.principal.includes(':')) throw new Error(`${source}: principal '${c.principal}' contains ':'`);
    if (seen.has(c.principal)) throw new Error(`${source}: principal '${c.principal}' is listed twice`);
    seen.add(c.principal);
  }
  return out;
}

/** Reads and parses a credentials file (see parseCredentials). */
export function readCredentialsFile(path: string): Credential[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the credentials file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseCredentials(text, path);
}

/** The metadata value carrying a credential. */
export function credentialHeader(c: Credential): string {
  return `Basic ${Buffer.from(`${c.principal}:${c.secret}`, 'utf8').toString('base64')}`;
}

/** The credential in call metadata, `undefined` when none, or an error sentence when malformed. */
export function credentialFromMetadata(md: Metadata): Credential | string | undefined {
  const v = md.get(AUTHORIZATION_KEY)[0];
  if (v === undefined) return undefined;
  const m = /^Basic\s+(\S+)$/i.exec(String(v));
  if (!m) return 'malformed credentials: expected "authorization: Basic base64(principal:secret)"';
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return 'malformed credentials: expected principal:secret';
  return { principal: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

/**
 * True when `presented` equals `expected`, in time independent of where they differ: both are
 * hashed first, so neither the length nor a common prefix leaks through timing.
 */
export function secretsEqual(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/** The principal the server verified for this call, if any (set by the authenticating server). */
export function authenticatedPrincipal(md: Metadata | undefined): string | undefined {
  const v = md?.get(PRINCIPAL_KEY)[0];
  return v === undefined || v === '' ? undefined : String(v);
}

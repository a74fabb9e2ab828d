import { randomUUID } from 'node:crypto';

/** A new globally unique ID with a readable prefix, e.g. `agent-3f2a…`. */
export function newId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

/** A new status update UUID as bytes (16). */
export function newUuidBytes(): Uint8Array {
  return Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
}

/** Hex string of a UUID's bytes, for maps and logs. */
export function uuidHex(bytes: Uint8Array | null | undefined): string {
  return bytes && bytes.length > 0 ? Buffer.from(bytes).toString('hex') : '';
}

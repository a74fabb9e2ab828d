/**
 * Role names and the hierarchy they imply (Mesos hierarchical roles): `eng/web` is a child of
 * `eng`; resources reserved for `eng` may be allocated to `eng/web`, and quota of `eng` bounds
 * everything its subtree holds. `*` is the default role of everything unreserved.
 */
import type { Resource } from '@agora/core';
import type { RoleConfig } from './types.js';

/** The default role (unreserved resources, frameworks without roles). */
export const DEFAULT_ROLE = '*';

/**
 * Checks a role name: path segments of letters, digits, `_`, `.`, `-`, separated by `/`; no
 * empty, `.` or `..` segment; `*` alone is the default role. Returns the problem or undefined.
 */
export function validateRoleName(role: string): string | undefined {
  if (role === DEFAULT_ROLE) return undefined;
  if (typeof role !== 'string' || role.length === 0) return 'a role name is empty';
  if (role.length > 256) return `role name '${role.slice(0, 32)}…' is longer than 256 characters`;
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(role)) return `role name '${role}' must be segments of letters, digits, '_', '.', '-' separated by '/'`;
  if (role.split('/').some((s) => s === '.' || s === '..')) return `role name '${role}' has a '.' or '..' segment`;
  return undefined;
}

/** The parent role ('' for a top-level role). */
export function parentRole(role: string): string {
  const i = role.lastIndexOf('/');
  return i < 0 ? '' : role.slice(0, i);
}

/** True when `role` is `ancestor` or below it (`eng/web` is within `eng`). */
export function isWithin(role: string, ancestor: string): boolean {
  return role === ancestor || (role.length > ancestor.length && role.startsWith(ancestor) && role.charCodeAt(ancestor.length) === 47 /* '/' */);
}

/** The role a resource is reserved for ('*' when unreserved); the last (innermost) reservation. */
export function reservedFor(r: Resource): string {
  const rs = r.reservations;
  if (!rs || rs.length === 0) return DEFAULT_ROLE;
  return rs[rs.length - 1]?.role || DEFAULT_ROLE;
}

/** True when a framework allocating to `role` may be offered `r`. */
export function mayUse(r: Resource, role: string): boolean {
  const res = reservedFor(r);
  return res === DEFAULT_ROLE || isWithin(role, res);
}

/** Weight of a role from the configuration (1 when unset or invalid). */
export function weightOf(roles: ReadonlyMap<string, RoleConfig> | undefined, role: string): number {
  const w = roles?.get(role)?.weight;
  return typeof w === 'number' && w > 0 && Number.isFinite(w) ? w : 1;
}

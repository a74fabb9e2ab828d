/**
 * Placement constraints (Marathon's operators) evaluated against one offer and the app's
 * instances already placed. Pure: `violation()` returns the reason an offer is unfit, in words
 * that go straight into "why isn't my app running".
 */
import type { Attribute, Offer } from '@agora/sdk';
import type { Constraint } from './app.js';

/** Where an instance runs, as far as constraints care. */
export interface Placement {
  hostname: string;
  attributes: Record<string, string>;
}

/** An attribute's value as text: scalars as numbers, sets as `{a,b}`, ranges as `[1-4]`. */
export function attributeText(a: Attribute): string {
  if (a.text?.value !== undefined && a.text.value !== null) return a.text.value;
  if (a.scalar?.value !== undefined && a.scalar.value !== null) return String(a.scalar.value);
  if (a.set?.item) return `{${a.set.item.join(',')}}`;
  if (a.ranges?.range) return `[${a.ranges.range.map((r) => `${r.begin}-${r.end}`).join(',')}]`;
  return '';
}

export function placementOf(offer: Offer): Placement {
  const attributes: Record<string, string> = {};
  for (const a of offer.attributes ?? []) if (a.name) attributes[a.name] = attributeText(a);
  return { hostname: offer.hostname ?? '', attributes };
}

function fieldValue(p: Placement, field: string): string | undefined {
  return field === 'hostname' ? p.hostname : p.attributes[field];
}

function matches(pattern: string, value: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(value);
}

/**
 * Why `offer` cannot take one more instance, given where the others run (`placed`), or undefined
 * when every constraint holds.
 */
export function violation(constraints: readonly Constraint[], offer: Placement, placed: readonly Placement[]): string | undefined {
  for (const c of constraints) {
    const why = check(c, offer, placed);
    if (why) return `constraint ${JSON.stringify(c)}: ${why}`;
  }
  return undefined;
}

function check([field, op, value]: Constraint, offer: Placement, placed: readonly Placement[]): string | undefined {
  const mine = fieldValue(offer, field);
  const what = field === 'hostname' ? `host ${offer.hostname}` : `agent ${offer.hostname}`;
  if (mine === undefined) return op === 'UNLIKE' ? undefined : `${what} has no attribute '${field}'`;
  const count = (v: string): number => placed.reduce((n, p) => n + (fieldValue(p, field) === v ? 1 : 0), 0);
  switch (op) {
    case 'UNIQUE':
      return count(mine) > 0 ? `${what} already runs an instance (${field}=${mine})` : undefined;
    case 'CLUSTER': {
      const target = value ?? placed.map((p) => fieldValue(p, field)).find((v) => v !== undefined);
      return target !== undefined && mine !== target ? `${field}=${mine}, instances must run where ${field}=${target}` : undefined;
    }
    case 'IS':
      return mine !== value ? `${field}=${mine}, not ${value}` : undefined;
    case 'LIKE':
      return matches(value!, mine) ? undefined : `${field}=${mine} does not match /${value}/`;
    case 'UNLIKE':
      return matches(value!, mine) ? `${field}=${mine} matches /${value}/` : undefined;
    case 'MAX_PER': {
      const max = Number(value);
      const n = count(mine);
      return n >= max ? `${field}=${mine} already runs ${n} instance(s), at most ${max}` : undefined;
    }
    case 'GROUP_BY': {
      const counts = new Map<string, number>();
      for (const p of placed) {
        const v = fieldValue(p, field);
        if (v !== undefined) counts.set(v, (counts.get(v) ?? 0) + 1);
      }
      const groups = value ? Number(value) : 0;
      const n = counts.get(mine) ?? 0;
      if (n === 0) return undefined; // a new value always evens the spread
      // While fewer values than asked are in use, wait for an offer from another one.
      if (groups > 0 && counts.size < groups) return `${field}=${mine} already used; spreading over ${groups} values of ${field}, only ${counts.size} in use`;
      const min = Math.min(...counts.values());
      return n > min ? `${field}=${mine} runs ${n} instance(s), others ${min}: spreading evenly` : undefined;
    }
  }
  return undefined;
}

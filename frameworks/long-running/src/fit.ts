/**
 * Whether what is left of an offer can take one more instance of an app, and if not, why — in
 * the words "why isn't my app running" shows. Pure, like the planner and constraints.ts: the
 * service's offer loop only acts on the answer.
 */
import { offerRole, resources as res, type Offer, type Resource } from '@agora/sdk';
import { violation, type Placement } from './constraints.js';
import type { AppRecord } from './model.js';

/** [outcome class, reason] when `offer` (what is `left` of it) cannot take an instance of `app`. */
export function unfit(app: AppRecord, offer: Offer, left: Resource[], placement: Placement, placed: Placement[]): [string, string] | undefined {
  const spec = app.spec;
  const role = offerRole(offer);
  if (role !== spec.role) return ['role', `offer is for role '${role}', the app runs as role '${spec.role}'`];
  const short: string[] = [];
  for (const [name, need] of [['cpus', spec.cpus], ['mem', spec.mem], ['disk', spec.disk]] as const) {
    const have = res.scalarOf(left, name);
    if (need > 0 && have + 1e-9 < need) short.push(`insufficient ${name}: offer has ${Math.round(have * 1000) / 1000}, the app needs ${need}`);
  }
  if (spec.portDefinitions.length > 0 && !res.pickPorts(left, spec.portDefinitions.length)) {
    short.push(`insufficient ports: the app needs ${spec.portDefinitions.length}, offer has ${res.rangesOfName(left, 'ports').reduce((n, [b, e]) => n + e - b + 1, 0)}`);
  }
  if (short.length) return [short[0]!.split(':')[0]!.replace('insufficient ', ''), short.join('; ')];
  const v = violation(spec.constraints, placement, placed);
  if (v) return ['constraint', v];
  return undefined;
}

/**
 * Outstanding offers, indexed by agent and framework so that rescinding everything of one
 * agent or framework touches only its own offers.
 */
import type { Offer, Resource, TimerHandle } from '@agora/core';
import { index } from './multi-index.js';

/** One outstanding offer. */
export interface OfferRecord {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  /** The role the resources are allocated to (one offer per agent × framework × role). */
  readonly role: string;
  /** The offered resources without allocation roles (as the ledger keeps them). */
  readonly resources: Resource[];
  /** The offer as sent on the wire. */
  readonly wire: Offer;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  timer?: TimerHandle;
}

export class OfferBook {
  private readonly offers = new Map<string, OfferRecord>();
  private readonly byAgent = new Map<string, Set<string>>();
  private readonly byFramework = new Map<string, Set<string>>();
  private seq = 0;

  /** @param prefix makes IDs unique across master restarts */
  constructor(private readonly prefix: string) {}

  get size(): number {
    return this.offers.size;
  }

  nextId(): string {
    return `o-${this.prefix}-${++this.seq}`;
  }

  get(id: string): OfferRecord | undefined {
    return this.offers.get(id);
  }

  add(o: OfferRecord): void {
    this.offers.set(o.id, o);
    index(this.byAgent, o.agentId, o.id, true);
    index(this.byFramework, o.frameworkId, o.id, true);
  }

  /** Removes an offer (cancelling its timeout); undefined if it was not outstanding. */
  remove(id: string): OfferRecord | undefined {
    const o = this.offers.get(id);
    if (!o) return undefined;
    this.offers.delete(id);
    o.timer?.cancel();
    index(this.byAgent, o.agentId, id, false);
    index(this.byFramework, o.frameworkId, id, false);
    return o;
  }

  ofAgent(agentId: string): OfferRecord[] {
    return [...(this.byAgent.get(agentId) ?? [])].map((id) => this.offers.get(id) as OfferRecord);
  }

  ofFramework(frameworkId: string): OfferRecord[] {
    return [...(this.byFramework.get(frameworkId) ?? [])].map((id) => this.offers.get(id) as OfferRecord);
  }

  all(): IterableIterator<OfferRecord> {
    return this.offers.values();
  }
}

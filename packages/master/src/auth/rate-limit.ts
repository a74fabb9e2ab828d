/**
 * Per-principal rate limits on the master's APIs (Mesos `--rate_limits`), so that one
 * misbehaving framework cannot starve the others.
 *
 * File format (Mesos' JSON, `capacity` read as the bucket size):
 * ```json
 * { "limits": [ { "principal": "web", "qps": 50 }, { "principal": "ops" }, { "principal": "batch", "qps": 5, "capacity": 20 } ],
 *   "aggregate_default_qps": 100, "aggregate_default_capacity": 200 }
 * ```
 * A listed principal without `qps` is unlimited. Principals not listed (and unauthenticated
 * clients) share ONE aggregate bucket when `aggregate_default_qps` is set, else are unlimited.
 * `capacity`: calls a bucket holds, i.e. how many may arrive at once after a quiet spell
 * (default: one second's worth, at least 1).
 *
 * How an over-limit call is treated: an operator (unary) call is answered RESOURCE_EXHAUSTED
 * at once, naming the limit; calls on a scheduler or agent stream are delayed, never dropped —
 * the stream is paused until the bucket has refilled, so HTTP/2 flow control pushes back on
 * the sender while every other principal is served as before (dropping an ACCEPT would lose
 * offers; Mesos likewise queues messages of a principal over its limit).
 */
import { readFileSync } from 'node:fs';

/** One principal's limit. */
export interface RateLimit {
  principal: string;
  /** Calls per second; undefined: unlimited. */
  qps?: number;
  /** Bucket size. @default max(1, qps) */
  capacity?: number;
}

/** Rate limits as a master takes them. */
export interface RateLimits {
  limits: RateLimit[];
  /** Shared by every principal not listed. @default unlimited */
  aggregateDefaultQps?: number;
  aggregateDefaultCapacity?: number;
}

function positiveNumber(v: unknown, where: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Error(`${where} must be a number > 0, got ${JSON.stringify(v)}`);
  return v;
}

/** Parses a rate-limits file's JSON; throws an Error naming the bad entry. */
export function parseRateLimits(text: string, source = 'rate limits'): RateLimits {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`${source}: not valid JSON: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${source}: expected {"limits": [...]}`);
  for (const k of Object.keys(doc)) {
    if (!['limits', 'aggregate_default_qps', 'aggregate_default_capacity'].includes(k)) throw new Error(`${source}: unknown field '${k}'`);
  }
  const list = doc.limits ?? [];
  if (!Array.isArray(list)) throw new Error(`${source}: limits must be a list`);
  const seen = new Set<string>();
  const limits = list.map((l: unknown, i: number): RateLimit => {
    const e = (l ?? {}) as Record<string, unknown>;
    if (typeof e.principal !== 'string' || !e.principal) throw new Error(`${source}: limits[${i}].principal must be a non-empty string`);
    if (seen.has(e.principal)) throw new Error(`${source}: principal '${e.principal}' is listed twice`);
    seen.add(e.principal);
    const qps = positiveNumber(e.qps, `${source}: limits[${i}].qps`);
    const capacity = positiveNumber(e.capacity, `${source}: limits[${i}].capacity`);
    return { principal: e.principal, ...(qps !== undefined ? { qps } : {}), ...(capacity !== undefined ? { capacity } : {}) };
  });
  const aggregateDefaultQps = positiveNumber(doc.aggregate_default_qps, `${source}: aggregate_default_qps`);
  const aggregateDefaultCapacity = positiveNumber(doc.aggregate_default_capacity, `${source}: aggregate_default_capacity`);
  return { limits, ...(aggregateDefaultQps !== undefined ? { aggregateDefaultQps } : {}), ...(aggregateDefaultCapacity !== undefined ? { aggregateDefaultCapacity } : {}) };
}

/** Reads and parses a rate-limits file. */
export function readRateLimitsFile(path: string): RateLimits {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the rate limits file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return parseRateLimits(text, path);
}

/** A token bucket: `qps` tokens a second, holding at most `capacity`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(readonly qps: number, readonly capacity: number, private readonly now: () => number) {
    this.tokens = capacity;
    this.last = now();
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.qps);
    this.last = t;
  }

  /** Takes one token if there is one. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /**
   * Takes `n` tokens, going into debt if need be, and returns how long (ms) the caller must
   * wait before acting so that the rate is kept (0: act now).
   */
  takeOrWait(n: number): number {
    this.refill();
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }
}

/** Which bucket a principal draws from, and how the limit reads in messages. */
export class RateLimiter {
  private readonly buckets = new Map<string, TokenBucket | null>();
  private readonly aggregate: TokenBucket | null;

  constructor(private readonly limits: RateLimits, now: () => number = Date.now) {
    for (const l of limits.limits) {
      this.buckets.set(l.principal, l.qps === undefined ? null : new TokenBucket(l.qps, l.capacity ?? Math.max(1, l.qps), now));
    }
    const q = limits.aggregateDefaultQps;
    this.aggregate = q === undefined ? null : new TokenBucket(q, limits.aggregateDefaultCapacity ?? Math.max(1, q), now);
  }

  /** The bucket of `principal` ('' = unauthenticated), or null when unlimited. */
  bucketOf(principal: string): TokenBucket | null {
    const own = principal ? this.buckets.get(principal) : undefined;
    return own !== undefined ? own : this.aggregate;
  }

  /** The limit in words, for RESOURCE_EXHAUSTED messages. */
  describe(principal: string): string {
    const b = this.bucketOf(principal);
    if (!b) return 'no limit';
    const listed = principal !== '' && this.buckets.has(principal);
    return `${listed ? `principal ${principal}` : `the aggregate default (shared by unlisted principals${principal ? `, ${principal} among them` : ''})`} is limited to ${b.qps} calls/s`;
  }
}

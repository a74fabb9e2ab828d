/**
 * The REST fuzz suite: mutated JSON (wrong types, missing and unknown fields, huge and odd
 * numbers, nested garbage, truncated text, wrong content types) against the long-running and
 * cron frameworks' APIs. Every answer must be a clear 4xx or a success — never a 5xx, never a
 * hang — the API keeps answering, and a rejected request leaves the apps and jobs as they were.
 * Used by test/fuzz-rest.test.ts (bounded) and bench/fuzz.ts (longer).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { startCluster } from '@agora/sdk';
import { startLongRunning } from '@agora/long-running';
import { startCron } from '@agora/cron';
import { FUZZ_SEED, checkProperty } from './fuzz.js';
import { FuzzFailure } from './fuzz-grpc.js';

/** One fuzzed request. */
interface Req { method: string; path: string; body: string | undefined; contentType: string }

/** Tallies by route: cases, successes, rejections. */
export class RestTally {
  readonly counts = new Map<string, { cases: number; ok: number; rejected: number }>();
  add(route: string, status: number): void {
    const c = this.counts.get(route) ?? { cases: 0, ok: 0, rejected: 0 };
    c.cases++;
    if (status < 400) c.ok++; else c.rejected++;
    this.counts.set(route, c);
  }
  lines(): string[] {
    return [...this.counts].map(([r, c]) => `fuzz ${r}: ${c.cases} cases (${c.ok} accepted, ${c.rejected} rejected) seed ${FUZZ_SEED}`);
  }
  total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c.cases;
    return n;
  }
}

const NASTY_JSON: unknown[] = [
  null, true, 0, -1, 1e308, -1e308, 0.5, '', 'x'.repeat(10_000), '../../etc/passwd', '*/0 * * * *', 'R-1/2020-01-01T00:00:00Z/PT0S',
  [], {}, [[]], { $ref: '#' }, { __proto__: { polluted: true } }, { constructor: { prototype: { polluted: true } } },
  'Europe/Nowhere', 'P-1D', '🚀', '\u0000',
];

/** Replaces, deletes or adds fields of a valid object (one level and nested), or breaks it whole. */
function mutatedJson(valid: Record<string, unknown>, fresh?: { key: string; prefix: string }): fc.Arbitrary<string | undefined> {
  const keys = Object.keys(valid);
  let seq = 0;
  const anyValue = fc.oneof(fc.constantFrom(...NASTY_JSON), fc.jsonValue({ maxDepth: 3 }));
  const edit = fc.oneof(
    fc.record({ op: fc.constant('set' as const), key: fc.constantFrom(...keys), value: anyValue }),
    fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...keys) }),
    fc.record({ op: fc.constant('add' as const), key: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('__proto__', 'constructor')), value: anyValue }),
  );
  const structured = fc.array(edit, { minLength: 1, maxLength: 4 }).map((edits) => {
    const o: Record<string, unknown> = structuredClone(valid);
    // A new name each case, so that a mutation that keeps the body valid is accepted, not a 409.
    if (fresh) o[fresh.key] = `${fresh.prefix}${++seq}`;
    for (const e of edits) {
      if (e.op === 'delete') delete o[e.key];
      else Object.defineProperty(o, e.key, { value: e.value, enumerable: true, writable: true, configurable: true });
    }
    return JSON.stringify(o);
  });
  const text = JSON.stringify(valid);
  const intact = fc.constant(undefined).map(() => JSON.stringify(fresh ? { ...valid, [fresh.key]: `${fresh.prefix}${++seq}` } : valid));
  return fc.oneof(
    { weight: 1, arbitrary: intact }, // the valid body itself: accepted paths get fuzzed company
    { weight: 6, arbitrary: structured },
    { weight: 1, arbitrary: fc.nat(text.length).map((n) => text.slice(0, n)) }, // truncated JSON
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

async function send(base: string, r: Req, timeoutMs = 5_000): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}${r.path}`, {
    method: r.method,
    headers: r.body === undefined ? {} : { 'content-type': r.contentType },
    ...(r.body === undefined ? {} : { body: r.body }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, text: await res.text() };
}

export interface RestFuzzOptions {
  runs: number;
  log?: (line: string) => void;
}

/** Runs the suite against real framework processes-in-process on a cluster with no agents. */
export async function runRestFuzz(options: RestFuzzOptions): Promise<RestTally> {
  const tally = new RestTally();
  const cluster = await startCluster({ agents: 0 });
  const dir = await mkdtemp(join(tmpdir(), 'agora-fuzz-rest-'));
  const lr = await startLongRunning({ master: cluster.masterAddress, workDir: join(dir, 'lr'), port: 0 });
  const cron = await startCron({ master: cluster.masterAddress, workDir: join(dir, 'cron'), port: 0 });
  const log = options.log ?? (() => undefined);
  try {
    const apps = `http://${lr.address}`;
    const jobs = `http://${cron.address}`;
    // Something to update, restart and delete.
    const app = { id: '/fuzz/app', cmd: 'sleep 100', cpus: 0.1, mem: 16, instances: 1 };
    const job = { name: 'fuzz-job', command: 'true', schedule: 'R/2030-01-01T00:00:00Z/PT1H', cpus: 0.1, mem: 16 };
    const made = [await send(apps, { method: 'POST', path: '/v2/apps', body: JSON.stringify(app), contentType: 'application/json' }),
      await send(jobs, { method: 'POST', path: '/v1/jobs', body: JSON.stringify(job), contentType: 'application/json' })];
    for (const m of made) if (m.status >= 300) throw new Error(`fuzz setup failed: ${m.status} ${m.text}`);

    const snapshot = async () => {
      const a = JSON.parse((await send(apps, { method: 'GET', path: '/v2/apps', body: undefined, contentType: '' })).text) as { apps: { id: string; version: string; instances: number }[] };
      const j = JSON.parse((await send(jobs, { method: 'GET', path: '/v1/jobs', body: undefined, contentType: '' })).text) as unknown;
      return JSON.stringify({ apps: a.apps.map((x) => [x.id, x.version, x.instances]), jobs: j });
    };
    const pathSeg = fc.oneof(fc.constantFrom('fuzz/app', 'fuzz-job', 'nope', '..%2F..%2Fetc', '%00', 'a'.repeat(300), '🚀', '%', ''), fc.string({ maxLength: 10 }).map(encodeURIComponent));
    const contentType = fc.constantFrom('application/json', 'application/json', 'application/json', 'text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=latin1');
    const routes: { name: string; base: string; arb: fc.Arbitrary<Req> }[] = [
      { name: 'POST /v2/apps', base: apps, arb: fc.record({ method: fc.constant('POST'), path: fc.constant('/v2/apps'), body: mutatedJson(app, { key: 'id', prefix: '/fuzz/new' }), contentType }) },
      { name: 'PUT /v2/apps/:id', base: apps, arb: fc.record({ method: fc.constant('PUT'), path: pathSeg.map((s) => `/v2/apps/${s}`), body: mutatedJson(app), contentType }) },
      { name: 'PATCH /v2/apps/:id', base: apps, arb: fc.record({ method: fc.constant('PATCH'), path: pathSeg.map((s) => `/v2/apps/${s}`), body: mutatedJson({ instances: 2, cpus: 0.2 }), contentType }) },
      { name: 'POST /v2/groups', base: apps, arb: fc.record({ method: fc.constant('POST'), path: fc.constant('/v2/groups'), body: mutatedJson({ id: '/g', apps: [app] }, { key: 'id', prefix: '/group' }), contentType }) },
      { name: 'GET/POST/DELETE /v2/…', base: apps, arb: fc.record({ method: fc.constantFrom('GET', 'POST', 'DELETE'), path: fc.tuple(fc.constantFrom('/v2/apps/', '/v2/deployments/', '/v2/queue/', '/v2/groups/', '/v2/apps/fuzz/app/'), pathSeg).map(([a, b]) => a + b), body: fc.constant(undefined), contentType }) },
      { name: 'POST /v1/jobs', base: jobs, arb: fc.record({ method: fc.constant('POST'), path: fc.constant('/v1/jobs'), body: mutatedJson(job, { key: 'name', prefix: 'fuzz-new-' }), contentType }) },
      { name: 'PUT /v1/jobs/:name', base: jobs, arb: fc.record({ method: fc.constant('PUT'), path: pathSeg.map((s) => `/v1/jobs/${s}`), body: mutatedJson(job), contentType }) },
      { name: 'POST /v1/jobs/:name/run', base: jobs, arb: fc.record({ method: fc.constant('POST'), path: pathSeg.map((s) => `/v1/jobs/${s}/run`), body: mutatedJson({ arguments: ['a'] }), contentType }) },
      { name: 'GET /v1/…', base: jobs, arb: fc.record({ method: fc.constant('GET'), path: fc.tuple(fc.constantFrom('/v1/jobs/', '/v1/runs/', '/v1/jobs/fuzz-job/', '/v1/graph?x='), pathSeg).map(([a, b]) => a + b), body: fc.constant(undefined), contentType }) },
    ];
    for (const route of routes) {
      await checkProperty(fc.asyncProperty(route.arb, async (r) => {
        const before = await snapshot();
        let res: { status: number; text: string };
        try {
          res = await send(route.base, r);
        } catch (e) {
          throw new FuzzFailure(`${r.method} ${r.path} got no answer: ${(e as Error).message}`);
        }
        tally.add(route.name, res.status);
        if (res.status >= 500) throw new FuzzFailure(`${r.method} ${r.path} answered ${res.status}: ${res.text.slice(0, 300)}`);
        if (res.status >= 400) {
          let msg: { message?: unknown; error?: unknown } | undefined;
          try { msg = JSON.parse(res.text) as typeof msg; } catch { /* checked below */ }
          if (typeof msg?.message !== 'string' && typeof msg?.error !== 'string') throw new FuzzFailure(`${r.method} ${r.path} answered ${res.status} without an error message: ${res.text.slice(0, 200)}`);
          if (r.method !== 'GET' && (await snapshot()) !== before) throw new FuzzFailure(`${r.method} ${r.path} was rejected (${res.status}) but changed the apps or jobs`);
        }
        for (const ping of [apps, jobs]) {
          const p = await send(ping, { method: 'GET', path: '/ping', body: undefined, contentType: '' }).catch((e: Error) => ({ status: 0, text: e.message }));
          if (p.status !== 200) throw new FuzzFailure(`${ping} stopped answering /ping after ${r.method} ${r.path}`);
        }
        if (({} as Record<string, unknown>).polluted !== undefined) throw new FuzzFailure(`${r.method} ${r.path} polluted Object.prototype`);
      }), options.runs);
    }
    for (const line of tally.lines()) log(line);
    return tally;
  } finally {
    await cron.stop({ failover: false }).catch(() => undefined);
    await lr.stop({ teardown: true }).catch(() => undefined);
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Fuzzing tools shared by the fuzz tests and `npm run bench:fuzz`: arbitraries that build random
 * protobuf messages of any type in proto/ (through protobufjs reflection, so every field of every
 * message is reached without hand-written generators), byte-level mutations of valid encodings,
 * and a raw gRPC client that sends arbitrary bytes to any method.
 *
 * Case counts come from AGORA_FUZZ_RUNS (default per suite) and the seed from AGORA_FUZZ_SEED, so
 * a failure printed by fast-check can be replayed exactly.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import protobuf from 'protobufjs';
import { grpc } from '@agora/core';
import { ROOT } from './processes.js';

const PROTO_DIR = join(ROOT, 'proto');

/** Every message type of the wire contract, loaded by reflection from proto/agora/v1. */
export function loadProtoRoot(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : join(PROTO_DIR, target));
  const files = readdirSync(join(PROTO_DIR, 'agora/v1')).filter((f) => f.endsWith('.proto')).map((f) => `agora/v1/${f}`);
  root.loadSync(files);
  root.resolveAll();
  return root;
}

/** Number of cases per fuzzed method (AGORA_FUZZ_RUNS overrides `fallback`). */
export function fuzzRuns(fallback: number): number {
  const v = Number(process.env.AGORA_FUZZ_RUNS);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

/** Seed of every fast-check run (AGORA_FUZZ_SEED to replay; printed with each summary). */
export const FUZZ_SEED = Number.isInteger(Number(process.env.AGORA_FUZZ_SEED)) && process.env.AGORA_FUZZ_SEED
  ? Number(process.env.AGORA_FUZZ_SEED)
  : Math.floor(Math.random() * 2 ** 31);

/** Strings that have broken parsers, paths and IDs before. */
const NASTY_STRINGS = [
  '', ' ', '*', '.', '..', '../', '../../../../etc/passwd', '/etc/passwd', '/', '\u0000', 'a\u0000b',
  '%2e%2e%2f', '\\..\\..\\', 'x'.repeat(70_000), '🚀', '\u202e', 'NaN', '-1', '1e309', '[31000-31001]',
  'cpus:1;mem:1', 'role/with/slashes', '$(reboot)', '`id`', "'; DROP TABLE tasks; --",
];

export interface ArbitraryOptions {
  /** Extra strings mixed into every string field (e.g. IDs that exist in the cluster). */
  strings?: string[];
  /** Depth limit of nested messages. @default 3 */
  depth?: number;
}

/** A fast-check arbitrary producing plain objects for `type` (any field may be present or absent). */
export function messageArbitrary(type: protobuf.Type, options: ArbitraryOptions = {}): fc.Arbitrary<Record<string, unknown>> {
  const pool = [...NASTY_STRINGS, ...(options.strings ?? [])];
  const str = fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: 24 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
    { weight: 3, arbitrary: fc.constantFrom(...pool) },
  );
  const build = (t: protobuf.Type, depth: number): fc.Arbitrary<Record<string, unknown>> => {
    const fields: Record<string, fc.Arbitrary<unknown>> = {};
    for (const f of t.fieldsArray) {
      const one = scalarOrNested(f, depth);
      if (!one) continue;
      if (f.map) fields[f.name] = fc.dictionary(fc.oneof(str, fc.constantFrom('a', 'b')).map(String), one, { maxKeys: 3 });
      else if (f.repeated) fields[f.name] = fc.array(one, { maxLength: 4 });
      else fields[f.name] = one;
    }
    return fc.record(fields, { requiredKeys: [] });
  };
  const scalarOrNested = (f: protobuf.Field, depth: number): fc.Arbitrary<unknown> | undefined => {
    const rt = f.resolvedType;
    if (rt instanceof protobuf.Type) return depth > 0 ? build(rt, depth - 1) : fc.constant({});
    if (rt instanceof protobuf.Enum) {
      const values = Object.values(rt.values);
      return fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...values) }, { weight: 1, arbitrary: fc.integer({ min: -3, max: 1_000 }) });
    }
    switch (f.type) {
      case 'double': case 'float':
        return fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 1e308, 5e-324, 0.0001, 1, 1e6));
      case 'int32': case 'sint32': case 'sfixed32':
        return fc.oneof(fc.integer(), fc.constantFrom(0, -1, 1, 2 ** 31 - 1, -(2 ** 31)));
      case 'uint32': case 'fixed32':
        return fc.oneof(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.constantFrom(0, 1, 2 ** 32 - 1));
      case 'int64': case 'uint64': case 'sint64': case 'fixed64': case 'sfixed64':
        return fc.integer({ min: 0, max: 2 ** 31 });
      case 'bool': return fc.boolean();
      case 'string': return str;
      case 'bytes': return fc.uint8Array({ maxLength: 64 });
      default: return undefined;
    }
  };
  return build(type, options.depth ?? 3);
}

/** Encodes a plain object as `type` (fromObject coerces what it can, as a real client would). */
export function encode(type: protobuf.Type, value: Record<string, unknown>): Buffer {
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

/** Byte-level mutations of a valid encoding: bit flips, truncation, splices, duplication. */
export function mutatedBytes(valid: fc.Arbitrary<Buffer>): fc.Arbitrary<Buffer> {
  return fc.tuple(valid, fc.array(fc.tuple(fc.nat(4), fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 })).map(([bytes, ops]) => {
    let b = Buffer.from(bytes);
    for (const [op, posRaw, byte] of ops) {
      const pos = b.length ? posRaw % b.length : 0;
      if (op === 0 && b.length) b[pos] ^= 1 << (byte % 8); // flip a bit
      else if (op === 1) b = b.subarray(0, pos); // truncate
      else if (op === 2) b = Buffer.concat([b.subarray(0, pos), Buffer.from([byte]), b.subarray(pos)]); // insert
      else if (op === 3 && b.length) b[pos] = byte; // overwrite
      else b = Buffer.concat([b, b.subarray(pos)]); // duplicate a tail (repeated fields, bad lengths)
    }
    return b;
  });
}

/** Random bytes, valid random messages and mutated valid messages of `type`, mixed. */
export function framesOf(type: protobuf.Type, options: ArbitraryOptions & { valid?: fc.Arbitrary<Buffer> } = {}): fc.Arbitrary<Buffer> {
  const random = messageArbitrary(type, options).map((m) => encode(type, m));
  const valid = options.valid ?? random;
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((u) => Buffer.from(u)) },
    { weight: 3, arbitrary: random },
    { weight: 3, arbitrary: mutatedBytes(valid) },
  );
}

/** How one raw call ended. */
export interface RawOutcome {
  /** gRPC status code (0 = OK), or undefined when the call did not end within the timeout. */
  code: grpc.status | undefined;
  details: string;
  /** Response frames received (raw bytes). */
  responses: Buffer[];
}

const identity = (b: Buffer): Buffer => b;

/** A gRPC client that speaks raw bytes to any method path of a server. */
export class RawClient {
  private readonly client: grpc.Client;
  constructor(address: string) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure());
  }

  /** One unary call with raw request bytes. */
  unary(path: string, body: Buffer, timeoutMs = 5_000): Promise<RawOutcome> {
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(path, identity, identity, body, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err) resolve({ code: err.code, details: err.details ?? err.message, responses: [] });
        else resolve({ code: grpc.status.OK, details: '', responses: res ? [res] : [] });
      });
    });
  }

  /**
   * Opens a bidirectional stream, writes `frames`, and waits up to `settleMs` for the server to
   * end it (or answer); then cancels. `code` is undefined when the server kept the stream open.
   */
  stream(path: string, frames: Buffer[], settleMs = 300): Promise<RawOutcome> {
    return new Promise((resolve) => {
      const call = this.client.makeBidiStreamRequest(path, identity, identity, new grpc.Metadata(), {});
      const responses: Buffer[] = [];
      let done = false;
      const finish = (code: grpc.status | undefined, details: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        call.cancel();
        resolve({ code, details, responses });
      };
      call.on('data', (b: Buffer) => responses.push(b));
      call.on('error', (e: grpc.ServiceError) => finish(e.code, e.details ?? e.message));
      call.on('status', (s: grpc.StatusObject) => finish(s.code, s.details));
      const timer = setTimeout(() => finish(undefined, 'still open'), settleMs);
      for (const f of frames) call.write(f);
    });
  }

  close(): void {
    this.client.close();
  }
}

/** Tallies of one fuzzed method, printed as one line per method. */
export class FuzzTally {
  readonly counts = new Map<string, { cases: number; ok: number; rejected: number; open: number }>();
  add(method: string, outcome: RawOutcome): void {
    const c = this.counts.get(method) ?? { cases: 0, ok: 0, rejected: 0, open: 0 };
    c.cases++;
    if (outcome.code === undefined) c.open++;
    else if (outcome.code === grpc.status.OK) c.ok++;
    else c.rejected++;
    this.counts.set(method, c);
  }
  /** Lines like `fuzz Operator/Teardown: 200 cases (3 ok, 197 rejected, 0 left open)`. */
  lines(): string[] {
    return [...this.counts].map(([m, c]) => `fuzz ${m}: ${c.cases} cases (${c.ok} ok, ${c.rejected} rejected, ${c.open} left open by the server) seed ${FUZZ_SEED}`);
  }
  total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c.cases;
    return n;
  }
}

/**
 * fc.assert with the property's own error in the message (fast-check keeps it as the `cause`,
 * which test reporters do not print), so a failure names what broke and how to replay it.
 */
export async function checkProperty<T>(property: fc.IAsyncPropertyWithHooks<T>, numRuns: number): Promise<void> {
  try {
    await fc.assert(property, { numRuns, seed: FUZZ_SEED, endOnFailure: true });
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause;
    const why = cause instanceof Error ? cause.message : String(cause ?? '');
    throw new Error(`${why}\n(replay with AGORA_FUZZ_SEED=${FUZZ_SEED})\n${(e as Error).message}`);
  }
}

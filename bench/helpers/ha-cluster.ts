/**
 * Three `agora master --etcd` processes on a throw-away etcd (test/helpers), and the probes the
 * failover bench times them with: who leads (GetHealth), who holds the election key in etcd
 * (etcd's JSON gateway, so no etcd client is needed here), and the master processes' pids.
 */
import { OperatorClient } from '@agora/core';
import { agora, freePort, type Proc } from '../../test/helpers/processes.js';
import { startEtcd, type EtcdServer } from '../../test/helpers/etcd.js';

export interface HaCluster {
  etcd: EtcdServer;
  /** host:port of every master, in start order. */
  masters: string[];
  procs: Map<string, Proc>;
  prefix: string;
  ttlSeconds: number;
}

export async function startHaCluster(options: { masters: number; ttlSeconds: number; prefix?: string; extraArgs?: string[] }): Promise<HaCluster> {
  const etcd = await startEtcd();
  const prefix = options.prefix ?? '/bench-failover/';
  const masters: string[] = [];
  const procs = new Map<string, Proc>();
  for (let i = 0; i < options.masters; i++) {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    masters.push(address);
    // BENCH_MASTER_NODE_OPTIONS (e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof') profiles the masters only.
    const env = process.env.BENCH_MASTER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_MASTER_NODE_OPTIONS } : {};
    procs.set(address, agora(['master', '--port', String(port), '--etcd', etcd.url, '--etcd-ttl', String(options.ttlSeconds), '--etcd-prefix', prefix, ...(options.extraArgs ?? [])], env));
  }
  return { etcd, masters, procs, prefix, ttlSeconds: options.ttlSeconds };
}

/** The master among `addresses` whose GetHealth says leader=true, polled every `everyMs`. */
export async function waitForLeader(addresses: string[], timeoutMs: number, everyMs = 20): Promise<string> {
  const clients = addresses.map((a) => [a, new OperatorClient(a, 1000)] as const);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const found = await Promise.all(clients.map(async ([a, op]) => {
        try { return (await op.getHealth()).masterInfo?.leader ? a : ''; } catch { return ''; }
      }));
      const leader = found.find(Boolean);
      if (leader) return leader;
      if (Date.now() > deadline) throw new Error(`no leader among ${addresses.join(', ')} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  } finally {
    for (const [, op] of clients) op.close();
  }
}

/** The value of the election key in etcd ('' when absent), read through etcd's JSON gateway. */
export async function electionKey(cluster: HaCluster): Promise<string> {
  const res = await fetch(`${cluster.etcd.url}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from(`${cluster.prefix}leader`).toString('base64') }),
    signal: AbortSignal.timeout(1000),
  });
  const body = (await res.json()) as { kvs?: { value?: string }[] };
  const v = body.kvs?.[0]?.value;
  return v ? Buffer.from(v, 'base64').toString() : '';
}

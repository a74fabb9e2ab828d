/**
 * A whole cluster in one process (Mesos `tests/cluster.hpp`, Nomad `TestServer`): a master and
 * N agents on ephemeral loopback ports with a throw-away work directory. For Agora's own tests
 * and for framework authors' tests:
 *
 * ```ts
 * const cluster = await startCluster({ agents: 2 });
 * const driver = new SchedulerDriver({ master: cluster.masterAddress, framework: { name: 't' } });
 * // …
 * await cluster.stop();
 * ```
 *
 * The master and agent packages are loaded on first use (dynamic import), so a framework or an
 * executor that imports @agora/sdk does not load the whole master into every process.
 */
import { chmod, mkdtemp, rm, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { silentLogger, type Logger } from '@agora/core';
import type { Master, MasterOptions } from '@agora/master';
import type { Agent, AgentOptions } from '@agora/agent';

export type { Master, MasterOptions, Agent, AgentOptions };

/** Options of `startCluster`. */
export interface StartClusterOptions {
  /** Number of agents started with the cluster. @default 1 */
  agents?: number;
  /**
   * Resources of each agent (one string for all, or one per agent).
   * @default 'cpus:4;mem:4096;disk:10000;ports:[P-P+99]' with a distinct port range per agent
   * (31000-31099, 31100-31199, …) so tasks on different agents of one host never clash
   */
  agentResources?: string | string[];
  /** Work directory (master in `master/`, agents in `agent-<n>/`). @default a new temp dir, removed by stop() */
  workDir?: string;
  /** Extra master options (host and port are loopback and ephemeral unless given). @default {} */
  master?: Partial<MasterOptions>;
  /** Extra options for every agent. @default {} */
  agent?: Partial<AgentOptions>;
  /** Logger of the master and agents. @default silent */
  logger?: Logger;
}

/** A running in-process cluster. */
export interface TestCluster {
  /** host:port of the master, for `SchedulerDriver({ master })`. */
  masterAddress: string;
  master: Master;
  agents: Agent[];
  workDir: string;
  /** Starts one more agent (resolves once registered). */
  addAgent(options?: Partial<AgentOptions>): Promise<Agent>;
  /** Stops the agents (killing their tasks), then the master; removes a temp work dir. */
  stop(): Promise<void>;
}

const PORTS_BASE = 31000;
const PORTS_PER_AGENT = 100;

function defaultResources(index: number): string {
  const begin = PORTS_BASE + index * PORTS_PER_AGENT;
  return `cpus:4;mem:4096;disk:10000;ports:[${begin}-${begin + PORTS_PER_AGENT - 1}]`;
}

/** Starts a master and `agents` agents on 127.0.0.1 with ephemeral ports. */
export async function startCluster(options: StartClusterOptions = {}): Promise<TestCluster> {
  const count = options.agents ?? 1;
  if (!Number.isInteger(count) || count < 0) throw new Error(`startCluster: agents must be a whole number ≥ 0 (got ${count})`);
  const ownDir = options.workDir === undefined;
  const workDir = options.workDir ?? (await mkdtemp(path.join(os.tmpdir(), 'agora-cluster-')));
  // Searchable (not listable) by other users, as a real agent's work dir: a root agent runs its
  // tasks as unprivileged users, who must reach their sandboxes below it.
  if (ownDir) await chmod(workDir, 0o711);
  const logger = options.logger ?? silentLogger();
  const [{ startMaster }, { startAgent }] = await Promise.all([import('@agora/master'), import('@agora/agent')]);

  let master: Master | undefined;
  const agents: Agent[] = [];
  let next = 0;

  const stop = async (): Promise<void> => {
    // Agents first: their stop() kills their tasks, and they must not re-register meanwhile.
    await Promise.allSettled(agents.map((a) => a.stop()));
    if (master) await master.stop().catch(() => undefined);
    if (ownDir) await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  };

  try {
    await mkdir(path.join(workDir, 'master'), { recursive: true });
    master = await startMaster({ host: '127.0.0.1', port: 0, workDir: path.join(workDir, 'master'), logger, ...options.master });
    const address = master.address;

    const addAgent = async (extra: Partial<AgentOptions> = {}): Promise<Agent> => {
      const index = next++;
      const given = options.agentResources;
      const resources = Array.isArray(given) ? (given[index] ?? defaultResources(index)) : (given ?? defaultResources(index));
      const dir = path.join(workDir, `agent-${index}`);
      await mkdir(dir, { recursive: true });
      const agent = await startAgent({
        master: address,
        host: '127.0.0.1',
        port: 0,
        workDir: dir,
        resources,
        hostname: '127.0.0.1',
        logger,
        ...options.agent,
        ...extra,
      });
      agents.push(agent);
      return agent;
    };

    for (let i = 0; i < count; i++) await addAgent();
    return { masterAddress: address, master, agents, workDir, addAgent, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

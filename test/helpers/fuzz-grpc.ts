/**
 * The gRPC fuzz suite: every method of every service (Scheduler, AgentLink and Operator on the
 * master; Executor and Files on the agent) gets random messages, mutated valid messages and
 * random bytes. After every case the master and agent must still answer promptly; a rejected
 * case must leave the cluster's state as it was; the Files service must never return a byte of
 * a file outside a sandbox. Used by test/fuzz-grpc.test.ts (bounded) and bench/fuzz.ts (longer).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import type protobuf from 'protobufjs';
import { grpc, OperatorClient, agora } from '@agora/core';
import { SchedulerDriver, commandTask, startCluster, taskStateName, type TestCluster } from '@agora/sdk';
import { FUZZ_SEED, FuzzTally, checkProperty, RawClient, encode, framesOf, loadProtoRoot, type RawOutcome } from './fuzz.js';

/** A violated property, with the case that showed it. */
export class FuzzFailure extends Error {}

/** What the cluster looks like, minus what changes by itself (times, reachability). */
async function fingerprint(op: OperatorClient, cluster: TestCluster): Promise<string> {
  const s = await op.getState({ taskLimit: 1000 });
  const agents = s.agents.map((a) => `${a.agentInfo?.id?.value}:${a.drain}:${JSON.stringify(a.totalResources)}`).sort();
  const tasks = s.tasks.map((t) => `${t.taskId?.value}:${t.state}`).sort();
  const frameworks = s.frameworks.filter((f) => f.connected).map((f) => f.frameworkInfo?.id?.value).sort();
  const agentTasks = cluster.agents.map((a) => a.taskCount);
  return JSON.stringify({ agents, tasks, frameworks, agentTasks });
}

/** The master and the agent each answer a cheap call within 2 s. */
async function assertResponsive(op: OperatorClient, files: RawClient, what: string): Promise<void> {
  const health = await op.getHealth().catch((e: Error) => e);
  if (health instanceof Error) throw new FuzzFailure(`master stopped answering after ${what}: ${health.message}`);
  const agent = await files.unary('/agora.v1.Files/Browse', Buffer.alloc(0), 2_000);
  if (agent.code === undefined || agent.code === grpc.status.UNAVAILABLE || agent.code === grpc.status.DEADLINE_EXCEEDED) {
    throw new FuzzFailure(`agent stopped answering after ${what}: ${agent.details}`);
  }
}

/** True when a scheduler/agent/executor stream answered with any event (the server accepted it). */
function answered(o: RawOutcome): boolean {
  return o.responses.length > 0;
}

export interface GrpcFuzzOptions {
  /** Cases per method. */
  runs: number;
  /** Receives one summary line per method. */
  log?: (line: string) => void;
}

/** Runs the suite on a fresh in-process cluster; throws FuzzFailure on the first violation. */
export async function runGrpcFuzz(options: GrpcFuzzOptions): Promise<FuzzTally> {
  const root = loadProtoRoot();
  const T = (name: string) => root.lookupType(`agora.v1.${name}`);
  const tally = new FuzzTally();
  // Two agents: the witness runs on the first; operator calls aim at the second, since draining
  // the witness's agent is a legal operator call that would (rightly) end the witness.
  const cluster = await startCluster({ agents: 2, agentResources: 'cpus:2;mem:1024;disk:1000;ports:[31000-31010]' });
  const outside = await mkdtemp(join(tmpdir(), 'agora-fuzz-outside-'));
  const canary = `CANARY-${FUZZ_SEED}-not-in-any-sandbox`;
  await writeFile(join(outside, 'secret.txt'), canary);
  await writeFile(join(cluster.workDir, 'secret.txt'), canary);
  const op = new OperatorClient(cluster.masterAddress, 2_000);
  const master = new RawClient(cluster.masterAddress);
  const agentAddr = cluster.agents[0]!.address;
  const agent = new RawClient(agentAddr);
  // A real framework with a real running task, so IDs and sandboxes in the pool exist.
  let running: { frameworkId: string; taskId: string } | undefined;
  const driver = new SchedulerDriver({
    master: cluster.masterAddress,
    framework: { name: 'fuzz-witness', failoverTimeoutSeconds: 0 },
    callbacks: {
      resourceOffers: (d, offers) => {
        for (const o of offers) {
          if (running || o.agentId?.value !== cluster.agents[0]!.agentId) { d.decline(o.id!.value!, { refuseSeconds: 3600 }); continue; }
          const task = commandTask(o, { name: 'witness', taskId: 'witness', command: 'echo witness-stdout; sleep 600', cpus: 0.1, mem: 16 });
          d.launch(o.id!.value!, [task]);
          running = { frameworkId: d.frameworkId!, taskId: 'witness' };
        }
      },
    },
  });
  // A framework with nothing to lose, whose ID the operator calls may use (and tear down).
  const decoy = new SchedulerDriver({
    master: cluster.masterAddress,
    framework: { name: 'fuzz-decoy', failoverTimeoutSeconds: 0 },
    callbacks: { resourceOffers: (d, offers) => d.decline(offers.map((o) => o.id!.value!), { refuseSeconds: 3600 }) },
  });
  /** After an accepted case, waits for its effects (kills, removals) to finish. */
  const settle = async (): Promise<void> => {
    let last = await fingerprint(op, cluster);
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 150));
      const now = await fingerprint(op, cluster);
      if (now === last) return;
      last = now;
    }
  };
  /**
   * After a case: a rejected one must have left the cluster's state as `before`; an accepted
   * one gets its effects waited out. Either way master and agent must still answer.
   */
  const afterCase = async (path: string, rejected: boolean, details: string, before: string): Promise<void> => {
    if (rejected) {
      const now = await fingerprint(op, cluster);
      if (now !== before) throw new FuzzFailure(`${path} rejected (${details}) but changed the state: ${before} → ${now}`);
    } else {
      await settle();
    }
    await assertResponsive(op, agent, path);
  };
  try {
    await driver.start();
    await decoy.start();
    const state = await waitFor(async () => {
      const tasks = await op.getTasks({});
      return tasks.tasks.find((t) => t.taskId?.value === 'witness' && taskStateName(t.state) === 'TASK_RUNNING');
    }, 'the witness task running');
    const agentId = state.agentId?.value ?? '';
    const frameworkId = state.frameworkId?.value ?? '';
    const outsideRel = relative(join(cluster.workDir, 'agent-0'), join(outside, 'secret.txt'));
    const strings = [
      agentId, frameworkId, 'witness', 'stdout', 'stderr', join(outside, 'secret.txt'), join(cluster.workDir, 'secret.txt'),
      outsideRel, `../../../../../../${outsideRel}`, '../secret.txt', '../../secret.txt', '../../../secret.txt', '../../../../secret.txt',
      '../../../../../secret.txt', '../../../../../../secret.txt', 'stdout/../../../../../secret.txt',
    ];
    const log = options.log ?? (() => undefined);

    // Operator (unary): a rejected call changes nothing.
    const operator = root.lookupService('agora.v1.Operator');
    for (const method of operator.methodsArray) {
      const reqType = T(method.requestType.replace(/^.*\./, ''));
      const path = `/agora.v1.Operator/${method.name}`;
      // The witness's framework and agent IDs are left out: tearing down the one or draining the
      // other is legal and would end the witness. The spare agent and the decoy stand in for them.
      const spareAgentId = cluster.agents[1]!.agentId ?? 'spare';
      const opStrings = [...strings.filter((x) => x !== frameworkId && x !== agentId), decoy.frameworkId ?? 'decoy', spareAgentId];
      await checkProperty(fc.asyncProperty(framesOf(reqType, { strings: opStrings }), async (body) => {
        const before = await fingerprint(op, cluster);
        const out = await master.unary(path, body);
        tally.add(`Operator/${method.name}`, out);
        if (out.code === undefined || out.code === grpc.status.DEADLINE_EXCEEDED) throw new FuzzFailure(`${path} hung`);
        if (out.code === grpc.status.UNKNOWN || (out.code === grpc.status.INTERNAL && !/deserializ|parse/i.test(out.details))) {
          throw new FuzzFailure(`${path} failed inside the server: ${out.code} ${out.details}`);
        }
        await afterCase(path, out.code !== grpc.status.OK, out.details, before);
      }), options.runs);
      // Undo what accepted calls did to the spare agent.
      await op.reactivateAgent(spareAgentId).catch(() => undefined);
    }

    // Streams on the master: random batches, with or without a valid subscription first.
    const subscribe = encode(T('CallBatch'), { calls: [{ type: 1, subscribe: { frameworkInfo: { name: 'fuzz', user: 'nobody', failoverTimeoutSeconds: 0, roles: ['*'] } } }] });
    const validCalls = fc.constantFrom(
      subscribe,
      encode(T('CallBatch'), { calls: [{ type: 3, frameworkId: { value: frameworkId }, accept: { offerIds: [{ value: 'o-1' }], operations: [{ type: 1, launch: { taskInfos: [{ name: 't', taskId: { value: 't' }, agentId: { value: agentId }, resources: [{ name: 'cpus', type: 0, scalar: { value: 0.1 } }], command: { value: 'true' } }] } }] } }] }),
      encode(T('CallBatch'), { calls: [{ type: 7, frameworkId: { value: frameworkId }, kill: { taskId: { value: 'witness' } } }] }),
      encode(T('CallBatch'), { calls: [{ type: 2, frameworkId: { value: frameworkId } }] }),
    );
    await fuzzStream(master, '/agora.v1.Scheduler/Connect', T('CallBatch'), 'Scheduler/Connect', subscribe, validCalls);
    const register = encode(T('AgentCallBatch'), { calls: [{ type: 1, register: { agentInfo: { hostname: 'fuzz', resources: [{ name: 'cpus', type: 0, scalar: { value: 1 } }] } } }] });
    await fuzzStream(master, '/agora.v1.AgentLink/Connect', T('AgentCallBatch'), 'AgentLink/Connect', register, fc.constant(register));
    const execSub = encode(T('ExecutorCallBatch'), { calls: [{ type: 1, frameworkId: { value: frameworkId }, executorId: { value: 'witness' } }] });
    await fuzzStream(agent, '/agora.v1.Executor/Connect', T('ExecutorCallBatch'), 'Executor/Connect', execSub, fc.constant(execSub));

    // Files on the agent: nothing outside a sandbox, ever.
    for (const method of ['Read', 'Browse'] as const) {
      const reqType = T(method === 'Read' ? 'ReadFileRequest' : 'BrowseFilesRequest');
      const targeted = fc.record({
        frameworkId: fc.constantFrom({ value: frameworkId }, { value: 'nope' }, {}),
        executorId: fc.constantFrom({ value: 'witness' }, { value: '../witness' }, {}),
        path: fc.constantFrom(...strings),
        offset: fc.constantFrom(0, -1, 1e12, Number.NaN),
        length: fc.constantFrom(0, 10, 1e12, -5),
      }).map((m) => encode(reqType, m as Record<string, unknown>));
      await checkProperty(fc.asyncProperty(fc.oneof(framesOf(reqType, { strings }), targeted), async (body) => {
        const out = await agent.unary(`/agora.v1.Files/${method}`, body);
        tally.add(`Files/${method}`, out);
        if (out.code === undefined) throw new FuzzFailure(`Files/${method} hung`);
        for (const r of out.responses) {
          const text = method === 'Read'
            ? Buffer.from(agora.v1.ReadFileResponse.decode(r).data).toString()
            : JSON.stringify(agora.v1.BrowseFilesResponse.decode(r).entries);
          if (text.includes(canary) || text.includes('secret.txt')) throw new FuzzFailure(`Files/${method} served a file outside the sandbox`);
        }
      }), options.runs);
    }
    // The witness's own stdout is still readable: the refusals above are not "refuse everything".
    const own = await agent.unary('/agora.v1.Files/Read', encode(T('ReadFileRequest'), { frameworkId: { value: frameworkId }, executorId: { value: 'witness' }, path: 'stdout' }));
    if (own.code !== grpc.status.OK || !Buffer.from(agora.v1.ReadFileResponse.decode(own.responses[0]!).data).toString().includes('witness-stdout')) {
      throw new FuzzFailure(`the witness task's own stdout could not be read after fuzzing: ${own.details}`);
    }
    // And the cluster still runs the witness.
    const after = await op.getTasks({});
    if (!after.tasks.some((t) => t.taskId?.value === 'witness' && taskStateName(t.state) === 'TASK_RUNNING')) throw new FuzzFailure('the witness task is no longer running after fuzzing');
    for (const line of tally.lines()) log(line);
    return tally;
  } finally {
    await driver.stop().catch(() => undefined);
    await decoy.stop().catch(() => undefined);
    op.close();
    master.close();
    agent.close();
    await cluster.stop();
    await rm(outside, { recursive: true, force: true });
  }

  async function fuzzStream(client: RawClient, path: string, type: protobuf.Type, name: string, first: Buffer, valid: fc.Arbitrary<Buffer>): Promise<void> {
    const arb = fc.tuple(fc.boolean(), fc.array(framesOf(type, { strings: [], valid }), { minLength: 1, maxLength: 3 }));
    await checkProperty(fc.asyncProperty(arb, async ([prefixed, frames]) => {
      const before = await fingerprint(op, cluster);
      const out = await client.stream(path, prefixed ? [first, ...frames] : frames);
      tally.add(name, out);
      // Rejected outright (no event, an error status): the cluster is as it was.
      await afterCase(path, !answered(out) && out.code !== undefined && out.code !== grpc.status.OK, out.details, before);
    }), options.runs);
  }
}

async function waitFor<T>(get: () => Promise<T | undefined>, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}


/**
 * Long-running framework benchmark: one app of BENCH_LR_INSTANCES (1,000) sleep instances on a
 * real master (in-process) with BENCH_LR_AGENTS (50) simulated agents — gRPC agents that answer
 * RUN_TASK with TASK_RUNNING and KILL_TASK with TASK_KILLED at once, as in bench/launch.ts
 * part 3 — so the figure measures the framework and the master, not process start-up.
 *
 *   1. deploy → all RUNNING (deployment finished)
 *   2. 100 instances fail (TASK_FAILED from their agents) → all RUNNING again (backoffSeconds 0)
 *
 * Anchor: Marathon ≈ 14 s for 500 instances (≈ 35 tasks/s). Prints figures; never fails on time.
 */
import { cpus } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentLinkClient, AgentCallType, AgentEventType, BatchWriter, newUuidBytes, TaskState, type AgentCall, type AgentEvent } from '@agora/core';
import { resources as R, startCluster } from '@agora/sdk';
import { startLongRunning } from '@agora/long-running';

const N = Number(process.env.BENCH_LR_INSTANCES ?? 1000);
const AGENTS = Number(process.env.BENCH_LR_AGENTS ?? 50);
const KILL = Number(process.env.BENCH_LR_KILL ?? 100);

interface SimTask { agent: { id: string; out: BatchWriter<AgentCall, { calls: AgentCall[] }> }; frameworkId: unknown }

async function main(): Promise<void> {
  console.log(`Agora long-running benchmark — ${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, Node ${process.version}`);
  const cluster = await startCluster({ agents: 0 });
  const client = agentLinkClient(cluster.masterAddress);
  const tasks = new Map<string, SimTask>();
  const send = (t: SimTask, taskId: string, state: TaskState): void => {
    t.agent.out.send({
      type: AgentCallType.STATUS_UPDATE,
      agentId: { value: t.agent.id },
      statusUpdate: { frameworkId: t.frameworkId as { value: string }, status: { taskId: { value: taskId }, state, uuid: newUuidBytes(), agentId: { value: t.agent.id }, timestamp: Date.now() / 1000, source: 2 } },
    });
  };
  let registered = 0;
  await new Promise<void>((resolve) => {
    for (let i = 0; i < AGENTS; i++) {
      const stream = client.connect();
      const agent = { id: '', out: new BatchWriter<AgentCall, { calls: AgentCall[] }>(stream, (calls) => ({ calls })) };
      stream.on('data', (batch: { events: AgentEvent[] }) => {
        for (const ev of batch.events) {
          if (ev.type === AgentEventType.REGISTERED) {
            agent.id = ev.registered?.agentId?.value ?? '';
            if (++registered === AGENTS) resolve();
          } else if (ev.type === AgentEventType.RUN_TASK) {
            const taskId = ev.runTask!.task!.taskId!.value!;
            const t = { agent, frameworkId: ev.runTask!.framework!.id };
            tasks.set(taskId, t);
            send(t, taskId, TaskState.TASK_RUNNING);
          } else if (ev.type === AgentEventType.KILL_TASK) {
            const taskId = ev.killTask?.taskId?.value ?? '';
            const t = tasks.get(taskId);
            if (t) { tasks.delete(taskId); send(t, taskId, TaskState.TASK_KILLED); }
          }
        }
      });
      stream.on('error', () => {});
      agent.out.send({
        type: AgentCallType.REGISTER,
        register: { agentInfo: { hostname: `sim-${i}`, address: `127.0.0.2:${10000 + i}`, resources: R.parseResources('cpus:64;mem:262144;disk:100000;ports:[31000-32000]') } },
      });
    }
  });
  const workDir = mkdtempSync(join(tmpdir(), 'agora-bench-lr-'));
  const lr = await startLongRunning({ master: cluster.masterAddress, workDir, port: 0 });
  const svc = lr.service;
  const running = (): number => { let n = 0; for (const i of svc.instances.values()) if (i.state === 'running') n++; return n; };
  const waitAll = async (): Promise<void> => { while (running() < N || svc.deployments.size > 0) await new Promise((r) => setTimeout(r, 5)); };

  const t0 = performance.now();
  const res = await fetch(`http://${lr.address}/v2/apps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: '/bench/sleep', cmd: 'sleep 3600', cpus: 0.01, mem: 8, instances: N, backoffSeconds: 0 }) });
  if (res.status !== 201) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
  await waitAll();
  const deployMs = performance.now() - t0;
  console.log(`1. deploy ${N} instances on ${AGENTS} simulated agents → all RUNNING: ${(deployMs / 1000).toFixed(2)} s (${Math.round(N / (deployMs / 1000))} instances/s)`);

  const victims = [...svc.instances.keys()].slice(0, KILL);
  const t1 = performance.now();
  for (const id of victims) { const t = tasks.get(id); if (t) { tasks.delete(id); send(t, id, TaskState.TASK_FAILED); } }
  while (victims.some((v) => svc.instances.has(v))) await new Promise((r) => setTimeout(r, 2));
  await waitAll();
  const recoverMs = performance.now() - t1;
  console.log(`2. ${KILL} instances failed → replaced, all ${N} RUNNING again: ${(recoverMs / 1000).toFixed(2)} s (${Math.round(KILL / (recoverMs / 1000))} instances/s)`);
  console.log(`   anchor: Marathon ≈ 14 s for 500 instances (≈ 35/s); target ≥ 500 instances/s. Framework: ${svc.metrics.offersReceived} offers, ${svc.metrics.tasksLaunched} launches.`);
  await lr.stop({ teardown: true });
  client.close();
  await cluster.stop();
  rmSync(workDir, { recursive: true, force: true });
  process.exit(0);
}

await main();

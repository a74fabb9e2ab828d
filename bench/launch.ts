/**
 * `npm run bench:launch` — how fast Agora places and launches tasks. Prints figures, never
 * passes or fails on them.
 *
 *  1. Real launches/s: a real `agora master` and two `agora agent` processes on loopback, an SDK
 *     scheduler launching N `sh -c 'echo hi'` tasks. Peer in the same run: the same N commands
 *     spawned straight from this process with child_process (the machine's floor for forking).
 *  2. accept→RUNNING latency of single tasks on an idle cluster (p50/p99).
 *  3. Placements/s through a real master process with 1,000 simulated agents (agents that
 *     acknowledge launches without forking), as in Nomad's C1M.
 *
 * Sizes: BENCH_TASKS (default 1000), BENCH_LATENCY (200), BENCH_SIM_AGENTS (1000),
 * BENCH_SIM_TASKS (20000).
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { agentLinkClient, AgentCallType, AgentEventType, BatchWriter, newUuidBytes, TaskState, type AgentCall, type AgentEvent } from '@agora/core';
import { SchedulerDriver, commandTask, offerFits, resources as R, type Offer, type TaskInfo } from '@agora/sdk';
import { agora, freePort, startProcessCluster, stopAll, tempDir, waitForHealth } from '../test/helpers/processes.js';

const N = Number(process.env.BENCH_TASKS ?? 1000);
const LAT = Number(process.env.BENCH_LATENCY ?? 200);
const SIM_AGENTS = Number(process.env.BENCH_SIM_AGENTS ?? 1000);
const SIM_TASKS = Number(process.env.BENCH_SIM_TASKS ?? 20000);

const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** Packs as many copies of `make` as fit into an offer. */
function pack(offer: Offer, want: number, make: (o: Offer) => TaskInfo, need: { cpus: number; mem: number }): TaskInfo[] {
  const tasks: TaskInfo[] = [];
  let rest: Offer = offer;
  while (tasks.length < want && offerFits(rest, need)) {
    const t = make(rest);
    tasks.push(t);
    rest = { ...rest, resources: R.subtract(rest.resources ?? [], t.resources ?? []) };
  }
  return tasks;
}

async function peerSpawn(n: number): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      await new Promise<void>((resolve) => {
        const c = spawn('/bin/sh', ['-c', "sh -c 'echo hi'"], { stdio: 'ignore', detached: true });
        c.on('exit', () => resolve());
        c.on('error', () => resolve());
      });
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return n / ((performance.now() - t0) / 1000);
}

async function realLaunches(): Promise<{ perSec: number; runningPerSec: number; p50: number; p99: number }> {
  const cluster = await startProcessCluster({ agents: 2, agentResources: 'cpus:64;mem:65536;disk:100000;ports:[31000-32000]' });
  let left = N;
  let finished = 0, running = 0;
  let t0 = 0, tRunning = 0, tDone = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => { resolveDone = r; });
  let seq = 0;
  const driver = new SchedulerDriver({
    master: cluster.address,
    framework: { name: 'bench-launch', failoverTimeoutSeconds: 0 },
    callbacks: {
      resourceOffers: (d, offers) => {
        for (const o of offers) {
          if (left === 0) { d.decline(o.id!.value!, { refuseSeconds: 60 }); continue; }
          if (!t0) t0 = performance.now();
          const tasks = pack(o, left, (rest) => commandTask(rest, { name: `echo-${seq}`, taskId: `echo-${seq++}`, command: "sh -c 'echo hi'", cpus: 0.01, mem: 1 }), { cpus: 0.01, mem: 1 });
          left -= tasks.length;
          d.launch(o.id!.value!, tasks, { refuseSeconds: 0 });
        }
      },
      statusUpdate: (_d, s) => {
        if (s.state === TaskState.TASK_RUNNING && ++running === N) tRunning = performance.now();
        if (s.state === TaskState.TASK_FINISHED || s.state === TaskState.TASK_FAILED) {
          if (++finished === N) { tDone = performance.now(); resolveDone(); }
        }
      },
    },
  });
  await driver.start();
  await done;
  await driver.stop();

  // Latency: one task at a time on the now idle cluster.
  const lat: number[] = [];
  let pendingStart = 0;
  let wantOne = false;
  let resolveOne!: () => void;
  const latDriver = new SchedulerDriver({
    master: cluster.address,
    framework: { name: 'bench-latency', failoverTimeoutSeconds: 0 },
    callbacks: {
      resourceOffers: (d, offers) => {
        for (const o of offers) {
          if (!wantOne) { d.decline(o.id!.value!, { refuseSeconds: 60 }); continue; }
          wantOne = false;
          pendingStart = performance.now();
          d.launch(o.id!.value!, [commandTask(o, { name: `lat-${seq}`, taskId: `lat-${seq++}`, command: 'true', cpus: 0.01, mem: 1 })], { refuseSeconds: 0 });
        }
      },
      statusUpdate: (_d, s) => {
        if (s.state === TaskState.TASK_RUNNING) { lat.push(performance.now() - pendingStart); resolveOne(); }
      },
    },
  });
  await latDriver.start();
  for (let i = 0; i < LAT; i++) {
    const one = new Promise<void>((r) => { resolveOne = r; });
    wantOne = true;
    latDriver.revive();
    await one;
  }
  await latDriver.stop();
  await stopAll();
  return { perSec: N / ((tDone - t0) / 1000), runningPerSec: N / ((tRunning - t0) / 1000), p50: pct(lat, 50), p99: pct(lat, 99) };
}

/** Simulated agents: register, then answer every RUN_TASK with TASK_RUNNING at once. */
async function simulatedPlacements(): Promise<{ perSec: number; agents: number; tasks: number }> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  agora(['master', '--port', String(port), '--work-dir', tempDir()]);
  await waitForHealth(address);
  const client = agentLinkClient(address);
  let registered = 0;
  let resolveAll!: () => void;
  const allRegistered = new Promise<void>((r) => { resolveAll = r; });
  for (let i = 0; i < SIM_AGENTS; i++) {
    const stream = client.connect();
    const out = new BatchWriter<AgentCall, { calls: AgentCall[] }>(stream, (calls) => ({ calls }));
    let agentId = '';
    stream.on('data', (batch: { events: AgentEvent[] }) => {
      for (const ev of batch.events) {
        if (ev.type === AgentEventType.REGISTERED) {
          agentId = ev.registered?.agentId?.value ?? '';
          if (++registered === SIM_AGENTS) resolveAll();
        } else if (ev.type === AgentEventType.RUN_TASK) {
          const task = ev.runTask!.task!;
          out.send({
            type: AgentCallType.STATUS_UPDATE,
            agentId: { value: agentId },
            statusUpdate: {
              frameworkId: ev.runTask!.framework!.id,
              status: { taskId: task.taskId, state: TaskState.TASK_RUNNING, uuid: newUuidBytes(), agentId: { value: agentId }, timestamp: Date.now() / 1000, source: 2 },
            },
          });
        }
      }
    });
    stream.on('error', () => {});
    out.send({
      type: AgentCallType.REGISTER,
      register: { agentInfo: { hostname: `sim-${i}`, address: `127.0.0.2:${10000 + i}`, resources: R.parseResources('cpus:8;mem:16384;disk:100000;ports:[31000-32000]') } },
    });
  }
  await allRegistered;

  let left = SIM_TASKS, running = 0, seq = 0, t0 = 0, t1 = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => { resolveDone = r; });
  const driver = new SchedulerDriver({
    master: address,
    framework: { name: 'bench-sim', failoverTimeoutSeconds: 0 },
    callbacks: {
      resourceOffers: (d, offers) => {
        if (!t0) t0 = performance.now();
        for (const o of offers) {
          if (left === 0) { d.decline(o.id!.value!, { refuseSeconds: 60 }); continue; }
          const tasks = pack(o, Math.min(left, 20), (rest) => commandTask(rest, { name: `sim-${seq}`, taskId: `sim-${seq++}`, command: 'true', cpus: 0.1, mem: 32 }), { cpus: 0.1, mem: 32 });
          left -= tasks.length;
          d.launch(o.id!.value!, tasks, { refuseSeconds: 0 });
        }
      },
      statusUpdate: (_d, s) => {
        if (s.state === TaskState.TASK_RUNNING && ++running === SIM_TASKS) { t1 = performance.now(); resolveDone(); }
      },
    },
  });
  await driver.start();
  await done;
  await driver.stop();
  client.close();
  await stopAll();
  return { perSec: SIM_TASKS / ((t1 - t0) / 1000), agents: SIM_AGENTS, tasks: SIM_TASKS };
}

async function main() {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`Agora launch benchmark — ${cpu}, ${cpus().length} cores, Node ${process.version}\n`);
  const peer = await peerSpawn(N);
  const real = await realLaunches();
  console.log(`1. real launches, 2 agents, ${N} × sh -c 'echo hi'`);
  console.log(`   agora          ${fmt(real.perSec)} tasks/s launched and finished   (${fmt(real.runningPerSec)} tasks/s reached RUNNING)`);
  console.log(`   peer           ${fmt(peer)} spawns/s: the same commands forked straight from Node, no cluster`);
  console.log(`   anchors        Mesos agent ≈33 containers/s · Marathon ≈35 tasks/s · Kubernetes ≈100 pods/s   (target ≥300)`);
  console.log(`2. accept→RUNNING, ${LAT} single tasks on an idle cluster`);
  console.log(`   agora          p50 ${fmt(real.p50, 1)} ms · p99 ${fmt(real.p99, 1)} ms   (target p99 ≤ 50 ms)`);
  const sim = await simulatedPlacements();
  console.log(`3. placements through the master, ${fmt(sim.agents)} simulated agents, ${fmt(sim.tasks)} tasks`);
  console.log(`   agora          ${fmt(sim.perSec)} placements/s`);
  console.log(`   anchor         Nomad C1M 3,750 placements/s   (target ≥5,000)`);
  process.exit(0);
}

main().catch(async (e) => {
  console.error(`bench:launch failed: ${e instanceof Error ? e.message : e}`);
  await stopAll();
  process.exit(1);
});

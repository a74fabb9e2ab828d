/**
 * `npm run bench:state` — what the operator views cost with many tasks. Prints figures, never
 * passes or fails on them.
 *
 * A real `agora master` process, BENCH_STATE_AGENTS simulated agents (in this process; they
 * answer RUN_TASK with TASK_RUNNING without forking) and an SDK scheduler that launches
 * BENCH_STATE_TASKS tasks (default 10,000), of which BENCH_STATE_DONE (default 2,000) are then
 * killed, so the master holds live and completed tasks. Then, interleaved in the same run
 * (same load for both), latencies of:
 *   - HTTP GET /state (first 100 tasks, the UI's default), /state?taskLimit=1000,
 *     /tasks?state=TASK_RUNNING&limit=100, /tasks?frameworkId=…&offset=5000&limit=100
 *   - the peer: gRPC Operator.GetState with task_limit 100 (same page), and without a limit
 *     (every task, what `agora state` fetches).
 * Each is measured BENCH_STATE_ROUNDS times (default 100); p50/p99 and answer size are printed.
 */
import { performance } from 'node:perf_hooks';
import { OperatorClient } from '@agora/core';
import { SchedulerDriver, commandTask, offerFits, resources as R, type Offer, type TaskInfo } from '@agora/sdk';
import { fmt, machine, machineLoad, runBench, sleep } from './helpers/common.js';
import { SimFleet } from './helpers/sim-agents.js';
import { agora, freePort, stopAll, tempDir, waitForHealth, type Proc } from '../test/helpers/processes.js';

const TASKS = Number(process.env.BENCH_STATE_TASKS ?? 10_000);
const DONE = Number(process.env.BENCH_STATE_DONE ?? 2_000);
const AGENTS = Number(process.env.BENCH_STATE_AGENTS ?? 100);
const ROUNDS = Number(process.env.BENCH_STATE_ROUNDS ?? 100);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

let fleet: SimFleet | undefined;
let driver: SchedulerDriver | undefined;
let master: Proc | undefined;

async function main(): Promise<void> {
  const port = await freePort();
  const httpPort = await freePort();
  // A long ping timeout: on a loaded machine this process (which runs the simulated agents) can
  // stall for seconds, and agents marked unreachable would lose every task.
  master = agora(['master', '--port', String(port), '--http-port', String(httpPort), '--agent-ping-timeout', '120', '--work-dir', tempDir('agora-bench-state-')]);
  const address = `127.0.0.1:${port}`;
  const http = `127.0.0.1:${httpPort}`;
  await waitForHealth(address);
  fleet = new SimFleet({ masters: [address], resources: 'cpus:64;mem:131072;disk:100000' });
  await fleet.add(AGENTS);

  // Launch TASKS tasks, packing each offer.
  let seq = 0;
  const running = new Set<string>();
  const finished = new Set<string>();
  const lost = new Set<string>();
  driver = new SchedulerDriver({
    master: address,
    framework: { name: 'bench-state', failoverTimeoutSeconds: 60 },
    callbacks: {
      resourceOffers: (d, offers) => {
        for (const o of offers) {
          const tasks: TaskInfo[] = [];
          let rest: Offer = o;
          while (seq < TASKS && tasks.length < 200 && offerFits(rest, { cpus: 0.1, mem: 32 })) {
            const t = commandTask(rest, { name: `t-${seq}`, taskId: `t-${seq++}`, command: 'sleep 3600', cpus: 0.1, mem: 32, labels: { bench: 'state' } });
            tasks.push(t);
            rest = { ...rest, resources: R.subtract(rest.resources ?? [], t.resources ?? []) };
          }
          if (tasks.length > 0) d.launch(o.id?.value ?? '', tasks, { refuseSeconds: 1 });
          else d.decline(o.id?.value ?? '', { refuseSeconds: 3600 });
        }
      },
      statusUpdate: (_d, s) => {
        const id = s.taskId?.value ?? '';
        if (s.state === 3) running.add(id);
        if (s.state === 7) finished.add(id);
        if (s.state === 9 || s.state === 11) lost.add(id);
      },
    },
  });
  const fwId = await driver.start();
  const t0 = performance.now();
  while (running.size < TASKS) {
    if (performance.now() - t0 > 300_000) throw new Error(`only ${running.size} of ${TASKS} tasks running after 300 s`);
    if (lost.size > 0) throw new Error(`${lost.size} tasks were lost (simulated agents starved past the ping timeout?)`);
    await sleep(100);
  }
  const launchSeconds = (performance.now() - t0) / 1000;
  for (let i = 0; i < DONE; i++) driver.kill(`t-${i}`);
  while (finished.size < DONE) {
    if (performance.now() - t0 > 400_000) throw new Error(`only ${finished.size} of ${DONE} kills done`);
    await sleep(100);
  }
  await sleep(1000);

  const op = new OperatorClient(address, 30_000);
  // Server-side time of the HTTP answers (the master's Server-Timing header), per probe.
  const serverMs: number[][] = [];
  const httpProbe = (path: string, i: number) => async (): Promise<number> => {
    const res = await fetch(`http://${http}${path}`);
    const body = await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    const dur = /dur=([\d.]+)/.exec(res.headers.get('server-timing') ?? '')?.[1];
    if (dur) (serverMs[i] ??= []).push(Number(dur));
    return body.byteLength;
  };
  const probes: { name: string; run: () => Promise<number> }[] = [
    { name: 'HTTP  GET /state (100 tasks)', run: httpProbe('/state', 0) },
    { name: 'HTTP  GET /state?taskLimit=1000', run: httpProbe('/state?taskLimit=1000', 1) },
    { name: 'HTTP  GET /tasks?state=TASK_RUNNING&limit=100', run: httpProbe('/tasks?state=TASK_RUNNING&limit=100', 2) },
    { name: 'HTTP  GET /tasks?frameworkId=…&offset=5000', run: httpProbe(`/tasks?frameworkId=${fwId}&offset=5000&limit=100`, 3) },
    { name: 'gRPC  GetState task_limit 100 (peer)', run: async () => JSON.stringify((await op.getState({ taskLimit: 100 })).toJSON()).length },
    { name: 'gRPC  GetState all tasks (peer)', run: async () => JSON.stringify((await op.getState({})).toJSON()).length },
  ];
  // Warm up (JIT, connections), then interleave so that every probe sees the same load.
  for (const p of probes) for (let i = 0; i < 3; i++) await p.run();
  serverMs.length = 0;
  const times = probes.map(() => [] as number[]);
  const sizes = probes.map(() => 0);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [i, p] of probes.entries()) {
      const s = performance.now();
      sizes[i] = await p.run();
      times[i]!.push(performance.now() - s);
    }
  }
  op.close();

  const check = (await (await fetch(`http://${http}/state`)).json()) as { tasks: { total: number } };
  console.log(`bench:state — ${machine()}; ${machineLoad()}`);
  console.log(`master holds ${fmt(check.tasks.total)} tasks (${fmt(TASKS - DONE)} running, ${fmt(DONE)} completed) on ${fmt(AGENTS)} simulated agents; ${fmt(TASKS)} launched in ${launchSeconds.toFixed(1)} s`);
  console.log(`${ROUNDS} rounds each, interleaved; latency seen by a client on the same machine (request + JSON + transfer):`);
  console.log('');
  console.log(`| ${'view'.padEnd(46)} | client p50 ms | client p99 ms | master p50 ms | master p99 ms | answer |`);
  console.log(`| ${'-'.repeat(46)} | ------------- | ------------- | ------------- | ------------- | ------ |`);
  const cell = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '—' : fmt(v, 1)).padStart(13);
  for (const [i, p] of probes.entries()) {
    const srv = serverMs[i];
    console.log(`| ${p.name.padEnd(46)} | ${cell(pct(times[i]!, 50))} | ${cell(pct(times[i]!, 99))} | ${cell(srv && pct(srv, 50))} | ${cell(srv && pct(srv, 99))} | ${`${fmt(sizes[i]! / 1024)} KiB`.padStart(6)} |`);
  }
  console.log('');
  console.log('client: measured in this process (which also runs the simulated agents); master: the time the master spent on the answer (Server-Timing; gRPC has none).');
}

async function cleanup(): Promise<void> {
  await driver?.stop().catch(() => undefined);
  fleet?.close();
  master?.kill();
  await stopAll();
}

runBench('bench:state', main, cleanup);

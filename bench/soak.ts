/**
 * `npm run bench:soak` — no false alarms on a busy cluster, and how fast a lost agent is noticed.
 * Prints figures, never passes or fails on them.
 *
 * A real `agora master` and two real `agora agent` processes on loopback, all with default
 * timeouts (agent ping timeout DEFAULTS.agentPingTimeoutSeconds, heartbeats every
 * DEFAULTS.heartbeatIntervalSeconds). An SDK scheduler keeps them busy for BENCH_SOAK_SECONDS
 * (default 600): BENCH_SOAK_INFLIGHT (8) `sleep 0.2` tasks always in flight (each one replaced as
 * it ends) plus BENCH_SOAK_LONG (4) `sleep 45` tasks, relaunched as they end.
 *
 *  1. False positives during the soak: every second GetAgents must list both agents active; any
 *     agent marked inactive, any TASK_LOST / TASK_UNREACHABLE / TASK_GONE / TASK_DROPPED /
 *     TASK_GONE_BY_OPERATOR, and any growth of master/agents_deactivated counts as one.
 *  2. Time to detect a lost agent: SIGSTOP one agent (its process group) at the end and poll
 *     GetAgents every 100 ms until the master no longer lists it active; SIGCONT, wait until it
 *     is back, and again with the other agent, BENCH_SOAK_DETECT_RUNS (3) times in all: where
 *     the last heartbeat falls before the stop moves the figure by up to a heartbeat interval.
 */
import { DEFAULTS, OperatorClient, TaskState, isTerminalState, taskStateName, type TaskStatus } from '@agora/core';
import { SchedulerDriver, commandTask, offerFits, resources as R, type Offer, type TaskInfo } from '@agora/sdk';
import { startProcessCluster, stopAll, type Proc } from '../test/helpers/processes.js';
import { fmt, machine, machineLoad, runBench, secs, sleep } from './helpers/common.js';

const SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 600);
const INFLIGHT = Number(process.env.BENCH_SOAK_INFLIGHT ?? 8);
const LONG = Number(process.env.BENCH_SOAK_LONG ?? 4);
const DETECT_RUNS = Number(process.env.BENCH_SOAK_DETECT_RUNS ?? 3);
const NEED = { cpus: 0.1, mem: 16 };
const ALARMS = new Set<number>([TaskState.TASK_LOST, TaskState.TASK_UNREACHABLE, TaskState.TASK_GONE, TaskState.TASK_DROPPED, TaskState.TASK_GONE_BY_OPERATOR]);

let live: { driver?: SchedulerDriver; stopped?: Proc } = {};

async function cleanup(): Promise<void> {
  const { driver, stopped } = live;
  live = {};
  stopped?.kill('SIGCONT');
  if (driver) await Promise.race([driver.stop(), sleep(2000)]);
  await stopAll();
}

interface Wanted { name: string; command: string; long: boolean }

async function main(): Promise<void> {
  console.log(`Agora soak benchmark — ${machine()}`);
  console.log(`${machineLoad()} at start`);
  const cluster = await startProcessCluster({ agents: 2, agentResources: 'cpus:8;mem:4096;disk:1000;ports:[31000-31100]' });
  const op = new OperatorClient(cluster.address, 5_000);

  const queue: Wanted[] = [];
  const kinds = new Map<string, boolean>(); // task id → long?
  const terminal = new Map<string, number>();
  const alarms: string[] = [];
  let feeding = true;
  let seq = 0;
  let shortsDone = 0, longsDone = 0;
  let soakEnd = Infinity;
  const afterStop: { at: number; first?: number; state?: string } = { at: Infinity };
  const want = (long: boolean): void => {
    const name = `${long ? 'long' : 'short'}-${seq++}`;
    queue.push({ name, command: long ? 'sleep 45' : 'sleep 0.2', long });
  };
  const driver = new SchedulerDriver({
    master: cluster.address,
    framework: { name: 'bench-soak', failoverTimeoutSeconds: 0 },
    callbacks: {
      resourceOffers: (d, offers) => {
        for (const o of offers) {
          const tasks: TaskInfo[] = [];
          let rest: Offer = o;
          while (queue.length && offerFits(rest, NEED)) {
            const w = queue.shift()!;
            const t = commandTask(rest, { name: w.name, taskId: w.name, command: w.command, ...NEED });
            kinds.set(w.name, w.long);
            tasks.push(t);
            rest = { ...rest, resources: R.subtract(rest.resources ?? [], t.resources ?? []) };
          }
          if (tasks.length) d.launch(o.id!.value!, tasks, { refuseSeconds: 0 });
          else d.decline(o.id!.value!, { refuseSeconds: 1 });
        }
      },
      statusUpdate: (d, s: TaskStatus) => {
        const id = s.taskId?.value ?? '';
        if (!isTerminalState(s.state)) return;
        const name = taskStateName(s.state);
        terminal.set(name, (terminal.get(name) ?? 0) + 1);
        const now = performance.now();
        if (ALARMS.has(s.state ?? 0)) {
          if (now < soakEnd) alarms.push(`${(now / 1000).toFixed(1)} s: ${id} ${name} (${s.message ?? ''})`);
          else if (now >= afterStop.at && afterStop.first === undefined) { afterStop.first = now - afterStop.at; afterStop.state = name; }
        }
        const long = kinds.get(id) ?? false;
        if (long) longsDone++;
        else shortsDone++;
        if (feeding || long) { want(long); d.revive(); }
      },
    },
  });
  live.driver = driver;
  await driver.start();
  const agentPort = (p: Proc): string => {
    const args = p.child.spawnargs;
    return `127.0.0.1:${args[args.indexOf('--port') + 1]}`;
  };
  const addressOf = new Map(cluster.agents.map((p) => [agentPort(p), p]));
  const metric = async (name: string): Promise<number> => (await op.getMetrics()).metrics.find((m) => m.name === name)?.value ?? NaN;
  const deactivated0 = await metric('master/agents_deactivated');

  for (let i = 0; i < LONG; i++) want(true);
  for (let i = 0; i < INFLIGHT; i++) want(false);
  driver.revive();

  // ---------------------------------------------------------------- the soak
  const t0 = performance.now();
  soakEnd = t0 + SECONDS * 1000;
  let inactiveSeen = 0;
  const wasInactive = new Set<string>();
  let nextReport = t0 + 60_000;
  while (performance.now() < soakEnd) {
    try {
      const { agents } = await op.getAgents();
      const active = new Set(agents.filter((a) => a.active).map((a) => a.agentInfo?.address ?? ''));
      for (const address of addressOf.keys()) {
        if (!active.has(address) && !wasInactive.has(address)) {
          inactiveSeen++;
          alarms.push(`${((performance.now() - t0) / 1000).toFixed(1)} s: agent ${address} not active`);
        }
        if (!active.has(address)) wasInactive.add(address);
        else wasInactive.delete(address);
      }
    } catch (e) {
      alarms.push(`${((performance.now() - t0) / 1000).toFixed(1)} s: GetAgents failed: ${(e as Error).message}`);
    }
    if (performance.now() >= nextReport) {
      console.log(`   ${fmt((performance.now() - t0) / 1000)} s: ${fmt(shortsDone)} short + ${fmt(longsDone)} long tasks ended, ${alarms.length} alarms`);
      nextReport += 60_000;
    }
    await sleep(1000);
  }
  const soakMs = performance.now() - t0;
  feeding = false;
  const deactivated = (await metric('master/agents_deactivated')) - deactivated0;
  const falsePositives = alarms.length + Math.max(0, deactivated - inactiveSeen);
  const loadAtEnd = machineLoad();
  const [shortsRun, longsRun, endedRun] = [shortsDone, longsDone, [...terminal].map(([st, n]) => `${fmt(n)} ${st}`).join(', ')];

  // ---------------------------------------------------------------- a lost agent
  const detects: number[] = [];
  const victims = [...addressOf];
  for (let run = 0; run < DETECT_RUNS; run++) {
    const [victimAddress, victim] = victims[run % victims.length]!;
    victim.kill('SIGSTOP');
    live.stopped = victim;
    const s0 = performance.now();
    afterStop.at = s0;
    let detectMs: number | undefined;
    while (performance.now() - s0 < 120_000) {
      const { agents } = await op.getAgents();
      if (!agents.some((a) => a.active && a.agentInfo?.address === victimAddress)) { detectMs = performance.now() - s0; break; }
      await sleep(100);
    }
    if (detectMs === undefined) throw new Error(`the master still lists ${victimAddress} active 120 s after SIGSTOP`);
    detects.push(detectMs);
    console.log(`   detect run ${run + 1}: agent ${victimAddress} stopped → inactive after ${secs(detectMs)}`);
    // Give the master a moment to report the lost agent's tasks too (informational), then heal.
    await sleep(3000);
    victim.kill('SIGCONT');
    live.stopped = undefined;
    const back = Date.now() + 60_000;
    while (!(await op.getAgents()).agents.some((a) => a.active && a.agentInfo?.address === victimAddress)) {
      if (Date.now() > back) throw new Error(`${victimAddress} did not come back within 60 s of SIGCONT`);
      await sleep(200);
    }
  }
  op.close();
  const sorted = [...detects].sort((a, b) => a - b);

  console.log(`\n1. soak: ${fmt(soakMs / 1000)} s (BENCH_SOAK_SECONDS=${SECONDS}), master + 2 agents, default ping timeout ${DEFAULTS.agentPingTimeoutSeconds} s (heartbeat ${DEFAULTS.heartbeatIntervalSeconds} s)`);
  console.log(`   load           ${INFLIGHT} × sleep 0.2 always in flight + ${LONG} × sleep 45`);
  console.log(`   tasks run      ${fmt(shortsRun + longsRun)} ended (${fmt(shortsRun)} short, ${fmt(longsRun)} long; ${fmt((shortsRun + longsRun) / (soakMs / 1000), 1)}/s): ${endedRun || 'none'}`);
  console.log(`   false positives ${falsePositives}   (agents seen inactive ${inactiveSeen}, master/agents_deactivated +${deactivated}, lost/unreachable updates ${alarms.length - inactiveSeen})   (must be 0)`);
  for (const a of alarms.slice(0, 10)) console.log(`      ${a}`);
  console.log(`   machine        ${loadAtEnd} at the end of the soak`);
  console.log(`2. time to detect a lost agent (SIGSTOP, default timeout ${DEFAULTS.agentPingTimeoutSeconds} s), ${detects.length} runs`);
  console.log(`   agora          min ${secs(sorted[0])} · median ${secs(sorted[Math.floor(sorted.length / 2)])} · max ${secs(sorted.at(-1))} until GetAgents no longer lists it active`);
  console.log(`                  ${afterStop.first !== undefined ? `tasks: first ${afterStop.state} of a stopped agent's task ${secs(afterStop.first)} after its SIGSTOP (first run)` : "tasks: no LOST/UNREACHABLE update for a stopped agent's tasks within 3 s of its detection"}`);
  console.log(`   anchors        Mesos default 75 s (agent_ping_timeout 15 s × 5) · Nomad ≈20 s   (target ≤ 10 s)`);
  console.log(`\n${machineLoad()} at end`);
}

runBench('bench:soak', main, cleanup);

import { Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { DEFAULTS, createLogger } from '@agora/core';
import { BaseCommand } from '../base-command.js';
import { UserError, oneLine } from '../errors.js';
import { checkAttributes, checkResources, logLevelFlag, parseMasters, portFlag } from '../flags.js';
import { startAgent, type AgentHandle } from '../peers.js';
import { Progress } from '../progress.js';
import { exitSoonIfStuck, waitForSignal } from '../wait-signal.js';
import { agentSecurityOptions, warnIfInsecure, serverSecurityFlags } from '../security-flags.js';

export default class AgentCommand extends BaseCommand {
  static override summary = 'Run an agent until Ctrl-C / SIGTERM.';
  static override description = 'The agent registers with the master, offers its resources (measured, or as given by --resources) and runs tasks in sandboxes under WORK-DIR. Stopping it kills its tasks.';
  static override examples = ['<%= config.bin %> agent --master 127.0.0.1:5050 --resources "cpus:4;mem:8192;disk:20000;ports:[31000-32000]" --attributes "rack:r1"'];

  static override flags = {
    master: Flags.string({ summary: 'Master address(es), HOST:PORT[,HOST:PORT].', env: 'AGORA_MASTER', default: `${DEFAULTS.bindHost}:${DEFAULTS.masterPort}`, helpValue: 'HOST:PORT' }),
    host: Flags.string({ summary: 'Address to bind and advertise.', default: DEFAULTS.bindHost }),
    port: portFlag({ summary: 'gRPC port for executors and files (0: any free port).', default: DEFAULTS.agentPort }),
    resources: Flags.string({ summary: 'Resources to offer instead of the measured ones.', helpValue: '"cpus:4;mem:8192;disk:20000;ports:[31000-32000]"' }),
    attributes: Flags.string({ summary: 'Attributes of this agent.', helpValue: '"rack:r1;zone:a"' }),
    'work-dir': Flags.string({ summary: 'Directory of sandboxes and checkpoints.', default: './.agora/agent' }),
    hostname: Flags.string({ summary: 'Hostname to report (default: the OS hostname).' }),
    isolation: Flags.string({ summary: 'How tasks are held to their cpus/mem/pids (auto: cgroups where writable, else rlimits).', options: ['auto', 'cgroups', 'rlimits', 'none'], default: 'auto' }),
    'dynamic-users': Flags.boolean({ summary: 'As root, run each task as an unprivileged user of its own unless it names one.', default: true, allowNo: true }),
    'dynamic-uid-range': Flags.string({ summary: 'uids for dynamic users.', default: '61000-61999', helpValue: 'FIRST-LAST' }),
    'allow-root-tasks': Flags.boolean({ summary: "Let tasks run as root when their framework asks (the master's run_tasks ACLs still decide which principals may).", default: false }),
    'task-pids-max': Flags.integer({ summary: 'Most processes per task (0: unlimited).', default: 4096, min: 0 }),
    'enforce-disk-quota': Flags.boolean({ summary: 'Kill tasks whose sandbox outgrows their disk resource.', default: true, allowNo: true }),
    'disk-watch-interval': Flags.string({ summary: 'Seconds between sandbox disk usage checks.', default: '15', helpValue: 'SECONDS' }),
    'log-level': logLevelFlag,
    'http-port': portFlag({ summary: 'Port of the HTTP server with Prometheus metrics at /metrics (0: any free port; default 5061, skipped with a warning when busy).' }),
    ...serverSecurityFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(AgentCommand);
    warnIfInsecure('the agent', flags.host, flags);
    let masters: string[];
    try {
      masters = parseMasters(flags.master);
      if (flags.resources !== undefined) checkResources(flags.resources);
      if (flags.attributes !== undefined) checkAttributes(flags.attributes);
      if (!(Number(flags['disk-watch-interval']) >= 0.1)) throw new Error(`--disk-watch-interval must be a number of seconds ≥ 0.1, got '${flags['disk-watch-interval']}'`);
    } catch (err) {
      throw new UserError(oneLine(err));
    }
    const workDir = resolve(flags['work-dir']);
    const progress = new Progress();
    progress.update(`registering with ${masters.join(', ')} …`);
    // startAgent resolves once registered and retries meanwhile: say why nothing happens.
    const slow = setTimeout(() => {
      progress.clear();
      process.stderr.write(`agora: still waiting to register with ${masters.join(', ')} (is the master running?)\n`);
    }, 5_000);
    const signal = waitForSignal();
    const started = startAgent({
      master: masters.length === 1 ? (masters[0] as string) : masters,
      host: flags.host,
      port: flags.port,
      workDir,
      resources: flags.resources,
      attributes: flags.attributes,
      hostname: flags.hostname,
      logger: createLogger('agent', flags['log-level']),
      ...(flags['http-port'] !== undefined ? { httpPort: flags['http-port'] } : {}),
      isolation: flags.isolation as 'auto' | 'cgroups' | 'rlimits' | 'none',
      dynamicUsers: flags['dynamic-users'],
      dynamicUidRange: flags['dynamic-uid-range'],
      taskPidsMax: flags['task-pids-max'],
      ...(flags['allow-root-tasks'] ? { allowUser: () => true } : {}),
      enforceDiskQuota: flags['enforce-disk-quota'],
      diskWatchIntervalSeconds: Number(flags['disk-watch-interval']),
      ...agentSecurityOptions(flags),
    });
    const first = await Promise.race([started, signal]);
    clearTimeout(slow);
    progress.clear();
    if (typeof first === 'string') {
      process.stderr.write(`agora: ${first} before the agent registered; exiting\n`);
      this.exit(130);
    }
    const agent = first as AgentHandle;
    process.stdout.write(`agent listening on ${agent.address}${agent.agentId ? ` (${agent.agentId})` : ''}\nwork dir ${workDir}\n`);
    if (agent.httpAddress) process.stdout.write(`agent metrics on http://${agent.httpAddress}/metrics\n`);
    const sig = await signal;
    process.stderr.write(`agora: ${sig}, stopping the agent (its tasks are killed)\n`);
    await agent.stop();
    exitSoonIfStuck();
  }
}

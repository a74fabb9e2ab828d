import { Flags } from '@oclif/core';
import { join, resolve } from 'node:path';
import { DEFAULTS, createLogger, isLoopbackHost } from '@agora/core';
import { BaseCommand } from '../base-command.js';
import { UserError, oneLine } from '../errors.js';
import { checkResources, logLevelFlag, portFlag } from '../flags.js';
import { startAgent, startMaster, type AgentHandle, type MasterHandle } from '../peers.js';
import { allocatorFlags, allocatorOptions } from '../allocator-flags.js';
import { failureFlags, failureOptions } from '../failure-flags.js';
import { exitSoonIfStuck, waitForSignal } from '../wait-signal.js';
import { adoptLocalCredential, agentSecurityOptions, warnIfInsecure, masterPolicyFlags, masterSecurityOptions, serverSecurityFlags } from '../security-flags.js';

export default class LocalCommand extends BaseCommand {
  static override summary = 'Run a master and one agent in this process (a cluster on one machine).';
  static override description = 'The registry and the sandboxes live in WORK-DIR. Prints the endpoints as "master listening on HOST:PORT" and "agent listening on HOST:PORT" lines (use --port 0 / --agent-port 0 for free ports), then runs until Ctrl-C / SIGTERM.';
  static override examples = ['<%= config.bin %> local', '<%= config.bin %> local --work-dir /tmp/agora --port 0 --agent-port 0 --resources "cpus:2;mem:2048"'];

  static override flags = {
    host: Flags.string({ summary: 'Address to bind and advertise.', default: DEFAULTS.bindHost }),
    port: portFlag({ summary: 'Master gRPC port (0: any free port).', default: DEFAULTS.masterPort }),
    'http-port': portFlag({ summary: 'Master HTTP port: operator API and web UI (0: any free port).', default: 5051, env: 'AGORA_HTTP_PORT' }),
    'agent-port': portFlag({ summary: 'Agent gRPC port (0: any free port).', default: DEFAULTS.agentPort }),
    'agent-http-port': portFlag({ summary: "Agent's /metrics HTTP port (0: any free port; default 5061, skipped with a warning when busy)." }),
    resources: Flags.string({ summary: "Agent resources instead of the measured ones.", helpValue: '"cpus:4;mem:8192;disk:20000;ports:[31000-32000]"' }),
    attributes: Flags.string({ summary: 'Agent attributes.', helpValue: '"rack:r1"' }),
    'work-dir': Flags.string({ summary: 'Directory of the registry and the sandboxes.', default: DEFAULTS.workDir }),
    ...allocatorFlags,
    ...failureFlags,
    'log-level': logLevelFlag,
    apps: Flags.boolean({ summary: 'Start the long-running services framework (REST API) too.', default: true, allowNo: true }),
    'apps-port': portFlag({ summary: 'Long-running framework REST API port (0: any free port).', default: 8080 }),
    cron: Flags.boolean({ summary: 'Start the cron (recurring jobs) framework (REST API) too.', default: true, allowNo: true }),
    'cron-port': portFlag({ summary: 'Cron framework REST API port (0: any free port).', default: 4400 }),
    ...serverSecurityFlags, ...masterPolicyFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(LocalCommand);
    warnIfInsecure('agora local', flags.host, flags);
    let own;
    try {
      if (flags.resources !== undefined) checkResources(flags.resources);
      own = adoptLocalCredential(flags);
    } catch (err) {
      throw new UserError(oneLine(err));
    }
    const workDir = resolve(flags['work-dir']);
    const level = flags['log-level'] ?? 'warn';
    let master: MasterHandle | undefined;
    let agent: AgentHandle | undefined;
    let apps: { stop(): Promise<void> } | undefined;
    let cron: { stop(): Promise<void> } | undefined;
    let stopping: Promise<NodeJS.Signals> | undefined;
    try {
      // Listen for signals from the start: Ctrl-C while starting still stops cleanly.
      stopping = waitForSignal();
      master = await startMaster({ host: flags.host, port: flags.port, httpPort: flags['http-port'], workDir: join(workDir, 'master'), logger: createLogger('master', level), ...allocatorOptions(flags), ...failureOptions(flags), ...masterSecurityOptions(flags) });
      process.stdout.write(`master listening on ${master.address}\n`);
      process.stdout.write(`web ui on ${master.httpsServed ? 'https' : 'http'}://${master.httpAddress}/\n`);
      agent = await startAgent({
        master: master.address,
        host: flags.host,
        port: flags['agent-port'],
        workDir: join(workDir, 'agent'),
        resources: flags.resources,
        attributes: flags.attributes,
        logger: createLogger('agent', level),
        ...(flags['agent-http-port'] !== undefined ? { httpPort: flags['agent-http-port'] } : {}),
        ...agentSecurityOptions(flags, own),
      });
      process.stdout.write(`agent listening on ${agent.address}${agent.agentId ? ` (${agent.agentId})` : ''}\n`);
      if (agent.httpAddress) process.stdout.write(`agent metrics on http://${agent.httpAddress}/metrics\n`);
      process.stdout.write(`work dir ${workDir}\n`);
      // The REST APIs have no authentication of their own: they leave loopback only with --insecure.
      const apiHost = flags.insecure || isLoopbackHost(flags.host) ? flags.host : DEFAULTS.bindHost;
      if (apiHost !== flags.host && (flags.apps || flags.cron)) process.stderr.write(`agora: the frameworks' REST APIs stay on ${apiHost} (they have no authentication; --insecure exposes them on ${flags.host})\n`);
      if (flags.apps) {
        const { startLongRunning } = await import('@agora/long-running');
        const lr = await startLongRunning({ master: master.address, workDir: join(workDir, 'long-running'), host: apiHost, port: flags['apps-port'], logger: createLogger('long-running', level) });
        apps = lr;
        process.stdout.write(`long-running api listening on ${lr.address}\n`);
      }
      if (flags.cron) {
        const { startCron } = await import('@agora/cron');
        const c = await startCron({ master: master.address, workDir: join(workDir, 'cron'), host: apiHost, port: flags['cron-port'], logger: createLogger('cron', level) });
        cron = c;
        process.stdout.write(`cron api listening on ${c.address}\n`);
      }
      const masterFlag = master.address === `${DEFAULTS.bindHost}:${DEFAULTS.masterPort}` ? '' : ` --master ${master.address}`;
      process.stdout.write(`\nRun a task:   ${this.config.bin} task run --name hello --cpus 0.1 --mem 32${masterFlag} -- echo hello\nSee state:    ${this.config.bin} state${masterFlag}\nStop:         Ctrl-C\n`);
      const sig = await stopping;
      process.stderr.write(`agora: ${sig}, stopping the agent and the master\n`);
    } finally {
      await cron?.stop().catch((err) => process.stderr.write(`agora: stopping the cron framework: ${oneLine(err)}\n`));
      await apps?.stop().catch((err) => process.stderr.write(`agora: stopping the long-running framework: ${oneLine(err)}\n`));
      await agent?.stop().catch((err) => process.stderr.write(`agora: stopping the agent: ${oneLine(err)}\n`));
      await master?.stop().catch((err) => process.stderr.write(`agora: stopping the master: ${oneLine(err)}\n`));
      exitSoonIfStuck(process.exitCode === undefined ? 0 : Number(process.exitCode));
    }
  }
}

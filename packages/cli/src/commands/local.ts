import { Flags } from '@oclif/core';
import { join, resolve } from 'node:path';
import { DEFAULTS, createLogger } from '@agora/core';
import { BaseCommand } from '../base-command.js';
import { UserError, oneLine } from '../errors.js';
import { checkResources, logLevelFlag, portFlag } from '../flags.js';
import { startAgent, startMaster, type AgentHandle, type MasterHandle } from '../peers.js';
import { allocatorFlags, allocatorOptions } from '../allocator-flags.js';
import { exitSoonIfStuck, waitForSignal } from '../wait-signal.js';

export default class LocalCommand extends BaseCommand {
  static override summary = 'Run a master and one agent in this process (a cluster on one machine).';
  static override description = 'The registry and the sandboxes live in WORK-DIR. Prints the endpoints as "master listening on HOST:PORT" and "agent listening on HOST:PORT" lines (use --port 0 / --agent-port 0 for free ports), then runs until Ctrl-C / SIGTERM.';
  static override examples = ['<%= config.bin %> local', '<%= config.bin %> local --work-dir /tmp/agora --port 0 --agent-port 0 --resources "cpus:2;mem:2048"'];

  static override flags = {
    host: Flags.string({ summary: 'Address to bind and advertise.', default: DEFAULTS.bindHost }),
    port: portFlag({ summary: 'Master gRPC port (0: any free port).', default: DEFAULTS.masterPort }),
    'agent-port': portFlag({ summary: 'Agent gRPC port (0: any free port).', default: DEFAULTS.agentPort }),
    resources: Flags.string({ summary: "Agent resources instead of the measured ones.", helpValue: '"cpus:4;mem:8192;disk:20000;ports:[31000-32000]"' }),
    attributes: Flags.string({ summary: 'Agent attributes.', helpValue: '"rack:r1"' }),
    'work-dir': Flags.string({ summary: 'Directory of the registry and the sandboxes.', default: DEFAULTS.workDir }),
    ...allocatorFlags,
    'log-level': logLevelFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(LocalCommand);
    try {
      if (flags.resources !== undefined) checkResources(flags.resources);
    } catch (err) {
      throw new UserError(oneLine(err));
    }
    const workDir = resolve(flags['work-dir']);
    const level = flags['log-level'] ?? 'warn';
    let master: MasterHandle | undefined;
    let agent: AgentHandle | undefined;
    let stopping: Promise<NodeJS.Signals> | undefined;
    try {
      // Listen for signals from the start: Ctrl-C while starting still stops cleanly.
      stopping = waitForSignal();
      master = await startMaster({ host: flags.host, port: flags.port, workDir: join(workDir, 'master'), logger: createLogger('master', level), ...allocatorOptions(flags) });
      process.stdout.write(`master listening on ${master.address}\n`);
      agent = await startAgent({
        master: master.address,
        host: flags.host,
        port: flags['agent-port'],
        workDir: join(workDir, 'agent'),
        resources: flags.resources,
        attributes: flags.attributes,
        logger: createLogger('agent', level),
      });
      process.stdout.write(`agent listening on ${agent.address}${agent.agentId ? ` (${agent.agentId})` : ''}\n`);
      process.stdout.write(`work dir ${workDir}\n`);
      const masterFlag = master.address === `${DEFAULTS.bindHost}:${DEFAULTS.masterPort}` ? '' : ` --master ${master.address}`;
      process.stdout.write(`\nRun a task:   ${this.config.bin} task run --name hello --cpus 0.1 --mem 32${masterFlag} -- echo hello\nSee state:    ${this.config.bin} state${masterFlag}\nStop:         Ctrl-C\n`);
      const sig = await stopping;
      process.stderr.write(`agora: ${sig}, stopping the agent and the master\n`);
    } finally {
      await agent?.stop().catch((err) => process.stderr.write(`agora: stopping the agent: ${oneLine(err)}\n`));
      await master?.stop().catch((err) => process.stderr.write(`agora: stopping the master: ${oneLine(err)}\n`));
      exitSoonIfStuck(process.exitCode === undefined ? 0 : Number(process.exitCode));
    }
  }
}

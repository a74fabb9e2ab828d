import { Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { DEFAULTS, createLogger } from '@agora/core';
import { BaseCommand } from '../base-command.js';
import { logLevelFlag, portFlag } from '../flags.js';
import { startMaster } from '../peers.js';
import { exitSoonIfStuck, waitForSignal } from '../wait-signal.js';

export default class MasterCommand extends BaseCommand {
  static override summary = 'Run a master until Ctrl-C / SIGTERM.';
  static override description = 'The master pools the resources of its agents and offers them to frameworks. Its registry lives in WORK-DIR/registry, so a restarted master remembers agents and frameworks.';
  static override examples = ['<%= config.bin %> master --port 5050 --work-dir ./.agora/master'];

  static override flags = {
    host: Flags.string({ summary: 'Address to bind and advertise.', default: DEFAULTS.bindHost }),
    port: portFlag({ summary: 'gRPC port (0: any free port).', default: DEFAULTS.masterPort }),
    'work-dir': Flags.string({ summary: 'Directory of the registry.', default: './.agora/master' }),
    'log-level': logLevelFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(MasterCommand);
    const workDir = resolve(flags['work-dir']);
    const master = await startMaster({ host: flags.host, port: flags.port, workDir, logger: createLogger('master', flags['log-level']) });
    process.stdout.write(`master listening on ${master.address}\nwork dir ${workDir}\n`);
    const sig = await waitForSignal();
    process.stderr.write(`agora: ${sig}, stopping the master\n`);
    await master.stop();
    exitSoonIfStuck();
  }
}

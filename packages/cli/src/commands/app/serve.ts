import { Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { DEFAULTS, createLogger } from '@agora/core';
import { BaseCommand } from '../../base-command.js';
import { UserError, oneLine } from '../../errors.js';
import { logLevelFlag, masterFlag, parseMasters, portFlag } from '../../flags.js';
import { exitSoonIfStuck, waitForSignal } from '../../wait-signal.js';

export default class AppServeCommand extends BaseCommand {
  static override summary = 'Run the long-running services framework (scheduler + REST API) against a master.';
  static override description = 'State (apps, versions, deployments, instances) lives in WORK-DIR; a restart re-subscribes with the stored framework ID, reconciles its tasks and carries on with the deployments. Prints "long-running api listening on HOST:PORT". Ctrl-C / SIGTERM disconnect without killing the tasks.';
  static override examples = ['<%= config.bin %> app serve', '<%= config.bin %> app serve --master 10.0.0.1:5050 --port 0 --work-dir /var/lib/agora/apps'];
  static override flags = {
    master: masterFlag,
    host: Flags.string({ summary: 'Address the REST API binds.', default: DEFAULTS.bindHost }),
    port: portFlag({ summary: 'REST API port (0: any free port).', default: 8080 }),
    'work-dir': Flags.string({ summary: 'Directory of the framework state.', default: `${DEFAULTS.workDir}/long-running` }),
    role: Flags.string({ summary: 'Roles to subscribe with (apps pick one); repeatable.', multiple: true }),
    'step-timeout': Flags.integer({ summary: 'Seconds without progress after which a deployment is reported stalled.', default: 300, min: 1 }),
    'log-level': logLevelFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(AppServeCommand);
    let masters: string[];
    try { masters = parseMasters(flags.master); } catch (err) { throw new UserError(oneLine(err)); }
    const { startLongRunning } = await import('@agora/long-running');
    const stopping = waitForSignal();
    let lr;
    try {
      lr = await startLongRunning({
        master: masters, workDir: resolve(flags['work-dir']), host: flags.host, port: flags.port,
        ...(flags.role?.length ? { roles: flags.role } : {}),
        deploymentStepTimeoutSeconds: flags['step-timeout'],
        logger: createLogger('long-running', flags['log-level'] ?? 'warn'),
      });
    } catch (err) {
      throw new UserError(`could not start the long-running framework: ${oneLine(err)}`);
    }
    process.stdout.write(`long-running api listening on ${lr.address}\n`);
    process.stdout.write(`framework id ${lr.service.id ?? '?'}\n`);
    const sig = await stopping;
    process.stderr.write(`agora: ${sig}, disconnecting (the apps keep running)\n`);
    await lr.stop().catch((err) => process.stderr.write(`agora: stopping: ${oneLine(err)}\n`));
    exitSoonIfStuck(0);
  }
}

import { Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { DEFAULTS, createLogger } from '@agora/core';
import { BaseCommand } from '../base-command.js';
import { logLevelFlag, portFlag } from '../flags.js';
import { startMaster } from '../peers.js';
import { allocatorFlags, allocatorOptions } from '../allocator-flags.js';
import { failureFlags, failureOptions } from '../failure-flags.js';
import { exitSoonIfStuck, waitForSignal } from '../wait-signal.js';
import { warnIfInsecure, masterPolicyFlags, masterSecurityOptions, serverSecurityFlags } from '../security-flags.js';

export default class MasterCommand extends BaseCommand {
  static override summary = 'Run a master until Ctrl-C / SIGTERM.';
  static override description = 'The master pools the resources of its agents and offers them to frameworks. Its registry lives in WORK-DIR/registry, so a restarted master remembers agents and frameworks.';
  static override examples = [
    '<%= config.bin %> master --port 5050 --work-dir ./.agora/master',
    '<%= config.bin %> master --port 5050 --etcd http://127.0.0.1:2379   # one of several candidates (high availability)',
  ];

  static override flags = {
    host: Flags.string({ summary: 'Address to bind and advertise.', default: DEFAULTS.bindHost }),
    port: portFlag({ summary: 'gRPC port (0: any free port).', default: DEFAULTS.masterPort }),
    'http-port': portFlag({ summary: 'HTTP port of the operator API and web UI (0: any free port).', default: 5051, env: 'AGORA_HTTP_PORT' }),
    'work-dir': Flags.string({ summary: 'Directory of the registry.', default: './.agora/master' }),
    etcd: Flags.string({ summary: 'High availability: etcd endpoint(s) URL[,URL]; this master becomes one candidate for leadership and keeps its registry in etcd.', env: 'AGORA_ETCD', helpValue: 'http://HOST:PORT' }),
    'etcd-ttl': Flags.integer({ summary: 'Leader lease TTL in seconds (with --etcd): a dead leader is replaced within about this long.', default: 5, min: 2 }),
    ...allocatorFlags,
    ...failureFlags,
    'etcd-prefix': Flags.string({ summary: 'Prefix of the keys this cluster uses in etcd (several clusters can share one etcd).', default: '/agora/' }),
    'etcd-fast-failover': Flags.boolean({ summary: 'Standbys watch the leader\'s port and take over at once when its process is gone (connection refused), instead of waiting for the lease TTL.', default: true, allowNo: true }),
    'log-level': logLevelFlag,
    ...serverSecurityFlags, ...masterPolicyFlags,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(MasterCommand);
    warnIfInsecure('the master', flags.host, flags);
    const workDir = resolve(flags['work-dir']);
    const etcd = flags.etcd?.split(',').map((e) => e.trim()).filter(Boolean);
    // A deposed master never serves again; exiting non-zero lets a supervisor start a fresh
    // candidate (as Mesos masters do) instead of us resetting every book in place.
    let lost: (reason: string) => void = () => undefined;
    const leadershipLost = new Promise<string>((resolve) => { lost = resolve; });
    const master = await startMaster({
      host: flags.host, port: flags.port, httpPort: flags['http-port'], workDir, logger: createLogger('master', flags['log-level']),
      ...allocatorOptions(flags), ...failureOptions(flags), ...masterSecurityOptions(flags),
      ...(etcd?.length ? { etcd, etcdTtlSeconds: flags['etcd-ttl'], etcdPrefix: flags['etcd-prefix'], etcdFastFailover: flags['etcd-fast-failover'], onLeadershipLost: (reason: string) => lost(reason) } : {}),
    });
    if (etcd?.length) process.stdout.write(`master listening on ${master.address} (candidate for leadership; etcd ${etcd.join(',')})\n`);
    else process.stdout.write(`master listening on ${master.address}\nwork dir ${workDir}\n`);
    process.stdout.write(`web ui on ${master.httpsServed ? 'https' : 'http'}://${master.httpAddress}/\n`);
    const sig = await Promise.race([waitForSignal(), leadershipLost.then((reason) => ({ lost: reason }))]);
    if (typeof sig === 'object') {
      process.stderr.write(`agora: this master lost leadership (${sig.lost}); exiting so a supervisor restarts it\n`);
      await Promise.race([master.stop(), new Promise((r) => setTimeout(r, 2_000))]);
      process.exit(3);
    }
    process.stderr.write(`agora: ${sig}, stopping the master\n`);
    await master.stop();
    exitSoonIfStuck();
  }
}

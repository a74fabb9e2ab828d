import { Args, Flags } from '@oclif/core';
import { resolve } from 'node:path';
import { BaseCommand } from '../../base-command.js';
import { UserError, oneLine } from '../../errors.js';
import { createClusterCerts } from '../../cluster-certs.js';

export default class CertsInitCommand extends BaseCommand {
  static override summary = 'Create a cluster CA and certificates (with openssl) for a test or small cluster.';
  static override description = 'Writes DIR/ca.crt + ca.key (reused if present) and, per principal, NAME.crt + NAME.key signed by the CA (subject CN = NAME; valid for 127.0.0.1, ::1, localhost, this host and every --host; usable to serve and as a client certificate). --secrets also writes DIR/credentials.json and NAME.secret for secret-based authentication.';
  static override examples = [
    '<%= config.bin %> certs init ./certs --name master --name agent --name web',
    '<%= config.bin %> master --tls-cert certs/master.crt --tls-key certs/master.key --tls-ca certs/ca.crt --tls-required --authenticate',
    '<%= config.bin %> agent --tls-cert certs/agent.crt --tls-key certs/agent.key --tls-ca certs/ca.crt',
  ];
  static override args = { dir: Args.string({ description: 'Directory to write the CA and certificates to.', required: true }) };
  static override flags = {
    name: Flags.string({ summary: 'A principal to make a certificate for (repeatable): its CN.', multiple: true, default: ['master', 'agent', 'operator'] }),
    host: Flags.string({ summary: 'Extra address or DNS name the certificates are valid for (repeatable).', multiple: true }),
    days: Flags.integer({ summary: 'Validity of the certificates in days.', default: 825, min: 1 }),
    secrets: Flags.boolean({ summary: 'Also write credentials.json and NAME.secret (random secrets).', default: false }),
    force: Flags.boolean({ summary: 'Replace an existing CA in DIR (certificates signed by the old one stop working).', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(CertsInitCommand);
    const dir = resolve(args.dir);
    let result;
    try {
      result = createClusterCerts(dir, { principals: flags.name, hosts: flags.host ?? [], days: flags.days, secrets: flags.secrets, force: flags.force });
    } catch (err) {
      throw new UserError(oneLine(err));
    }
    process.stdout.write(`CA          ${result.ca}\n`);
    for (const c of result.certs) process.stdout.write(`${c.principal.padEnd(11)} ${c.cert} ${c.key}${c.secret ? ` ${c.secret}` : ''}\n`);
    if (result.credentials) process.stdout.write(`credentials ${result.credentials}\n`);
  }
}

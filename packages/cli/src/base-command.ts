/**
 * The base of every `agora` command: one-line errors (never a stack trace), the operator
 * client with a short deadline, and JSON/terminal output helpers.
 */
import { Command, type Interfaces } from '@oclif/core';
import { OperatorClient } from '@agora/core';
import { UserError, oneLine, peerError } from './errors.js';
import { parseMasters } from './flags.js';
import { applyClientSecurity, clientSecurityFlags } from './security-flags.js';

/** How long a CLI call to the master may take before we call it unreachable. */
export const MASTER_DEADLINE_MS = 3_000;

type CaughtError = Error & { oclif?: { exit?: number }; code?: string; parse?: unknown; skipOclifErrorHandling?: boolean };

export abstract class BaseCommand extends Command {
  /** Every command reaches the cluster through TLS and credentials when told to. */
  static override baseFlags = clientSecurityFlags;

  /**
   * Parses as oclif does, then makes the security flags the default of every client this
   * process creates (operator calls, schedulers, sandbox reads, embedded frameworks).
   */
  protected override async parse<F extends Interfaces.OutputFlags<any>, B extends Interfaces.OutputFlags<any>, A extends Interfaces.OutputArgs<any>>(
    options?: Interfaces.Input<F, B, A>, argv?: string[],
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const out = await super.parse(options, argv);
    try {
      applyClientSecurity(out.flags as Record<string, string | undefined>);
    } catch (err) {
      throw new UserError(oneLine(err));
    }
    return out;
  }

  /**
   * Prints `agora: <one line>` on stderr and exits non-zero. oclif's default would print a
   * boxed message or, for unexpected errors, a stack trace.
   */
  protected override async catch(err: CaughtError): Promise<unknown> {
    // this.exit() throws an ExitError: that is a deliberate exit, not a failure.
    if (err?.code === 'EEXIT') throw err;
    const exitCode = err instanceof UserError ? err.exitCode : (err?.oclif?.exit ?? 1);
    process.stderr.write(`agora: ${oneLine(err)}\n`);
    // A parse error (unknown flag, bad value, missing argument) gets a pointer to the help.
    if (err && typeof err === 'object' && 'parse' in err) process.stderr.write(`See 'agora ${(this.id ?? '').replaceAll(':', ' ')} --help'.\n`);
    return this.exit(exitCode === 0 ? 1 : exitCode);
  }

  /**
   * Runs `fn` against the operator API of the first master in `masterList` that answers.
   * Unreachable masters become one clear UserError.
   */
  protected async withOperator<T>(masterList: string, fn: (client: OperatorClient, address: string) => Promise<T>): Promise<T> {
    let masters: string[];
    try {
      masters = parseMasters(masterList);
    } catch (err) {
      throw new UserError(oneLine(err));
    }
    let last: UserError | undefined;
    for (const address of masters) {
      const client = new OperatorClient(address, MASTER_DEADLINE_MS);
      try {
        return await fn(client, address);
      } catch (err) {
        last = peerError(err, 'master', address, MASTER_DEADLINE_MS);
      } finally {
        client.close();
      }
    }
    throw last ?? new UserError('no master to ask');
  }

  /** Prints a value as pretty JSON on stdout. */
  protected printJson(value: unknown): void {
    process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }
}

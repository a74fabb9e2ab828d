/**
 * Waiting for Ctrl-C / SIGTERM in the long-running commands.
 */

/**
 * Resolves with the first SIGINT or SIGTERM. A second signal while the caller is still shutting
 * down exits at once with 130, so a stuck shutdown can always be cut short.
 */
export function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let seen = false;
    const on = (sig: NodeJS.Signals): void => {
      if (seen) {
        process.stderr.write(`agora: ${sig} again, exiting now\n`);
        process.exit(130);
      }
      seen = true;
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

/**
 * After a clean stop, a stray handle (a gRPC channel's reconnect timer, a child's pipe) must
 * not keep the command alive: exit after `ms` if the event loop has not drained by then.
 */
export function exitSoonIfStuck(code = 0, ms = 2_000): void {
  setTimeout(() => process.exit(code), ms).unref();
}

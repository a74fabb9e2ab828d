/**
 * The cron framework as its own process:
 *   node dist/main.js --master 127.0.0.1:5050 --work-dir ./.agora/cron [--host 127.0.0.1] [--port 4400]
 *     [--missed-after-ms 5000] [--launch-ahead-ms 2000] [--executor-cpus 0.25] [--executor-mem 128]
 * Prints `cron api listening on HOST:PORT` once the API serves and the framework is subscribed.
 * SIGINT/SIGTERM disconnect without TEARDOWN: tasks keep running and the next start takes over.
 */
import { parseArgs } from 'node:util';
import { createLogger } from '@agora/sdk';
import { startCron, DEFAULT_CRON_PORT } from './index.js';

let parsed: ReturnType<typeof parseFlags>;
try {
  parsed = parseFlags();
} catch (e) {
  process.stderr.write(`cron: ${(e as Error).message}\n`);
  process.exit(2);
}
const { values } = parsed;

/** The flags, parsed strictly (an unknown flag is an error, not ignored). */
function parseFlags() {
  return parseArgs({
    options: {
      master: { type: 'string', default: process.env.AGORA_MASTER ?? '127.0.0.1:5050' },
      'work-dir': { type: 'string', default: './.agora/cron' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: String(DEFAULT_CRON_PORT) },
      'missed-after-ms': { type: 'string' },
      'launch-ahead-ms': { type: 'string' },
      'executor-cpus': { type: 'string' },
      'executor-mem': { type: 'string' },
    },
  });
}

const level = (process.env.AGORA_LOG_LEVEL ?? 'warn') as Parameters<typeof createLogger>[1];
try {
  const cron = await startCron({
    master: values.master!.split(',').map((s) => s.trim()).filter(Boolean),
    workDir: values['work-dir']!,
    host: values.host,
    port: Number(values.port),
    ...(values['missed-after-ms'] ? { missedAfterMs: Number(values['missed-after-ms']) } : {}),
    ...(values['launch-ahead-ms'] !== undefined ? { launchAheadMs: Number(values['launch-ahead-ms']) } : {}),
    executorResources: {
      ...(values['executor-cpus'] !== undefined ? { cpus: Number(values['executor-cpus']) } : {}),
      ...(values['executor-mem'] !== undefined ? { mem: Number(values['executor-mem']) } : {}),
    },
    logger: createLogger('cron', level),
  });
  process.stdout.write(`cron api listening on ${cron.address}\nframework ${cron.frameworkId}\n`);
  const stop = (sig: string): void => {
    process.stderr.write(`cron: ${sig}, disconnecting (tasks keep running)\n`);
    void cron.stop({ failover: true }).finally(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
} catch (e) {
  process.stderr.write(`cron: ${(e as Error).message}\n`);
  process.exit(1);
}

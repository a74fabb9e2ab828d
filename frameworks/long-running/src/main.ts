/**
 * Runs the framework as its own process without the CLI (tests, containers):
 *   node dist/main.js --master 127.0.0.1:5050 --port 8080 --work-dir ./.agora/long-running
 * Prints "long-running api listening on HOST:PORT"; SIGTERM/SIGINT disconnect with failover
 * (the apps keep running; the next start takes over).
 */
import { parseArgs } from 'node:util';
import { startLongRunning } from './index.js';

const { values } = parseArgs({
  options: {
    master: { type: 'string', default: '127.0.0.1:5050' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8080' },
    'work-dir': { type: 'string', default: './.agora/long-running' },
    'step-timeout': { type: 'string', default: '300' },
  },
});
const lr = await startLongRunning({
  master: values.master!.split(','),
  host: values.host!,
  port: Number(values.port),
  workDir: values['work-dir']!,
  deploymentStepTimeoutSeconds: Number(values['step-timeout']),
});
process.stdout.write(`long-running api listening on ${lr.address}\nframework id ${lr.service.id ?? '?'}\n`);
const stop = (): void => { void lr.stop().finally(() => process.exit(0)); };
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

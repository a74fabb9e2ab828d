/**
 * Structured logs (pino) on stderr: JSON lines by default, so that files and log shippers get
 * one parseable record per line; human-readable (pino-pretty) when stderr is a terminal.
 */
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** The levels a logger accepts, most severe first; `silent` drops everything. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How records are written: one JSON object per line, or coloured text for a person. */
export type LogFormat = 'json' | 'pretty';

/**
 * Chooses the format. AGORA_LOG_FORMAT=json|pretty decides when set (e.g. JSON on a terminal
 * to pipe through jq later); otherwise pretty only when stderr is a terminal, JSON everywhere
 * else (pipes, files, service managers).
 */
export function chooseLogFormat(stderrIsTTY: boolean, env: NodeJS.ProcessEnv = process.env): LogFormat {
  const forced = env.AGORA_LOG_FORMAT?.trim().toLowerCase();
  if (forced === 'json' || forced === 'pretty') return forced;
  return stderrIsTTY ? 'pretty' : 'json';
}

/**
 * The level to use: `level` if given, else AGORA_LOG_LEVEL, else `info`. An unknown level is
 * an Error naming the accepted ones (pino would throw a terse one deep inside).
 */
export function resolveLogLevel(level?: string, env: NodeJS.ProcessEnv = process.env): LogLevel {
  const raw = (level ?? env.AGORA_LOG_LEVEL ?? 'info').trim().toLowerCase() || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) {
    throw new Error(`unknown log level '${raw}'${level === undefined ? ' (from AGORA_LOG_LEVEL)' : ''}; one of ${LOG_LEVELS.join(', ')}`);
  }
  return raw as LogLevel;
}

type PrettyFactory = (options: Record<string, unknown>) => DestinationStream;
let prettyFactory: PrettyFactory | undefined;

/** pino-pretty, loaded on first use only: JSON-only processes never pay for it. */
function prettyStream(): DestinationStream {
  prettyFactory ??= createRequire(import.meta.url)('pino-pretty') as PrettyFactory;
  // In-process and synchronous (no worker thread): the last lines before an exit are not lost.
  return prettyFactory({ destination: 2, sync: true, colorize: !process.env.NO_COLOR, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
}

/**
 * A structured logger on stderr named `name` (the `name` field of every record). Level from
 * `level`, else AGORA_LOG_LEVEL, else `info`; format from {@link chooseLogFormat}.
 */
export function createLogger(name: string, level?: string): Logger {
  const options = { name, level: resolveLogLevel(level), base: { name } };
  if (chooseLogFormat(Boolean(process.stderr.isTTY)) === 'pretty') return pino(options, prettyStream());
  return pino(options, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything, for tests and embedded use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

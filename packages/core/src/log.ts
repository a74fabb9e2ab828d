import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * A structured (JSON) logger on stderr. Level from `level`, else AGORA_LOG_LEVEL, else `info`.
 */
export function createLogger(name: string, level?: string): Logger {
  return pino({ name, level: level ?? process.env.AGORA_LOG_LEVEL ?? 'info', base: { name } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that drops everything, for tests and embedded use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Structured, namespaced logging. Never log a secret or anything that could identify a pupil (D1, S7). */
import { pino } from 'pino';

export interface Logger {
  trace(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export function createLogger(name: string, level: LogLevel = 'info'): Logger {
  return pino({
    name,
    level: level === 'silent' ? 'silent' : (process.env.PHONES_AWAY_LOG_LEVEL ?? level),
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'passwordHash', 'totpSecret'],
      remove: true,
    },
  });
}

/** A logger that drops everything: for tests and benchmarks that measure, not read. */
export const silentLogger: Logger = createLogger('silent', 'silent');

/**
 * Structured, namespaced logging for the hub, the device program and the CLI: one Logger interface, pino behind it.
 * Never log a secret or anything that could identify a pupil (D1, S7).
 */
import { type DestinationStream, pino } from 'pino';
import { stdoutSink } from './log-sink.js';

export interface Logger {
  trace(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * `destination`: where lines go; tests pass a stream to read them. By default standard output through `stdoutSink`,
 * which drops a line it cannot write rather than hold the program (shared/log-sink.ts says why).
 */
export function createLogger(
  name: string,
  level: LogLevel = 'info',
  destination?: DestinationStream,
): Logger {
  const options = {
    name,
    level: level === 'silent' ? 'silent' : (process.env.PHONES_AWAY_LOG_LEVEL ?? level),
    redact: {
      paths: ['password', '*.password', 'token', '*.token', 'passwordHash', 'totpSecret'],
      remove: true,
    },
  };
  return pino(options, destination ?? stdoutSink);
}

/** The three levels the board layer writes: any Logger is one (firmware/board takes this much and no more). */
export type BoardLog = Pick<Logger, 'info' | 'warn' | 'error'>;

/** A logger that drops everything: for tests and benchmarks that measure, not read. */
export const silentLogger: Logger = createLogger('silent', 'silent');

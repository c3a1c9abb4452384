/** The hub's modules import the shared logger from here; firmware and CLI import shared/log.ts directly. */
export { createLogger, type Logger, type LogLevel, silentLogger } from '../shared/log.js';

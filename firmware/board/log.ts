/** The slice of a pino-style logger the board layer uses; pino's Logger satisfies it. */
export interface BoardLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLog: BoardLog = { info() {}, warn() {}, error() {} };

/** A pino-compatible logger: structured fields first, then the message. */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

const noop = (): void => undefined;

/** The default: libraries are silent unless given a logger. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

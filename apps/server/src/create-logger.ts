import pino from 'pino';
import pretty from 'pino-pretty';
import type { LogFormat, LogLevel } from './cli-config.js';

/** Options of {@link createCliLogger}. */
export interface CliLoggerOptions {
  level: LogLevel;
  format: LogFormat;
  /** Colours in the `pretty` format. Default: whether stdout is a terminal. */
  colorize?: boolean;
}

/**
 * The CLI's pino logger, writing to stdout. Both formats write synchronously so that nothing is
 * lost when the process exits right after a log line (shutdown, start failures).
 */
export function createCliLogger(options: CliLoggerOptions): pino.Logger {
  if (options.format === 'json') {
    return pino({ level: options.level, base: { pid: process.pid } }, pino.destination({ dest: 1, sync: true }));
  }
  const stream = pretty({
    destination: 1,
    sync: true,
    colorize: options.colorize ?? Boolean(process.stdout.isTTY),
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    // The engine logs whole listener records; the banner already shows them as a table.
    customPrettifiers: { listener: (value) => (typeof value === 'object' && value !== null && 'name' in value ? String(value.name) : String(value)) },
  });
  return pino({ level: options.level }, stream);
}

import type { Logger } from '@mailwright/core/options';

/** A pino-compatible logger: structured fields first, then the message (defined with the options in core). */
export type { Logger };

const noop = (): void => undefined;

/** The default: libraries are silent unless given a logger. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

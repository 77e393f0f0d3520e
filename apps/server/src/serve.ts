import { ErrorCode, isMailwrightError } from '@mailwright/core';
import { createMailwright, isLoopbackHost, type OptionsProblem, type RunningMailwright } from '@mailwright/server';
import { bannerRecord, formatBanner } from './banner.js';
import { formatProblems, type ServeConfig } from './cli-config.js';
import { createCliLogger } from './create-logger.js';
import { EXIT_FAILURE, EXIT_INVALID_CONFIG, EXIT_OK } from './exit-codes.js';

/** How long a graceful shutdown may take before the process exits anyway. */
export const SHUTDOWN_TIMEOUT_MS = 5_000;

const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Where {@link serve} writes what is not a log line. */
export interface ServeOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * Starts the server, announces it, and resolves with the exit status once it has stopped:
 * 0 after SIGINT/SIGTERM and a clean `close()`, 1 when it cannot start or the shutdown is
 * forced (a second signal, or {@link SHUTDOWN_TIMEOUT_MS} passed).
 */
export async function serve(config: ServeConfig, output: ServeOutput): Promise<number> {
  const logger = createCliLogger({ level: config.logLevel, format: config.logFormat });
  for (const warning of config.warnings) logger.warn({}, warning);

  let finish: (code: number) => void = () => undefined;
  const exitCode = new Promise<number>((resolve) => (finish = resolve));
  let server: RunningMailwright | null = null;
  let signalled = false;

  const shutdown = (running: RunningMailwright): void => {
    running.close().then(
      () => {
        logger.info({}, 'mailwright stopped');
        finish(EXIT_OK);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        finish(EXIT_FAILURE);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn({ signal }, `${signal} received again: exiting without waiting for the shutdown`);
      finish(EXIT_FAILURE);
      return;
    }
    signalled = true;
    logger.info({ signal }, `${signal} received: shutting down`);
    const force = setTimeout(() => {
      logger.error({ timeoutMs: SHUTDOWN_TIMEOUT_MS }, `shutdown did not finish within ${SHUTDOWN_TIMEOUT_MS / 1000} s: exiting anyway`);
      finish(EXIT_FAILURE);
    }, SHUTDOWN_TIMEOUT_MS);
    force.unref();
    // During start-up, the shutdown begins as soon as the server is up.
    if (server) shutdown(server);
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);

  try {
    server = await createMailwright({ ...config.options, logger });
  } catch (error) {
    logger.debug({ err: error }, 'start failed');
    if (isMailwrightError(error) && error.code === ErrorCode.INVALID_OPTIONS) {
      const details = (error.details as OptionsProblem[] | undefined) ?? [];
      output.stderr(
        formatProblems(
          details.map((detail) => ({ source: detail.path || 'options', message: detail.message })),
          'serve',
        ),
      );
      return EXIT_INVALID_CONFIG;
    }
    // A listener that cannot do what it is configured to do is a configuration problem too.
    if (isMailwrightError(error) && error.code === ErrorCode.INVALID_REQUEST) {
      output.stderr(formatProblems([{ source: '--listener', message: error.message }], 'serve'));
      return EXIT_INVALID_CONFIG;
    }
    output.stderr(`mailwright: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
    return EXIT_FAILURE;
  }

  if (server.options.insecureNoToken && server.options.apiToken === undefined && !isLoopbackHost(server.options.host)) {
    logger.warn(
      { host: server.options.host },
      `listening on ${server.options.host} without an API token (--insecure-no-token): anyone who reaches the HTTP port can read and delete every message`,
    );
  }
  const record = bannerRecord(server.info(), {
    dataDir: config.options.dataDir,
    customCertificate: config.options.tlsCert !== undefined,
    webUi: config.options.webRoot !== undefined,
  });
  if (config.logFormat === 'pretty') {
    if (config.logLevel !== 'silent') output.stdout(formatBanner(record));
  } else logger.info(record, 'mailwright ready');

  if (signalled) shutdown(server);
  return exitCode;
}

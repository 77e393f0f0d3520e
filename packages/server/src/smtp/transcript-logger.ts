import type { SMTPServerOptions } from 'smtp-server';
import type { SessionRecorder } from './session-recorder.js';

/**
 * A logger for smtp-server that turns its debug output into transcripts: it logs every
 * command (credentials already redacted) as `C:` and every reply as `S:`, with the
 * connection id. Nothing is written anywhere else.
 */
export function createTranscriptLogger(recorderOf: (connectionId: string) => SessionRecorder | undefined): SMTPServerOptions['logger'] {
  const noop = (): void => undefined;
  const logger = {
    level: 'debug',
    debug(fields: { cid?: string; tnx?: string }, marker: string, line: unknown) {
      if (fields.cid === undefined || (fields.tnx !== 'command' && fields.tnx !== 'send')) return;
      const recorder = recorderOf(fields.cid);
      if (marker === 'C:') recorder?.client(String(line));
      else if (marker === 'S:') recorder?.server(String(line));
    },
    // Connection errors are logged as (fields, '%s %s %s', connectionId, remoteAddress, message);
    // some (a client resetting during STARTTLS) are logged and never emitted.
    error(fields: { err?: unknown; tnx?: string }, _format: string, connectionId?: unknown) {
      if (fields.tnx !== 'error' || typeof connectionId !== 'string') return;
      recorderOf(connectionId)?.connectionError(fields.err);
    },
    trace: noop,
    info: noop,
    warn: noop,
    fatal: noop,
  };
  return logger as unknown as SMTPServerOptions['logger'];
}

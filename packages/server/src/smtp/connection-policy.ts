import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { SessionRecorder } from './session-recorder.js';

type CommandHandler = (command: Buffer, callback: () => void) => void;

/** The command handlers of an smtp-server connection that a policy replaces. */
interface PatchableConnection {
  handler_STARTTLS: CommandHandler;
  handler_AUTH: CommandHandler;
}

/** The reply to MAIL, RCPT and AUTH before STARTTLS under `starttls: 'require'`. */
export const MUST_STARTTLS_REPLY = '5.7.0 Must issue a STARTTLS command first';

/**
 * Applies the parts of a STARTTLS policy smtp-server has no option for:
 * `fail` advertises STARTTLS and answers it with 454; `require` refuses AUTH before
 * STARTTLS at once instead of prompting (334) for a password in plaintext first.
 */
export function applyStarttlsPolicy(connection: SMTPConnection, policy: 'offer' | 'require' | 'off' | 'fail', recorder: SessionRecorder): void {
  const patchable = connection as unknown as PatchableConnection;
  if (policy === 'fail') {
    patchable.handler_STARTTLS = (_command, callback) => {
      connection.send(454, '4.7.0 TLS not available due to temporary reason');
      callback();
    };
  }
  if (policy === 'require') {
    const handleAuth = patchable.handler_AUTH.bind(connection);
    patchable.handler_AUTH = (command, callback) => {
      if (connection.secure) return handleAuth(command, callback);
      // An initial response (AUTH PLAIN <secret>) has been sent in the clear all the same.
      if (command.toString().trim().split(/\s+/).length > 2) recorder.credentialsSent(false);
      connection.send(530, MUST_STARTTLS_REPLY);
      callback();
    };
  }
}

import type { SessionRecorder } from './session-recorder.js';
import type { SmtpConnectionHooks } from './smtp-engine.js';

/** The reply to MAIL, RCPT and AUTH before STARTTLS under `starttls: 'require'`. */
export const MUST_STARTTLS_REPLY = '5.7.0 Must issue a STARTTLS command first';

/**
 * The parts of a STARTTLS policy the engine has no option for, as command interceptors:
 * `fail` advertises STARTTLS and answers it with 454; `require` refuses AUTH before
 * STARTTLS at once instead of prompting (334) for a password in plaintext first.
 */
export function starttlsPolicyInterceptors(policy: 'offer' | 'require' | 'off' | 'fail', recorder: SessionRecorder): SmtpConnectionHooks['intercept'] {
  if (policy === 'fail') {
    return {
      STARTTLS: (_line, connection) => {
        connection.reply(454, '4.7.0 TLS not available due to temporary reason');
        return true;
      },
    };
  }
  if (policy === 'require') {
    return {
      AUTH: (line, connection) => {
        if (connection.secure) return false;
        // An initial response (AUTH PLAIN <secret>) has been sent in the clear all the same.
        if (line.trim().split(/\s+/).length > 2) recorder.credentialsSent(false);
        connection.reply(530, MUST_STARTTLS_REPLY);
        return true;
      },
    };
  }
  return undefined;
}

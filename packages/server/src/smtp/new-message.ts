import { plaintextTlsInfo } from '@mailwright/core';
import type { NewMessage } from '../store/message-store.js';
import type { SessionRecorder } from './session-recorder.js';
import type { SmtpSessionState } from './smtp-engine.js';

/** Shared by every message without tags; frozen so that nobody adds to all of them. */
const NO_TAGS = Object.freeze([]) as unknown as string[];

/** What the store gets for one accepted message: the bytes and how they travelled. */
export function toNewMessage(raw: Buffer, session: SmtpSessionState, recorder: SessionRecorder | undefined, listener: string): NewMessage {
  const { envelope } = session;
  return {
    receivedAt: new Date().toISOString(),
    envelope: {
      mailFrom: envelope.mailFrom?.address ?? '',
      rcptTo: envelope.rcptTo.map((rcpt) => rcpt.address),
      requireTls: envelope.requireTLS,
      smtpUtf8: envelope.smtpUtf8,
      body: envelope.bodyType === '8bitmime' ? '8bitmime' : '7bit',
    },
    size: raw.length,
    // Frozen and shared with the session: the TLS state when the message was accepted.
    tls: recorder ? recorder.session.tls : plaintextTlsInfo(),
    // STARTTLS drops the identity; only a current one counts.
    auth: recorder?.session.auth && session.user !== null ? { ...recorder.session.auth } : null,
    sessionId: session.id,
    listener,
    tags: NO_TAGS,
    raw,
  };
}

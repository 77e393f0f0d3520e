import type { SMTPServerSession } from 'smtp-server';
import { plaintextTlsInfo } from '@mailwright/core';
import type { NewMessage } from '../store/message-store.js';
import type { SessionRecorder } from './session-recorder.js';

/** Shared by every message without tags; frozen so that nobody adds to all of them. */
const NO_TAGS = Object.freeze([]) as unknown as string[];

/** What the store gets for one accepted message: the bytes and how they travelled. */
export function toNewMessage(raw: Buffer, session: SMTPServerSession, recorder: SessionRecorder | undefined, listener: string): NewMessage {
  const { envelope } = session;
  return {
    receivedAt: new Date().toISOString(),
    envelope: {
      mailFrom: envelope.mailFrom === false ? '' : envelope.mailFrom.address,
      rcptTo: envelope.rcptTo.map((rcpt) => rcpt.address),
      requireTls: envelope.requireTLS === true,
      smtpUtf8: envelope.smtpUtf8 === true,
      body: envelope.bodyType === '8bitmime' ? '8bitmime' : '7bit',
    },
    size: raw.length,
    // Frozen and shared with the session: the TLS state when the message was accepted.
    tls: recorder ? recorder.session.tls : plaintextTlsInfo(),
    // smtp-server drops the identity on STARTTLS; only a current one counts.
    auth: recorder?.session.auth && session.user ? { ...recorder.session.auth } : null,
    sessionId: session.id,
    listener,
    tags: NO_TAGS,
    raw,
  };
}

import type { SMTPServerSession } from 'smtp-server';
import { plaintextTlsInfo, type Address } from '@mailwright/core';
import { ownString } from './own-string.js';
import type { MessageSummary } from '../analysis/parse-message.js';
import type { NewMessage } from '../store/message-store.js';
import type { SessionRecorder } from './session-recorder.js';

/** Shared by every message without tags; frozen so that nobody adds to all of them. */
const NO_TAGS = Object.freeze([]) as unknown as string[];

/** What the store gets for one accepted message: the bytes, the summary and how it travelled. */
export function toNewMessage(
  raw: Buffer,
  summary: MessageSummary,
  session: SMTPServerSession,
  recorder: SessionRecorder | undefined,
  listener: string,
): NewMessage {
  const { envelope } = session;
  const { text, ...fields } = summary;
  const address = (entry: Address): Address => ({ name: ownString(entry.name), address: ownString(entry.address) });
  return {
    receivedAt: new Date().toISOString(),
    envelope: {
      mailFrom: envelope.mailFrom === false ? '' : envelope.mailFrom.address,
      rcptTo: envelope.rcptTo.map((rcpt) => rcpt.address),
      requireTls: envelope.requireTLS === true,
      smtpUtf8: envelope.smtpUtf8 === true,
      body: envelope.bodyType === '8bitmime' ? '8bitmime' : '7bit',
    },
    // Stored for as long as the message is: copies that do not pin what they were cut from.
    from: fields.from && address(fields.from),
    to: fields.to.map(address),
    cc: fields.cc.map(address),
    replyTo: fields.replyTo.map(address),
    subject: ownString(fields.subject),
    messageId: fields.messageId === null ? null : ownString(fields.messageId),
    date: fields.date,
    snippet: ownString(fields.snippet),
    attachments: fields.attachments,
    size: raw.length,
    // Frozen and shared with the session: the TLS state when the message was accepted.
    tls: recorder ? recorder.session.tls : plaintextTlsInfo(),
    // smtp-server drops the identity on STARTTLS; only a current one counts.
    auth: recorder?.session.auth && session.user ? { ...recorder.session.auth } : null,
    sessionId: session.id,
    listener,
    tags: NO_TAGS,
    raw,
    text,
  };
}

import { plaintextTlsInfo } from '@mailwright/core';
import type { NewMessage } from '../store/message-store.js';

/** A message as the SMTP side hands it to the store, for tests that fill a store directly. */
export function newMessage(overrides: Partial<NewMessage> = {}): NewMessage {
  return {
    receivedAt: new Date().toISOString(),
    envelope: { mailFrom: 'a@example.test', rcptTo: ['b@example.test'], requireTls: false, smtpUtf8: false, body: '7bit' },
    from: null,
    to: [],
    cc: [],
    replyTo: [],
    subject: '',
    messageId: null,
    date: null,
    size: 1,
    snippet: '',
    attachments: [],
    tls: plaintextTlsInfo(),
    auth: null,
    sessionId: 's',
    listener: 'smtp',
    tags: [],
    raw: Buffer.from('x'),
    text: '',
    ...overrides,
  };
}

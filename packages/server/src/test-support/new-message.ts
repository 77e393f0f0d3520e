import { plaintextTlsInfo } from '@mailwright/core';
import type { MessageSummary } from '../analysis/parse-message.js';
import type { NewMessage } from '../store/message-store.js';

/** What a message says about itself, as `summarize` returns it: empty unless given. */
export function messageSummary(overrides: Partial<MessageSummary> = {}): MessageSummary {
  return { from: null, to: [], cc: [], replyTo: [], subject: '', messageId: null, date: null, snippet: '', attachments: [], text: '', ...overrides };
}

/**
 * A message as the SMTP side hands it to the store, for tests that fill a store directly;
 * with `summary`, as if its bytes had been read already.
 */
export function newMessage(overrides: Partial<Omit<NewMessage, 'summary'>> = {}, summary?: Partial<MessageSummary>): NewMessage {
  return {
    receivedAt: new Date().toISOString(),
    envelope: { mailFrom: 'a@example.test', rcptTo: ['b@example.test'], requireTls: false, smtpUtf8: false, body: '7bit' },
    size: 1,
    tls: plaintextTlsInfo(),
    auth: null,
    sessionId: 's',
    listener: 'smtp',
    tags: [],
    raw: Buffer.from('x'),
    ...overrides,
    ...(summary ? { summary: messageSummary(summary) } : {}),
  };
}

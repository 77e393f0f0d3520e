import { describe, expect, it } from 'vitest';
import { createMemoryStore } from './memory-store.js';
import type { NewMessage } from './message-store.js';
import { newMessage } from '../test-support/new-message.js';

function textMessage(subject: string, text: string): NewMessage {
  return newMessage({ subject, size: text.length, snippet: text.slice(0, 20), raw: Buffer.from(`raw:${text}`), text });
}

describe('the memory store', () => {
  it('assigns increasing seqs and ids that sort by arrival', async () => {
    const store = createMemoryStore({ maxMessages: 100, maxSessions: 10, extractText: async () => '' });
    const stored = [];
    for (let i = 0; i < 50; i++) stored.push(await store.addMessage(textMessage(`m${i}`, 'x')));
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(stored.map((m) => m.id)).toEqual(stored.map((m) => m.id).sort());
    expect(new Set(stored.map((m) => m.id)).size).toBe(50);
  });

  it('matches `text` beyond its cache by deriving the text again from the raw bytes', async () => {
    const extracted: string[] = [];
    const store = createMemoryStore({
      maxMessages: 100,
      maxSessions: 10,
      textCacheBytes: 64, // room for about one text body
      extractText: async (raw) => {
        extracted.push(raw.toString());
        return raw.toString().slice(4);
      },
    });
    await store.addMessage(textMessage('first', 'the token is alpha-123 and more padding'));
    await store.addMessage(textMessage('second', 'the token is beta-456 and more padding'));
    const { messages } = await store.listMessages({ limit: 10, filter: { text: 'alpha-123' } });
    expect(messages.map((m) => m.subject)).toEqual(['first']);
    expect(extracted).toContain('raw:the token is alpha-123 and more padding');
    // Other criteria are checked first: no text is derived for messages they exclude.
    extracted.length = 0;
    await store.listMessages({ limit: 10, filter: { subject: 'nothing matches', text: 'alpha' } });
    expect(extracted).toEqual([]);
    expect((await store.messagesAfter(0, { text: 'beta-456' }, 10)).map((m) => m.subject)).toEqual(['second']);
    expect(await store.deleteMessages({ text: 'beta-456' })).toHaveLength(1);
    expect((await store.listMessages({ limit: 10 })).total).toBe(1);
  });
});

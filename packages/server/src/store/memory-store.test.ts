import { describe, expect, it } from 'vitest';
import type { Authentication } from '@mailwright/core';
import { createMemoryStore, type MemoryStoreOptions } from './memory-store.js';
import { pendingAuthentication } from '../analysis/authentication-jobs.js';
import { messageSummary, newMessage } from '../test-support/new-message.js';

/** A store whose "bytes" are `subject|text`, and the raw values it was asked to read. */
function storeReadingRaw(options: Partial<MemoryStoreOptions> = {}): { store: ReturnType<typeof createMemoryStore>; read: string[] } {
  const read: string[] = [];
  const store = createMemoryStore({
    readPolicy: 'when-followed',
    maxMessages: 100,
    maxSessions: 10,
    // Long enough that no test sees a background read unless it asks for one.
    backgroundReadQuietMs: 60_000,
    async summarize(raw) {
      read.push(raw.toString());
      const [subject = '', text = ''] = raw.toString().split('|');
      return messageSummary({ subject, snippet: text.slice(0, 20), text });
    },
    ...options,
  });
  return { store, read };
}

const bytes = (subject: string, text: string) => newMessage({ raw: Buffer.from(`${subject}|${text}`), size: subject.length + text.length + 1 });

describe('the memory store', () => {
  it('assigns increasing seqs and ids that sort by arrival', async () => {
    const { store } = storeReadingRaw();
    const stored = [];
    for (let i = 0; i < 50; i++) stored.push(await store.addMessage(bytes(`m${i}`, 'x')));
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(stored.map((m) => m.id)).toEqual(stored.map((m) => m.id).sort());
    expect(new Set(stored.map((m) => m.id)).size).toBe(50);
  });

  it('reads a message when it is first asked for while nobody follows the store, and once', async () => {
    const { store, read } = storeReadingRaw();
    const { id } = await store.addMessage(bytes('quiet', 'nobody was listening'));
    expect(read).toEqual([]);
    const [first, again] = await Promise.all([store.getMessage(id), store.getMessage(id)]);
    expect(first).toMatchObject({ id, seq: 1, subject: 'quiet', snippet: 'nobody was listening', size: 26, listener: 'smtp' });
    expect(again).toBe(first);
    expect((await store.listMessages({ limit: 10 })).messages).toEqual([first]);
    expect(read).toEqual(['quiet|nobody was listening']);
  });

  it('reads the messages nobody asked for in the background once mail pauses', async () => {
    const { store, read } = storeReadingRaw({ backgroundReadQuietMs: 50 });
    await store.addMessage(bytes('one', 'a'));
    await store.addMessage(bytes('two', 'b'));
    await expect.poll(() => read, { timeout: 5_000 }).toEqual(['one|a', 'two|b']);
    await store.getMessage((await store.listMessages({ limit: 1 })).messages[0]!.id);
    expect(read).toHaveLength(2);
  });

  it('reads a message before announcing it while the store is followed', async () => {
    const { store, read } = storeReadingRaw();
    const announced: [string, string][] = [];
    store.on('message', (message, subject) => announced.push([message.subject, subject.text ?? '']));
    const following = store.follow();
    await store.addMessage(bytes('heard', 'somebody follows'));
    await store.addMessage(newMessage({ raw: Buffer.from('ignored') }, { subject: 'known', text: 'read already' }));
    following.close();
    expect(announced).toEqual([
      ['heard', 'somebody follows'],
      ['known', 'read already'],
    ]);
    expect(read).toEqual(['heard|somebody follows']);
  });

  describe('read policy', () => {
    /** What a store does with two messages: which it read on arrival, and which it announced. */
    async function arrivals(store: ReturnType<typeof createMemoryStore>, read: string[]) {
      const announced: string[] = [];
      store.on('message', (message) => announced.push(message.subject));
      await store.addMessage(bytes('first', 'a'));
      await store.addMessage(bytes('second', 'b'));
      return { readOnArrival: [...read], announced };
    }

    it("'when-followed': a listener for new messages changes nothing; only follow() makes the store read on arrival", async () => {
      const unheard = storeReadingRaw();
      const unheardReads: string[] = [];
      await unheard.store.addMessage(bytes('first', 'a'));
      await unheard.store.addMessage(bytes('second', 'b'));
      unheardReads.push(...unheard.read);

      const listened = storeReadingRaw();
      const withListener = await arrivals(listened.store, listened.read);
      expect(withListener).toEqual({ readOnArrival: unheardReads, announced: [] });
      expect(withListener.readOnArrival).toEqual([]);

      const followed = storeReadingRaw();
      const following = followed.store.follow();
      expect(await arrivals(followed.store, followed.read)).toEqual({ readOnArrival: ['first|a', 'second|b'], announced: ['first', 'second'] });
      following.close();
      following[Symbol.dispose]();
      await followed.store.addMessage(bytes('third', 'c'));
      expect(followed.read).toEqual(['first|a', 'second|b']);
    });

    it('stays followed while any of several followers is', async () => {
      const { store, read } = storeReadingRaw();
      const one = store.follow();
      const two = store.follow();
      one.close();
      one.close();
      await store.addMessage(bytes('still', 'followed'));
      two.close();
      await store.addMessage(bytes('now', 'not'));
      expect(read).toEqual(['still|followed']);
    });

    it("'on-arrival': every message is read and announced, with or without listeners or followers", async () => {
      const quiet = storeReadingRaw({ readPolicy: 'on-arrival' });
      expect(quiet.store.readPolicy).toBe('on-arrival');
      await quiet.store.addMessage(bytes('alone', 'x'));
      expect(quiet.read).toEqual(['alone|x']);

      const listened = storeReadingRaw({ readPolicy: 'on-arrival' });
      expect(await arrivals(listened.store, listened.read)).toEqual({ readOnArrival: ['first|a', 'second|b'], announced: ['first', 'second'] });

      const followed = storeReadingRaw({ readPolicy: 'on-arrival' });
      followed.store.follow().close();
      expect(await arrivals(followed.store, followed.read)).toEqual({ readOnArrival: ['first|a', 'second|b'], announced: ['first', 'second'] });
    });

    it('answers queries the same whatever the policy and whoever listens', async () => {
      const answers = [];
      for (const readPolicy of ['on-arrival', 'when-followed'] as const) {
        for (const listen of [false, true]) {
          const { store } = storeReadingRaw({ readPolicy });
          if (listen) store.on('message', () => undefined);
          await store.addMessage(bytes('one', 'alpha'));
          await store.addMessage(bytes('two', 'beta'));
          const { messages, total } = await store.listMessages({ limit: 10, filter: { text: 'beta' } });
          answers.push({ total, found: messages.map(({ subject, snippet, seq }) => ({ subject, snippet, seq })) });
        }
      }
      expect(answers[0]).toEqual({ total: 1, found: [{ subject: 'two', snippet: 'beta', seq: 2 }] });
      for (const answer of answers) expect(answer).toEqual(answers[0]);
    });
  });

  it('counts without reading, and reads only the page it returns', async () => {
    const { store, read } = storeReadingRaw();
    for (let i = 0; i < 20; i++) await store.addMessage(bytes(`m${i}`, 'x'));
    const { messages, total } = await store.listMessages({ limit: 3 });
    expect(total).toBe(20);
    expect(messages.map((m) => m.subject)).toEqual(['m19', 'm18', 'm17']);
    expect(read).toHaveLength(3);
  });

  it('returns no message deleted while it was being read', async () => {
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const { store } = storeReadingRaw({
      summarize: async (raw) => {
        await gate;
        return messageSummary({ subject: raw.toString() });
      },
    });
    const doomed = await store.addMessage(bytes('doomed', 'x'));
    await store.addMessage(bytes('kept 1', 'x'));
    await store.addMessage(bytes('kept 2', 'x'));
    const replay = store.messagesAfter(0, undefined, 2);
    const page = store.listMessages({ limit: 10, filter: { subject: 'doomed' } });
    const deletions = store.deleteMessages({ subject: 'doomed' });
    expect(await store.deleteMessage(doomed.id)).toBe(true);
    open();
    // A replay batch stays full: the next message makes up for the deleted one.
    expect((await replay).map((m) => m.subject)).toEqual(['kept 1|x', 'kept 2|x']);
    expect((await page).messages).toEqual([]);
    // Deleted by someone else meanwhile: not reported twice.
    expect(await deletions).toEqual([]);
  });

  it('reads a message again after a read that failed', async () => {
    let failures = 1;
    const { store } = storeReadingRaw({
      summarize: async (raw) => {
        if (failures-- > 0) throw new Error('disk on fire');
        return messageSummary({ subject: raw.toString() });
      },
    });
    const { id } = await store.addMessage(bytes('second try', 'x'));
    await expect(store.getMessage(id)).rejects.toThrow('disk on fire');
    expect(await store.getMessage(id)).toMatchObject({ id, subject: 'second try|x' });
  });

  it('matches `text` beyond its cache by reading the raw bytes again', async () => {
    const { store, read } = storeReadingRaw({ textCacheBytes: 64 }); // room for about one text body
    await store.addMessage(bytes('first', 'the token is alpha-123 and more padding'));
    await store.addMessage(bytes('second', 'the token is beta-456 and more padding'));
    const { messages } = await store.listMessages({ limit: 10, filter: { text: 'alpha-123' } });
    expect(messages.map((m) => m.subject)).toEqual(['first']);
    expect(read).toContain('first|the token is alpha-123 and more padding');
    // Other criteria are checked first: no text is derived for messages they exclude.
    read.length = 0;
    await store.listMessages({ limit: 10, filter: { subject: 'nothing matches', text: 'alpha' } });
    expect(read).toEqual([]);
    expect((await store.messagesAfter(0, { text: 'beta-456' }, 10)).map((m) => m.subject)).toEqual(['second']);
    expect(await store.deleteMessages({ text: 'beta-456' })).toHaveLength(1);
    expect((await store.listMessages({ limit: 10 })).total).toBe(1);
  });
});

describe('authentication records', () => {
  it('gives each message its own record back, computedAt included, where records differ only in it', async () => {
    const { store } = storeReadingRaw();
    const first = await store.addMessage(bytes('one', 'a'));
    const second = await store.addMessage(bytes('two', 'b'));
    const record = (computedAt: string | null, reason: string): Authentication => ({
      ...pendingAuthentication(),
      status: 'done',
      spf: { ...pendingAuthentication().spf, reason },
      computedAt,
    });
    await store.setAuthentication(first.id, record('2026-01-01T00:00:00.000Z', 'same'));
    await store.setAuthentication(second.id, record('2026-01-01T00:00:01.500Z', 'same'));
    expect(await store.getAuthentication(first.id)).toEqual(record('2026-01-01T00:00:00.000Z', 'same'));
    expect(await store.getAuthentication(second.id)).toEqual(record('2026-01-01T00:00:01.500Z', 'same'));
    // The key order of the record is kept (its JSON is what the API serves).
    expect(Object.keys((await store.getAuthentication(second.id))!)).toEqual(Object.keys(record(null, 'same')));
    await store.setAuthentication(second.id, record(null, 'other'));
    expect(await store.getAuthentication(second.id)).toEqual(record(null, 'other'));
    expect(await store.getAuthentication(first.id)).toEqual(record('2026-01-01T00:00:00.000Z', 'same'));
  });
});

describe('filter scans', () => {
  it('give the event loop a turn during a long scan, even over messages already read', async () => {
    const { store } = storeReadingRaw({ maxMessages: 400 });
    // Each test of this pattern over 100,000 characters costs about a millisecond: the scan takes far
    // longer than one slice however fast the machine.
    for (let i = 0; i < 400; i++) await store.addMessage(bytes(`m${i}`, 'a'.repeat(100_000)));
    const query = { filter: { text: 're:(a|aa)+b' }, limit: 10 };
    expect((await store.listMessages(query)).total).toBe(0); // reads and caches every text body
    const order: string[] = [];
    const timer = new Promise<void>((resolve) => setImmediate(() => resolve(void order.push('event loop'))));
    await store.listMessages(query).then(() => order.push('scan done'));
    await timer;
    expect(order).toEqual(['event loop', 'scan done']);
  });
});

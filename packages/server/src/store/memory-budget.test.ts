import { describe, expect, it } from 'vitest';
import type { SmtpSession } from '@mailwright/core';
import { createMemoryStore, type MemoryStoreOptions } from './memory-store.js';
import { messageSummary, newMessage } from '../test-support/new-message.js';
import { MAX_TRANSCRIPT_CHARS, SessionRecorder } from '../smtp/session-recorder.js';
import type { MessageContent } from '../analysis/parse-message.js';

const MIB = 1024 * 1024;

function store(options: Partial<MemoryStoreOptions> = {}) {
  return createMemoryStore({
    readPolicy: 'when-followed',
    maxMessages: 100_000,
    maxSessions: 100_000,
    backgroundReadQuietMs: 60_000,
    summarize: async () => messageSummary(),
    ...options,
  });
}

let sessionCounter = 0;

/** A closed session whose client sent `lines` lines of `length` characters (a long, chatty session). */
function chattySession(lines: number, length: number): SmtpSession {
  sessionCounter += 1;
  const recorder = new SessionRecorder({
    id: `s${String(sessionCounter).padStart(8, '0')}`,
    listener: 'smtp',
    localPort: 25,
    remoteAddress: '192.0.2.1',
    remotePort: 40000,
  });
  for (let i = 0; i < lines; i++) {
    recorder.client(`NOOP ${'x'.repeat(length)}`);
    recorder.server('250 2.0.0 OK');
  }
  recorder.closed();
  return recorder.session;
}

const transcriptChars = (session: SmtpSession): number => session.transcript.reduce((sum, line) => sum + line.line.length, 0);

describe('the memory budget', () => {
  it('caps a transcript in characters as well as lines, and says so in its last line', () => {
    const session = chattySession(400, 500);
    expect(session.transcript.length).toBeLessThan(400);
    expect(transcriptChars(session)).toBeLessThanOrEqual(MAX_TRANSCRIPT_CHARS + 200);
    expect(session.transcript.at(-1)?.line).toMatch(/^… transcript truncated \(at most 500 lines and 65536 characters are kept\)$/);
    // Short lines still stop at the line cap.
    const short = chattySession(400, 1);
    expect(short.transcript).toHaveLength(500);
    expect(short.transcript.at(-1)?.line).toMatch(/^… transcript truncated/);
  });

  it('keeps many sessions with long transcripts within the budget, dropping the oldest', async () => {
    const budget = 8 * MIB;
    const memory = store({ maxMemoryBytes: budget });
    const saved: string[] = [];
    let peak = 0;
    for (let i = 0; i < 1000; i++) {
      const session = chattySession(300, 500);
      await memory.saveSession(session);
      saved.push(session.id);
      peak = Math.max(peak, memory.memoryUsage().total);
    }
    const usage = memory.memoryUsage();
    expect(usage.budget).toBe(budget);
    expect(peak).toBeLessThanOrEqual(budget);
    // 1000 sessions of ~64 KiB would take ~66 MB: most had to go, and the oldest went first.
    const { sessions, total } = await memory.listSessions({ limit: 1000 });
    expect(total).toBeLessThan(200);
    expect(total).toBeGreaterThan(50);
    expect(sessions.map((session) => session.id)).toEqual(saved.slice(-total).reverse());
    expect(await memory.getSession(saved[0] as string)).toBeNull();
    expect(usage.sessions).toBeGreaterThan(total * MAX_TRANSCRIPT_CHARS);
  });

  it('drops the oldest messages and sessions together, announcing the messages, and keeps the newest message', async () => {
    const budget = 2 * MIB;
    const memory = store({ maxMemoryBytes: budget });
    const deleted: string[] = [];
    memory.on('deleted', (ids) => deleted.push(...ids));
    const old = chattySession(50, 500);
    await memory.saveSession(old);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) ids.push((await memory.addMessage(newMessage({ raw: Buffer.alloc(100 * 1024, 97), size: 100 * 1024 }))).id);
    expect(memory.memoryUsage().total).toBeLessThanOrEqual(budget);
    expect(await memory.getSession(old.id)).toBeNull();
    const kept = (await memory.listMessages({ limit: 100 })).messages.map((message) => message.id);
    expect(kept.length).toBeGreaterThan(5);
    expect(kept.length).toBeLessThan(20);
    expect(deleted).toEqual(ids.slice(0, ids.length - kept.length));
    expect(await memory.getRaw(ids[0] as string)).toBeNull();
    // A message over the whole budget still stays, alone: the SMTP client was told it is stored.
    const huge = await memory.addMessage(newMessage({ raw: Buffer.alloc(3 * MIB), size: 3 * MIB }));
    expect((await memory.listMessages({ limit: 100 })).messages.map((message) => message.id)).toEqual([huge.id]);
    // Deleting gives the bytes back.
    await memory.deleteMessages({});
    expect(memory.memoryUsage().messages).toBe(0);
  });

  it('pages sessions with a cursor and a byte budget per page', async () => {
    const memory = store();
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const session = chattySession(20, 100);
      await memory.saveSession(session);
      ids.push(session.id);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await memory.listSessions({ limit: 3, cursor });
      expect(page.total).toBe(7);
      seen.push(...page.sessions.map((session) => session.id));
      cursor = page.nextCursor ?? undefined;
      pages += 1;
    } while (cursor !== undefined);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    // A byte budget smaller than one session still returns one per page.
    const small = await memory.listSessions({ limit: 100, maxBytes: 1 });
    expect(small.sessions).toHaveLength(1);
    expect(small.nextCursor).toBe(ids[6]);
  });

  it('parses a message once for concurrent views, and caches the result within the budget', async () => {
    let parses = 0;
    const memory = store({
      readContent: async (raw): Promise<MessageContent> => {
        parses += 1;
        await new Promise((resolve) => setImmediate(resolve));
        return { headers: {}, text: raw.toString(), html: null, attachments: [], links: [], parseError: null, truncated: [] };
      },
    });
    const { id } = await memory.addMessage(newMessage({ raw: Buffer.from('hello') }));
    const views = await Promise.all(Array.from({ length: 6 }, () => memory.getContent(id)));
    expect(parses).toBe(1);
    expect(views.every((view) => view === views[0])).toBe(true);
    expect(await memory.getContent(id)).toBe(views[0]);
    expect(parses).toBe(1);
    expect(memory.memoryUsage().caches).toBeGreaterThan(0);
    await memory.deleteMessage(id);
    expect(await memory.getContent(id)).toBeNull();
    expect(memory.memoryUsage().caches).toBe(0);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import type { Authentication, CapturedMessage, Protection, SmtpSession } from '@mailwright/core';
import { plaintextTlsInfo } from '@mailwright/core';
import type { MessageSummary } from '../analysis/parse-message.js';
import type { MessageStore, MessageStoreEvents } from '../store/message-store.js';
import { pendingAuthentication } from '../analysis/authentication-jobs.js';
import { messageSummary, newMessage } from './new-message.js';

/** What a store under contract is made with; the suite's messages are `subject|text` in their bytes. */
export interface ContractStoreOptions {
  maxMessages: number;
  maxSessions: number;
  summarize(raw: Buffer): Promise<MessageSummary>;
}

/** A backend under contract: makes a fresh store, and, for a durable one, opens it again on the same data. */
export interface ContractBackend {
  create(options: ContractStoreOptions): Promise<MessageStore>;
  /** Opens the data of a closed store again (durable backends only). */
  reopen?(options: ContractStoreOptions): Promise<MessageStore>;
}

/** Reads `subject|text|to1,to2` bytes. */
async function summarize(raw: Buffer): Promise<MessageSummary> {
  const [subject = '', text = '', to = ''] = raw.toString().split('|');
  return messageSummary({
    subject,
    text,
    snippet: text.slice(0, 20),
    to: to === '' ? [] : to.split(',').map((address) => ({ name: '', address })),
  });
}

const mail = (subject: string, text = '', options: { rcptTo?: string[]; to?: string[]; listener?: string; tags?: string[] } = {}) =>
  newMessage({
    raw: Buffer.from(`${subject}|${text}|${(options.to ?? []).join(',')}`),
    size: subject.length + text.length + 2,
    envelope: { mailFrom: 'a@example.test', rcptTo: options.rcptTo ?? ['b@example.test'], requireTls: false, smtpUtf8: false, body: '7bit' },
    listener: options.listener ?? 'smtp',
    tags: options.tags ?? [],
  });

function session(id: string, listener = 'smtp'): SmtpSession {
  return {
    id,
    listener,
    localPort: 25,
    remoteAddress: '127.0.0.1',
    remotePort: 40000,
    openedAt: new Date().toISOString(),
    closedAt: null,
    greeting: null,
    clientName: null,
    tls: plaintextTlsInfo(),
    auth: null,
    authBeforeTls: false,
    transcript: [],
    messageIds: [],
    error: null,
    faults: [],
  } as SmtpSession;
}

/** Collects the events of the change feed. */
function feed(store: MessageStore) {
  const events: { type: keyof MessageStoreEvents; value: unknown }[] = [];
  store.on('message', (message, subject) => events.push({ type: 'message', value: [message.subject, subject.text] }));
  store.on('deleted', (ids) => events.push({ type: 'deleted', value: ids }));
  store.on('cleared', () => events.push({ type: 'cleared', value: null }));
  store.on('authentication', (message, first) => events.push({ type: 'authentication', value: [message.id, first] }));
  store.on('protection', (message, first) => events.push({ type: 'protection', value: [message.id, first] }));
  return events;
}

/**
 * The store contract ({@link MessageStore}): one suite, run against every backend, so that what
 * the API and the stream rely on holds whatever keeps the mail.
 */
export function describeStoreContract(name: string, backend: ContractBackend): void {
  describe(`the store contract: ${name}`, () => {
    const open: MessageStore[] = [];
    const create = async (options: Partial<ContractStoreOptions> = {}): Promise<MessageStore> => {
      const store = await backend.create({ maxMessages: 1000, maxSessions: 100, summarize, ...options });
      open.push(store);
      return store;
    };
    afterEach(async () => {
      for (const store of open.splice(0)) await store.close();
    });

    it('appends with increasing seqs and ids that sort by arrival, and reads them back', async () => {
      const store = await create();
      expect(await store.latestSeq()).toBe(0);
      const added = await Promise.all(Array.from({ length: 30 }, (_, i) => store.addMessage(mail(`m${i}`, `body ${i}`))));
      expect(added.map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(added.map((m) => m.id)).toEqual(added.map((m) => m.id).sort());
      expect(await store.latestSeq()).toBe(30);
      const bytes = Array.from({ length: 30 }, (_, i) => Buffer.byteLength(`m${i}|body ${i}|`)).reduce((sum, size) => sum + size, 0);
      expect(await store.stored()).toEqual({ messages: 30, bytes });
      const first = added[0]!;
      expect(await store.getMessage(first.id)).toMatchObject({ id: first.id, seq: 1, subject: 'm0', snippet: 'body 0', listener: 'smtp' });
      expect((await store.getRaw(first.id))?.toString()).toBe('m0|body 0|');
      expect(await store.getMessage('nope')).toBeNull();
      expect(await store.getRaw('nope')).toBeNull();
    });

    it('lists newest first in pages with the total, and replays oldest first after a seq', async () => {
      const store = await create();
      for (let i = 1; i <= 12; i++) await store.addMessage(mail(`m${i}`));
      const page = await store.listMessages({ limit: 5 });
      expect(page.total).toBe(12);
      expect(page.messages.map((m) => m.subject)).toEqual(['m12', 'm11', 'm10', 'm9', 'm8']);
      const next = await store.listMessages({ limit: 5, before: page.messages[4]!.seq });
      expect(next.messages.map((m) => m.subject)).toEqual(['m7', 'm6', 'm5', 'm4', 'm3']);
      expect((await store.listMessages({ limit: 50, after: 10 })).messages.map((m) => m.seq)).toEqual([12, 11]);
      expect((await store.messagesAfter(3, undefined, 4)).map((m) => m.seq)).toEqual([4, 5, 6, 7]);
      expect((await store.messagesAfter(12, undefined, 4)).map((m) => m.seq)).toEqual([]);
    });

    it('answers the core filter as the core matcher does: addresses, text, subject, listener, tag', async () => {
      const store = await create();
      await store.addMessage(mail('Welcome aboard', 'Your password reset code is 123456', { rcptTo: ['ada@example.test'] }));
      await store.addMessage(mail('Invoice', 'Amount due', { rcptTo: ['bob@example.test'], to: ['Carol@Example.test'], listener: 'lab' }));
      await store.addMessage(mail('Receipt', 'thanks', { rcptTo: ['aada@example.test'], tags: ['paid'] }));
      const subjects = async (filter: Parameters<MessageStore['listMessages']>[0]['filter']) => {
        const { messages, total } = await store.listMessages({ limit: 10, filter });
        expect(total).toBe(messages.length);
        return messages.map((m) => m.subject).sort();
      };
      expect(await subjects({ to: 'ada@example.test' })).toEqual(['Welcome aboard']);
      expect(await subjects({ to: 'ADA@example.test' })).toEqual(['Welcome aboard']);
      expect(await subjects({ to: 'carol@example.test' })).toEqual(['Invoice']);
      expect(await subjects({ to: 'ada@' })).toEqual(['Receipt', 'Welcome aboard']);
      expect(await subjects({ text: 'RESET CODE' })).toEqual(['Welcome aboard']);
      expect(await subjects({ text: 'invo' })).toEqual(['Invoice']);
      expect(await subjects({ text: 'du' })).toEqual(['Invoice']);
      expect(await subjects({ text: 're:\\d{6}' })).toEqual(['Welcome aboard']);
      expect(await subjects({ subject: 'rec' })).toEqual(['Receipt']);
      expect(await subjects({ listener: 'lab' })).toEqual(['Invoice']);
      expect(await subjects({ tag: 'paid', text: 'thank' })).toEqual(['Receipt']);
      expect(await subjects({ listener: 'lab', text: 'reset' })).toEqual([]);
      expect((await store.messagesAfter(0, { to: 'bob@example.test' }, 10)).map((m) => m.subject)).toEqual(['Invoice']);
      await expect(store.listMessages({ limit: 10, filter: { text: 're:(' } })).rejects.toMatchObject({ code: 'INVALID_FILTER' });
    });

    it('announces each message once it can be read, with the text the filter matches', async () => {
      const store = await create();
      const events = feed(store);
      const following = store.follow();
      const { id } = await store.addMessage(mail('hello', 'world'));
      following.close();
      expect(events).toEqual([{ type: 'message', value: ['hello', 'world'] }]);
      expect(await store.getMessage(id)).toMatchObject({ subject: 'hello' });
    });

    it('deletes one, some or all messages and announces it', async () => {
      const store = await create();
      const a = await store.addMessage(mail('a', 'keep'));
      const b = await store.addMessage(mail('b', 'drop me'));
      const c = await store.addMessage(mail('c', 'drop me'));
      const events = feed(store);
      expect(await store.deleteMessage(a.id)).toBe(true);
      expect(await store.deleteMessage(a.id)).toBe(false);
      expect(await store.getMessage(a.id)).toBeNull();
      expect(await store.getRaw(a.id)).toBeNull();
      expect((await store.deleteMessages({ text: 'drop' })).sort()).toEqual([b.id, c.id].sort());
      await store.addMessage(mail('d'));
      expect(await store.deleteMessages({})).toHaveLength(1);
      expect((await store.listMessages({ limit: 10 })).total).toBe(0);
      expect(events.filter((event) => event.type !== 'message')).toEqual([
        { type: 'deleted', value: [a.id] },
        { type: 'deleted', value: expect.arrayContaining([b.id, c.id]) },
        { type: 'cleared', value: null },
      ]);
      // A seq is never given twice, even once every message is gone.
      expect((await store.addMessage(mail('e'))).seq).toBe(5);
    });

    it('keeps at most maxMessages, announcing what retention deletes', async () => {
      const store = await create({ maxMessages: 3 });
      const events = feed(store);
      const added = [];
      for (let i = 0; i < 5; i++) added.push(await store.addMessage(mail(`m${i}`)));
      expect((await store.listMessages({ limit: 10 })).messages.map((m) => m.subject)).toEqual(['m4', 'm3', 'm2']);
      const deleted = events.filter((event) => event.type === 'deleted').flatMap((event) => event.value as string[]);
      expect(deleted).toEqual([added[0]!.id, added[1]!.id]);
    });

    it('records verdicts: the whole record apart, the summary in the message, announced', async () => {
      const store = await create();
      const { id } = await store.addMessage({ ...mail('signed'), authentication: { status: 'pending', dkim: null, spf: null, dmarc: null } });
      expect(await store.getAuthentication(id)).toBeNull();
      const events = feed(store);
      const following = store.follow();
      const record: Authentication = { ...pendingAuthentication(), status: 'done' };
      expect(await store.setAuthentication(id, record)).toBe(true);
      expect(await store.setAuthentication(id, record)).toBe(true);
      following.close();
      expect(await store.getAuthentication(id)).toEqual(record);
      expect((await store.getMessage(id))?.authentication).toMatchObject({ status: 'done' });
      expect(events).toEqual([
        { type: 'authentication', value: [id, true] },
        { type: 'authentication', value: [id, false] },
      ]);
      expect(await store.setAuthentication('gone', record)).toBe(false);
    });

    it('records protection and the decrypted inner message apart, the summary in the message, announced', async () => {
      const store = await create();
      const pending = { status: 'pending', kind: 'none', signed: false, encrypted: false, decrypted: false } as const;
      const { id } = await store.addMessage({ ...mail('sealed'), protection: pending });
      expect(await store.getProtection(id)).toBeNull();
      expect(await store.getDecrypted(id)).toBeNull();
      const events = feed(store);
      const following = store.follow();
      const record: Protection = {
        status: 'done',
        kind: 'smime',
        signed: false,
        encrypted: true,
        order: null,
        signatures: [],
        encryption: { algorithm: 'AES-256-GCM', recipients: [{ id: 'k', keyTransport: 'RSA-OAEP', address: null }], decrypted: true, reason: null },
        warnings: [],
        reason: null,
        computedAt: new Date().toISOString(),
      };
      expect(await store.setProtection(id, record, Buffer.from('inner|secret text|'))).toBe(true);
      following.close();
      expect(await store.getProtection(id)).toEqual(record);
      expect((await store.getMessage(id))?.protection).toEqual({ status: 'done', kind: 'smime', signed: false, encrypted: true, decrypted: true });
      expect((await store.getDecrypted(id))?.summary).toMatchObject({ subject: 'inner', text: 'secret text' });
      expect(events).toEqual([{ type: 'protection', value: [id, true] }]);
      // Examined again without a key: the decrypted message is gone.
      expect(await store.setProtection(id, { ...record, encryption: { ...record.encryption!, decrypted: false, reason: 'no key' } }, null)).toBe(true);
      expect(await store.getDecrypted(id)).toBeNull();
      expect(await store.setProtection('gone', record, null)).toBe(false);
    });

    it('keeps a session saved closed as a snapshot, and lists sessions newest first in pages', async () => {
      const store = await create();
      const heard: boolean[] = [];
      store.on('session', (saved) => heard.push(saved.closedAt === null));
      const live = session('S1');
      live.transcript.push({ at: 0, dir: 'server', line: '220 ready' });
      await store.saveSession(live);
      live.transcript.push({ at: 1, dir: 'client', line: 'QUIT' });
      live.closedAt = new Date().toISOString();
      await store.saveSession(live);
      live.transcript.push({ at: 2, dir: 'client', line: 'after the end' });
      live.clientName = 'changed';
      expect((await store.getSession('S1'))?.transcript).toHaveLength(2);
      expect((await store.getSession('S1'))?.clientName).toBeNull();
      expect((await store.listSessions({ limit: 1 })).sessions[0]?.transcript).toHaveLength(2);
      expect(heard).toEqual([true, false]);
      for (const id of ['S2', 'S3', 'S4']) await store.saveSession(session(id, id === 'S3' ? 'lab' : 'smtp'));
      const page = await store.listSessions({ limit: 2 });
      expect(page.sessions.map((saved) => saved.id)).toEqual(['S4', 'S3']);
      expect(page.total).toBe(4);
      const rest = await store.listSessions({ limit: 2, cursor: page.nextCursor as string });
      expect(rest.sessions.map((saved) => saved.id)).toEqual(['S2', 'S1']);
      expect(rest.nextCursor).toBeNull();
      expect((await store.listSessions({ limit: 10, listener: 'lab' })).sessions.map((saved) => saved.id)).toEqual(['S3']);
      expect(await store.getSession('none')).toBeNull();
    });

    it('keeps at most maxSessions closed sessions', async () => {
      const store = await create({ maxSessions: 2 });
      for (const id of ['S1', 'S2', 'S3']) await store.saveSession({ ...session(id), closedAt: new Date().toISOString() });
      expect((await store.listSessions({ limit: 10 })).sessions.map((saved) => saved.id)).toEqual(['S3', 'S2']);
    });

    if (backend.reopen) {
      const reopen = backend.reopen;
      it('keeps everything acknowledged across a restart, with the same epoch and seq numbering', async () => {
        const store = await create();
        const added = [];
        for (let i = 0; i < 5; i++) added.push(await store.addMessage(mail(`m${i}`, `text ${i}`, { rcptTo: [`u${i}@example.test`] })));
        await store.setAuthentication(added[0]!.id, { ...pendingAuthentication(), status: 'done' });
        await store.saveSession(session('S1'));
        const epoch = store.epoch;
        await store.close();
        open.splice(open.indexOf(store), 1);
        const again = await reopen({ maxMessages: 1000, maxSessions: 100, summarize });
        open.push(again);
        expect(again.durable).toBe(true);
        expect(again.epoch).toBe(epoch);
        expect(await again.latestSeq()).toBe(5);
        const listed = await again.listMessages({ limit: 10 });
        expect(listed.messages.map((m: CapturedMessage) => m.id)).toEqual(added.map((m) => m.id).reverse());
        expect((await again.getRaw(added[2]!.id))?.toString()).toBe('m2|text 2|');
        expect((await again.listMessages({ limit: 10, filter: { to: 'u3@example.test', text: 'text 3' } })).total).toBe(1);
        expect((await again.getAuthentication(added[0]!.id))?.status).toBe('done');
        expect(await again.getSession('S1')).toMatchObject({ id: 'S1' });
        expect((await again.addMessage(mail('next'))).seq).toBe(6);
      });
    }
  });
}

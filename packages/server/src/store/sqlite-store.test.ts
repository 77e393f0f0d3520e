import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { MessageStore } from './message-store.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
import { SCHEMA_VERSION } from './message-database.js';
import { messageSummary, newMessage } from '../test-support/new-message.js';
import { RawSmtpClient } from '../test-support/raw-smtp-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { createMailwright } from '../mailwright.js';

const dirs: string[] = [];
const stores: MessageStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mailwright-sqlite-'));
  dirs.push(dir);
  return dir;
}

function openStore(path: string, options: Partial<SqliteStoreOptions> = {}): MessageStore {
  const store = openSqliteStore({
    path,
    maxMessages: 1000,
    maxSessions: 100,
    summarize: async (raw) => messageSummary({ subject: raw.toString(), text: raw.toString() }),
    ...options,
  });
  stores.push(store);
  return store;
}

const message = (text: string, receivedAt = new Date().toISOString()) => newMessage({ raw: Buffer.from(text), size: text.length, receivedAt });

describe('the SQLite store refuses a file it cannot use, with a clear error', () => {
  it('a file that is not an SQLite database', async () => {
    const path = join(await tempDir(), 'mailwright.db');
    await writeFile(path, 'From: someone\r\n\r\nthis is a mailbox, not a database\r\n'.repeat(200));
    expect(() => openStore(path)).toThrow(expect.objectContaining({ code: 'STORAGE_INVALID', message: expect.stringContaining('not an SQLite database') }));
  });

  it("another application's SQLite database, which it leaves untouched", async () => {
    const path = join(await tempDir(), 'mailwright.db');
    const other = new Database(path);
    other.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')");
    other.close();
    expect(() => openStore(path)).toThrow(expect.objectContaining({ code: 'STORAGE_INVALID', message: expect.stringContaining('another application') }));
    const again = new Database(path, { readonly: true });
    expect(again.prepare('SELECT body FROM notes').pluck().all()).toEqual(['mine']);
    expect(again.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'messages'").pluck().get()).toBe(0);
    again.close();
  });

  it('a database written by a newer version', async () => {
    const path = join(await tempDir(), 'mailwright.db');
    await openStore(path).close();
    const db = new Database(path);
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(SCHEMA_VERSION + 1, new Date().toISOString());
    db.close();
    expect(() => openStore(path)).toThrow(
      expect.objectContaining({ code: 'STORAGE_INVALID', message: expect.stringContaining(`newer Mailwright (schema version ${SCHEMA_VERSION + 1}`) }),
    );
  });

  it('a database whose header was overwritten', async () => {
    const path = join(await tempDir(), 'mailwright.db');
    const store = openStore(path);
    await store.addMessage(message('kept'));
    await store.close();
    const file = await open(path, 'r+');
    await file.write(Buffer.alloc(100, 0x5a), 0, 100, 0);
    await file.close();
    expect(() => openStore(path)).toThrow(expect.objectContaining({ code: 'STORAGE_INVALID' }));
  });

  it('the CLI-facing start fails with the reason instead of crashing', async () => {
    const dataDir = await tempDir();
    await writeFile(join(dataDir, 'mailwright.db'), 'not a database at all, but long enough to have a header '.repeat(20));
    await expect(createMailwright({ storage: 'sqlite', dataDir, smtpPort: 0, smtpsPort: 0, httpPort: 0 })).rejects.toMatchObject({
      code: 'STORAGE_INVALID',
      message: expect.stringContaining(join(dataDir, 'mailwright.db')),
    });
  });
});

describe('SQLite retention', () => {
  it('deletes messages older than maxAge, on start and as they age, and announces it', async () => {
    const path = join(await tempDir(), 'mailwright.db');
    const store = openStore(path);
    const old = await store.addMessage(message('old', new Date(Date.now() - 3_600_000).toISOString()));
    await store.addMessage(message('new'));
    await store.close();
    const aged = openStore(path, { maxAge: 60_000 });
    expect((await aged.listMessages({ limit: 10 })).messages.map((m) => m.subject)).toEqual(['new']);
    expect(await aged.getMessage(old.id)).toBeNull();
  });

  it('keeps the stored bytes within maxBytes, the newest always staying, and announces what goes', async () => {
    const store = openStore(join(await tempDir(), 'mailwright.db'), { maxBytes: 250 });
    const deleted: string[] = [];
    store.on('deleted', (ids) => deleted.push(...ids));
    const added = [];
    for (let i = 0; i < 5; i++) added.push(await store.addMessage(message(`${i}`.repeat(100))));
    expect((await store.listMessages({ limit: 10 })).messages.map((m) => m.seq)).toEqual([5, 4]);
    expect(deleted).toEqual(added.slice(0, 3).map((m) => m.id));
    await store.addMessage(message('x'.repeat(1000)));
    expect((await store.listMessages({ limit: 10 })).messages.map((m) => m.seq)).toEqual([6]);
  });
});

describe('SQLite group commit', () => {
  it('commits concurrent appends together and announces each after its commit, in seq order', async () => {
    const path = join(await tempDir(), 'mailwright.db');
    const store = openStore(path);
    const announced: number[] = [];
    // Each announcement must be readable by a second connection: it is committed.
    const reader = new Database(path, { readonly: true });
    const visible: boolean[] = [];
    store.on('message', (m) => {
      announced.push(m.seq);
      visible.push(reader.prepare('SELECT count(*) FROM messages WHERE seq = ?').pluck().get(m.seq) === 1);
    });
    const added = await Promise.all(Array.from({ length: 50 }, (_, i) => store.addMessage(message(`m${i}`))));
    reader.close();
    expect(added.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(announced).toEqual(added.map((m) => m.seq));
    expect(visible.every(Boolean)).toBe(true);
  });
});

describe('SQLite full-text search', () => {
  /** Resolves once every message up to `seq` is in the full-text index, as a second connection sees it. */
  async function indexedUpTo(path: string, seq: number): Promise<void> {
    const reader = new Database(path, { readonly: true });
    try {
      await vi.waitFor(() => expect(Number(reader.prepare("SELECT value FROM meta WHERE key = 'indexed_seq'").pluck().get())).toBeGreaterThanOrEqual(seq), {
        timeout: 10_000,
      });
    } finally {
      reader.close();
    }
  }
  const texts = async (store: MessageStore, text: string) => (await store.listMessages({ limit: 10, filter: { text } })).messages.map((m) => m.subject).sort();

  it('answers the text filter from the index once it caught up, as it did before, and across a restart', async () => {
    const path = join(await tempDir(), 'mailwright.db');
    const store = openStore(path);
    await store.addMessage(message('Password reset: code 4711'));
    const gone = await store.addMessage(message('Password reset: code 0000'));
    await store.addMessage(message('Weekly digest'));
    const before = [await texts(store, 'RESET: code'), await texts(store, 'est'), await texts(store, 're:\\d{4}')];
    await indexedUpTo(path, 3);
    expect([await texts(store, 'RESET: code'), await texts(store, 'est'), await texts(store, 're:\\d{4}')]).toEqual(before);
    expect(before[0]).toEqual(['Password reset: code 0000', 'Password reset: code 4711']);
    await store.deleteMessage(gone.id);
    expect(await texts(store, 'code')).toEqual(['Password reset: code 4711']);
    await store.addMessage(message('Not indexed before the restart: code 9'));
    await store.close();
    // The text of a message the last process did not index is read again from its bytes.
    const again = openStore(path);
    await indexedUpTo(path, 4);
    expect(await texts(again, 'code')).toEqual(['Not indexed before the restart: code 9', 'Password reset: code 4711']);
    expect(await texts(again, 'Digest')).toEqual(['Weekly digest']);
  });
});

const isRoot = process.getuid?.() === 0;
/** Mounting a small file system needs root: where there is none, CI fails rather than skip. */
const needsRoot = isRoot || process.env.CI === 'true' ? describe : describe.skip;

needsRoot('a full or read-only disk (a small tmpfs; needs root)', () => {
  const mounts: string[] = [];
  afterAll(async () => {
    for (const mount of mounts) execFileSync('umount', ['-l', mount]);
  });
  async function tmpfs(size: string): Promise<string> {
    const dir = await tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
    mounts.push(dir);
    return dir;
  }

  let t: TestServer | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('answers 452 4.3.1 once the disk is full, never 250 for a message it did not store, and takes mail again when there is room', async () => {
    const dataDir = await tmpfs('2m');
    t = await startTestServer({ storage: 'sqlite', dataDir, authentication: 'off' });
    const client = await RawSmtpClient.connect({ host: '127.0.0.1', port: t.listenerPort('smtp') });
    await client.ehlo();
    const acknowledged: string[] = [];
    let refused = null;
    for (let i = 0; i < 40 && refused === null; i++) {
      const replies = await client.sendMessage({
        from: 'a@example.test',
        to: ['b@example.test'],
        data: `Subject: full ${i}\r\n\r\n${`${i}`.repeat(100_000)}\r\n`,
      });
      if (replies.final?.code === 250) acknowledged.push(`full ${i}`);
      else refused = replies.final;
    }
    expect(refused?.code).toBe(452);
    expect(refused?.lines[0]).toMatch(/^4\.3\.1 /);
    const listed = await t.messages({ limit: '100' });
    expect(listed.messages.map((m) => m.subject).sort()).toEqual([...acknowledged].sort());
    expect((await t.request('/health')).status).toBe(200);
    // Room again: the same connection goes on.
    execFileSync('mount', ['-o', 'remount,size=16m', dataDir]);
    const after = await client.sendMessage({ from: 'a@example.test', to: ['b@example.test'], data: 'Subject: room again\r\n\r\nhello\r\n' });
    expect(after.final?.code).toBe(250);
    await client.quit();
  });

  it('a read-only data directory stops the start with the reason', async () => {
    const dataDir = await tmpfs('4m');
    const first = await startTestServer({ storage: 'sqlite', dataDir, authentication: 'off' });
    await first.close();
    await rm(join(dataDir, 'mailwright.db-wal'), { force: true });
    await rm(join(dataDir, 'mailwright.db-shm'), { force: true });
    await mkdir(join(dataDir, 'keep'), { recursive: true });
    execFileSync('mount', ['-o', 'remount,ro', dataDir]);
    await expect(createMailwright({ storage: 'sqlite', dataDir, smtpPort: 0, smtpsPort: 0, httpPort: 0 })).rejects.toMatchObject({
      code: 'STORAGE_INVALID',
      message: expect.stringContaining('mailwright.db'),
    });
  });
});

#!/usr/bin/env node
// SQLite storage at scale: fills a database with N stored 10 KB messages (through the store,
// each with its summary and text, as the SMTP side stores them), lets the full-text index catch
// up, then measures what a user of a large instance waits for: reopening the database, the
// first page of the list, a recipient filter, a full-text search, and the process's RSS.
//
//   npm run build && node bench/storage-scale.mjs [--messages 100000] [--dir <dir>]
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../packages/server/dist/store/sqlite-store.js';

const { values } = parseArgs({
  options: { messages: { type: 'string', default: '100000' }, dir: { type: 'string' }, 'skip-fill': { type: 'boolean', default: false } },
});
let total = Number(values.messages);
const dir = values.dir ?? (await mkdtemp(join(tmpdir(), 'mailwright-scale-')));
const path = join(dir, 'mailwright.db');
const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(' ');
const BATCH = 20;
const ROUNDS = 21;

const summaryOf = (i, text) => ({
  from: { name: 'App', address: 'app@example.test' },
  to: [{ name: '', address: `user${i % 5000}@example.test` }],
  cc: [],
  replyTo: [],
  subject: `Message ${i} for user${i % 5000}`,
  messageId: `<m${i}@example.test>`,
  date: null,
  snippet: text.slice(0, 200),
  attachments: [],
  text,
});
function textOf(i) {
  const words = [];
  for (let w = 0, length = 0; length < 10 * 1024 - 64; w++) {
    const word = WORDS[(i * 7 + w * 13) % WORDS.length];
    words.push(word);
    length += word.length + 1;
  }
  // One word in each message that no other has, for the full-text search to find.
  words.splice(50, 0, `token${i}x`);
  return words.join(' ');
}
if (values['skip-fill']) {
  const db = new Database(path, { readonly: true });
  total = db.prepare('SELECT count(*) FROM messages').pluck().get();
  db.close();
}
const options = {
  path,
  maxMessages: total + 1,
  maxSessions: 1000,
  summarize: async (raw) => summaryOf(0, raw.toString()),
};

async function fill() {
  const store = openSqliteStore(options);
  const started = performance.now();
  for (let i = 0; i < total; i += BATCH) {
    const writes = [];
    for (let j = i; j < Math.min(total, i + BATCH); j++) {
      const text = textOf(j);
      const raw = Buffer.from(`Subject: Message ${j}\r\nTo: user${j % 5000}@example.test\r\n\r\n${text}\r\n`);
      writes.push(
        store.addMessage({
          receivedAt: new Date().toISOString(),
          envelope: { mailFrom: 'app@example.test', rcptTo: [`user${j % 5000}@example.test`], requireTls: false, smtpUtf8: false, body: '8bitmime' },
          size: raw.length,
          tls: {
            mode: 'none',
            starttlsOffered: true,
            protocol: null,
            cipher: null,
            servername: null,
            alpnProtocol: null,
            resumed: false,
            clientCertificate: null,
          },
          auth: null,
          sessionId: 'scale',
          listener: 'smtp',
          tags: [],
          raw,
          summary: summaryOf(j, text),
        }),
      );
    }
    await Promise.all(writes);
  }
  const stored = performance.now() - started;
  await store.close();
  return { stored, indexed: await catchUp() };
}

/** Reopened, the index catches up on what the filling process left unindexed. */
async function catchUp() {
  const indexing = openSqliteStore(options);
  const indexStarted = performance.now();
  const reader = new Database(path, { readonly: true });
  const indexedSeq = () => Number(reader.prepare("SELECT value FROM meta WHERE key = 'indexed_seq'").pluck().get() ?? 0);
  while (indexedSeq() < total) await new Promise((resolve) => setTimeout(resolve, 500));
  reader.close();
  await indexing.close();
  return performance.now() - indexStarted;
}

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
async function timed(run) {
  const times = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    await run(i);
    times.push(performance.now() - started);
  }
  return median(times);
}

const filled = values['skip-fill'] ? { stored: Number.NaN, indexed: await catchUp() } : await fill();
const openStarted = performance.now();
const store = openSqliteStore(options);
const firstPage = await store.listMessages({ limit: 50 });
const reopenMs = performance.now() - openStarted;
if (firstPage.total !== total) throw new Error(`expected ${total} messages, found ${firstPage.total}`);
const results = {
  messages: total,
  fillSeconds: filled.stored / 1000,
  catchUpIndexSeconds: filled.indexed / 1000,
  reopenToFirstPageMs: reopenMs,
  firstPageP50Ms: await timed(() => store.listMessages({ limit: 50 })),
  recipientFilterP50Ms: await timed((i) => store.listMessages({ limit: 50, filter: { to: `user${(i * 37) % 5000}@example.test` } })),
  fullTextSearchP50Ms: await timed((i) => store.listMessages({ limit: 50, filter: { text: `token${(i * 4099) % total}x` } })),
  rssMiB: process.memoryUsage().rss / 1024 / 1024,
};
await store.close();
if (!values.dir) await rm(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);

import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { closeSync, fdatasync, openSync } from 'node:fs';
import {
  ErrorCode,
  MailwrightError,
  compileFilter,
  isEmptyFilter,
  summarizeAuthentication,
  summarizeProtection,
  type Authentication,
  type Protection,
  type CapturedMessage,
  type MessageFilter,
  type MessageMatcher,
  type SmtpSession,
} from '@mailwright/core';
import { readMessageContent, type MessageContent, type MessageSummary } from '../analysis/parse-message.js';
import type { Logger } from '../logger.js';
import type { Following, MessageStore, MessageStoreEvents, NewMessage } from './message-store.js';
import { openMessageDatabase } from './message-database.js';
import { createStoreId } from './store-id.js';
import { ByteBudgetCache } from './byte-budget-cache.js';
import { contentBytes } from './content-bytes.js';

const MIB = 1024 * 1024;
const CONTENT_CACHE_BYTES = 32 * MIB;
/** How often age retention looks for expired messages, at most. */
const MAX_AGE_CHECK_MS = 60_000;
/** A filter scan gives the event loop a turn after this many records. */
const SCAN_SLICE_ROWS = 2_000;
/** A full address: what the `to` filter matches exactly, through the address index. */
const FULL_ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;
/** The trigram index finds substrings of three characters or more. */
const MIN_INDEXED_NEEDLE = 3;
/** Messages indexed per transaction of the full-text indexer. */
const INDEX_SLICE = 64;
/** How long mail must pause before the indexer catches up. */
const INDEX_QUIET_MS = 1_000;
/** The longest a write nobody waits for (a verdict) waits for a commit to share. */
const LAZY_WRITE_MS = 20;
/** Text waiting for the index (in memory) beyond which it catches up while mail keeps coming. */
const INDEX_BACKLOG_BYTES = 64 * MIB;
const INDEX_RETRY_MS = 5_000;

/** The key of a decrypted message's parsed content in the content cache. */
const decryptedKey = (id: string): string => `${id}/decrypted`;

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** The database file; created with its schema when missing. */
  path: string;
  /** Retention by count: the oldest messages go beyond it. */
  maxMessages: number;
  /** Retention by age, in milliseconds. Default: none. */
  maxAge?: number | undefined;
  /** Retention by the raw bytes stored. Default: none. */
  maxBytes?: number | undefined;
  /** Retention of closed SMTP sessions. */
  maxSessions: number;
  /** Reads what a message says (summary and text body) from its bytes. */
  summarize(raw: Buffer): Promise<MessageSummary>;
  /** Parses a message for the detail views. Default: mailparser on this thread. */
  readContent?(raw: Buffer): Promise<MessageContent>;
  /** Where retention reports what it deleted. */
  logger?: Logger | undefined;
}

/** One write waiting for the next group commit. */
interface Write {
  run(): void;
  /** After the commit: announce, then resolve. */
  done(): void;
  fail(error: unknown): void;
}

/** Splits a filter into what SQL answers exactly and what the core matcher tests on each candidate. */
interface PlannedQuery {
  where: string[];
  params: unknown[];
  /** Whether a candidate also needs the core matcher (null: every candidate matches). */
  residual: MessageMatcher | null;
  /** Whether the residual matcher reads the text body. */
  needsText: boolean;
}

function isAscii(value: string): boolean {
  return /^[\x20-\x7e]*$/.test(value);
}

/** The address and text parts of an FTS5 trigram query: one phrase, quotes doubled. */
const ftsPhrase = (needle: string): string => `"${needle.replace(/"/g, '""')}"`;

/** The storage error a failed write becomes: no room (452 4.3.1), or the storage failing (451 4.3.0). */
export function storageError(error: unknown): MailwrightError {
  if (error instanceof MailwrightError) return error;
  const code = String((error as { code?: unknown }).code ?? '');
  const message = (error as Error).message ?? String(error);
  if (code === 'SQLITE_FULL' || code.startsWith('SQLITE_READONLY') || code === 'ENOSPC' || code === 'EROFS' || code === 'EDQUOT') {
    return new MailwrightError(ErrorCode.STORAGE_FULL, `The message database has no room to write: ${message}`, { cause: error, statusCode: 507 });
  }
  return new MailwrightError(ErrorCode.STORAGE_UNAVAILABLE, `The message database cannot be written: ${message}`, { cause: error, statusCode: 503 });
}

/**
 * The SQLite store: messages, their bytes and sessions in one WAL-mode database file, each
 * message committed to disk before `addMessage` resolves. Writes arriving together (from
 * concurrent SMTP sessions) share one transaction, so that durability costs one disk flush per
 * batch rather than one per message. Announces every change after its commit. Reads messages
 * on arrival (its summary and text are indexed).
 */
export function openSqliteStore(options: SqliteStoreOptions): MessageStore {
  const db = openMessageDatabase(options.path);
  const emitter = new EventEmitter<MessageStoreEvents>();
  emitter.setMaxListeners(0);
  const readContent = options.readContent ?? readMessageContent;
  const contents = new ByteBudgetCache<MessageContent>(CONTENT_CACHE_BYTES, contentBytes);
  const parsing = new Map<string, Promise<MessageContent>>();

  const sql = {
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    insertMessage: db.prepare('INSERT INTO messages (seq, id, received_ms, size, listener, record, authentication) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    insertRaw: db.prepare('INSERT INTO message_raw (seq, raw) VALUES (?, ?)'),
    insertAddress: db.prepare('INSERT OR IGNORE INTO message_addresses (address, seq) VALUES (?, ?)'),
    unindexed: db.prepare<[number, number], { seq: number }>('SELECT seq FROM messages WHERE seq > ? ORDER BY seq LIMIT ?'),
    isStored: db.prepare<[number], { seq: number }>('SELECT seq FROM messages WHERE seq = ?'),
    rawBySeq: db.prepare<[number], { raw: Buffer }>('SELECT raw FROM message_raw WHERE seq = ?'),
    indexedText: db.prepare<[number], { body: string }>('SELECT body FROM message_text WHERE rowid = ?'),
    index: db.prepare('INSERT INTO message_text (rowid, subject, body) VALUES (?, ?, ?)'),
    recordById: db.prepare<[string], { seq: number; record: string }>('SELECT seq, record FROM messages WHERE id = ?'),
    rawById: db.prepare<[string], { raw: Buffer }>('SELECT r.raw FROM messages m JOIN message_raw r ON r.seq = m.seq WHERE m.id = ?'),
    authenticationById: db.prepare<[string], { authentication: string | null }>('SELECT authentication FROM messages WHERE id = ?'),
    updateAuthentication: db.prepare('UPDATE messages SET record = ?, authentication = ? WHERE seq = ?'),
    protectionById: db.prepare<[string], { protection: string | null }>('SELECT protection FROM messages WHERE id = ?'),
    updateProtection: db.prepare('UPDATE messages SET record = ?, protection = ? WHERE seq = ?'),
    setDecrypted: db.prepare('INSERT OR REPLACE INTO message_decrypted (seq, raw) VALUES (?, ?)'),
    decryptedById: db.prepare<[string], { raw: Buffer }>('SELECT d.raw FROM messages m JOIN message_decrypted d ON d.seq = m.seq WHERE m.id = ?'),
    deleteDecrypted: db.prepare('DELETE FROM message_decrypted WHERE seq = ?'),
    oldest: db.prepare<[number], { seq: number; id: string; size: number }>('SELECT seq, id, size FROM messages ORDER BY seq LIMIT ?'),
    expired: db.prepare<[number], { seq: number; id: string; size: number }>('SELECT seq, id, size FROM messages WHERE received_ms < ? ORDER BY seq'),
    oldestBySize: db.prepare<[], { seq: number; id: string; size: number }>('SELECT seq, id, size FROM messages ORDER BY seq'),
    totals: db.prepare<[], { count: number; bytes: number; last: number }>(
      'SELECT count(*) AS count, coalesce(sum(size), 0) AS bytes, coalesce(max(seq), 0) AS last FROM messages',
    ),
    deleteMessage: db.prepare('DELETE FROM messages WHERE seq = ?'),
    deleteRaw: db.prepare('DELETE FROM message_raw WHERE seq = ?'),
    deleteAddresses: db.prepare('DELETE FROM message_addresses WHERE seq = ?'),
    deleteText: db.prepare('DELETE FROM message_text WHERE rowid = ?'),
    upsertSession: db.prepare(
      'INSERT INTO sessions (id, listener, closed, bytes, record) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET closed = excluded.closed, bytes = excluded.bytes, record = excluded.record',
    ),
    sessionById: db.prepare<[string], { record: string }>('SELECT record FROM sessions WHERE id = ?'),
    sessionN: db.prepare<[string], { n: number }>('SELECT n FROM sessions WHERE id = ?'),
    sessionCount: db.prepare<[], { count: number }>('SELECT count(*) AS count FROM sessions'),
    dropClosedSessions: db.prepare('DELETE FROM sessions WHERE n IN (SELECT n FROM sessions WHERE closed = 1 ORDER BY n LIMIT ?)'),
  };

  let epoch = sql.getMeta.get('epoch')?.value;
  if (epoch === undefined) {
    epoch = randomUUID();
    sql.setMeta.run('epoch', epoch);
  }
  const totals = sql.totals.get() as { count: number; bytes: number; last: number };
  let count = totals.count;
  let bytes = totals.bytes;
  /** The last seq committed; seqs are never given twice, even after the newest message is deleted. */
  let lastSeq = Math.max(totals.last, Number(sql.getMeta.get('last_seq')?.value ?? 0));
  let sessionCount = (sql.sessionCount.get() as { count: number }).count;
  /** Messages up to this seq are in the full-text index; those after it are indexed as the CPU allows. */
  let indexedSeq = Number(sql.getMeta.get('indexed_seq')?.value ?? 0);
  let closed = false;
  /** Sessions of this process still open, shown as they go on; written as they are saved, final once closed. */
  const live = new Map<string, SmtpSession>();
  const sessionOf = (record: string): SmtpSession => {
    const session = JSON.parse(record) as SmtpSession;
    return live.get(session.id) ?? session;
  };

  /** Deletes messages by seq inside the current transaction. */
  function deleteRows(rows: { seq: number; size: number }[]): void {
    for (const row of rows) {
      sql.deleteMessage.run(row.seq);
      sql.deleteRaw.run(row.seq);
      sql.deleteDecrypted.run(row.seq);
      sql.deleteAddresses.run(row.seq);
      sql.deleteText.run(row.seq);
      forgetPending(row.seq);
      count -= 1;
      bytes -= row.size;
    }
  }

  /** Applies count, size and age retention inside the current transaction; returns what it deleted. */
  function retain(now: number): { ids: string[]; reason: string }[] {
    const removed: { ids: string[]; reason: string }[] = [];
    const take = (rows: { seq: number; id: string; size: number }[], reason: string): void => {
      if (rows.length === 0) return;
      deleteRows(rows);
      removed.push({ ids: rows.map((row) => row.id), reason });
    };
    if (options.maxAge !== undefined) take(sql.expired.all(now - options.maxAge), 'maxAge');
    if (count > options.maxMessages) take(sql.oldest.all(count - options.maxMessages), 'maxMessages');
    if (options.maxBytes !== undefined && bytes > options.maxBytes) {
      const rows: { seq: number; id: string; size: number }[] = [];
      let excess = bytes - options.maxBytes;
      // The newest message always stays.
      for (const row of sql.oldestBySize.iterate()) {
        if (excess <= 0 || rows.length >= count - 1) break;
        rows.push(row);
        excess -= row.size;
      }
      take(rows, 'maxBytes');
    }
    return removed;
  }

  /** Announces and logs what retention deleted: never silent. */
  function announceRetention(removed: { ids: string[]; reason: string }[]): void {
    for (const { ids, reason } of removed) {
      options.logger?.info({ count: ids.length, reason, first: ids[0], last: ids[ids.length - 1] }, 'retention deleted messages');
      emitter.emit('deleted', ids);
    }
  }

  // Group commit: every write queued within one turn of the event loop goes into one transaction.
  let queue: Write[] = [];
  let scheduled = false;
  const commit = db.transaction((writes: Write[]) => {
    for (const write of writes) write.run();
    sql.setMeta.run('last_seq', String(lastSeq));
    return retain(Date.now());
  });

  /**
   * Flushes the WAL to the disk in the thread pool, so that SMTP and HTTP go on meanwhile: the
   * commits made while one flush runs share the next (group commit), and their writers are
   * answered in commit order once the flush that covers them is done.
   */
  const walFd = openSync(`${options.path}-wal`, 'a');
  let flushing: Promise<void> | null = null;
  let committed: { done: () => void; writes: Write[] }[] = [];
  function durable(done: () => void, writes: Write[]): void {
    committed.push({ done, writes });
    if (!flushing) syncWal();
  }
  function syncWal(): void {
    const batches = committed;
    committed = [];
    flushing = new Promise<void>((resolve) => {
      fdatasync(walFd, (error) => {
        if (error) {
          options.logger?.error({ err: error }, 'the message database could not be flushed to the disk');
          const failure = storageError(error);
          for (const batch of batches) for (const write of batch.writes) write.fail(failure);
        } else for (const batch of batches) batch.done();
        flushing = null;
        resolve();
        if (committed.length > 0) syncWal();
      });
    });
  }

  let lastCommitAt = 0;
  function flush(): void {
    scheduled = false;
    lastCommitAt = performance.now();
    if (lazyTimer) {
      clearTimeout(lazyTimer);
      lazyTimer = null;
    }
    const writes = queue;
    queue = [];
    if (writes.length === 0) return;
    const before = { lastSeq, count, bytes, sessionCount };
    let removed: { ids: string[]; reason: string }[];
    try {
      removed = commit(writes);
    } catch (error) {
      ({ lastSeq, count, bytes, sessionCount } = before);
      const failure = storageError(error);
      options.logger?.error({ err: error, writes: writes.length }, 'the message database could not be written');
      for (const write of writes) write.fail(failure);
      return;
    }
    // Committed, and written to the WAL: answered once the WAL is on the disk.
    durable(() => {
      for (const write of writes) write.done();
      announceRetention(removed);
    }, writes);
    if (indexedSeq < lastSeq) scheduleIndex(pendingBytes >= INDEX_BACKLOG_BYTES ? 0 : INDEX_QUIET_MS);
  }

  /**
   * Queues a write for the next group commit: at the next turn of the event loop, or, for a
   * `lazy` write (a verdict, a session going on: nobody's 250 waits for them), within
   * {@link LAZY_WRITE_MS}, sharing the commit of whatever write comes meanwhile.
   */
  let lazyTimer: NodeJS.Timeout | null = null;
  function write<T>(run: () => T, announce: (value: T) => void = () => {}, lazy = false): Promise<T> {
    if (closed) return Promise.reject(new MailwrightError(ErrorCode.STORAGE_UNAVAILABLE, 'The message store is closed', { statusCode: 503 }));
    return new Promise<T>((resolve, reject) => {
      let value: T;
      queue.push({
        run: () => {
          value = run();
        },
        done: () => {
          announce(value);
          resolve(value);
        },
        fail: reject,
      });
      if (scheduled) return;
      if (!lazy) {
        scheduled = true;
        setImmediate(flush);
      } else
        lazyTimer ??= setTimeout(() => {
          lazyTimer = null;
          if (scheduled) return;
          scheduled = true;
          flush();
        }, LAZY_WRITE_MS);
    });
  }

  /**
   * Texts of the messages stored but not yet in the full-text index, by seq: the index (the
   * costliest part of storing a message) is never between a message and its 250. Lost with the
   * process; then read again from the raw bytes.
   */
  const pending = new Map<number, { subject: string; text: string }>();
  let pendingBytes = 0;
  function forgetPending(seq: number): void {
    const entry = pending.get(seq);
    if (!entry) return;
    pendingBytes -= entry.text.length;
    pending.delete(seq);
  }

  /** The text body of a stored message: waiting for the index, in it, or read again from its bytes. */
  async function textOf(seq: number): Promise<string | null> {
    const waiting = pending.get(seq);
    if (waiting) return waiting.text;
    const indexed = sql.indexedText.get(seq);
    if (indexed) return indexed.body;
    const raw = sql.rawBySeq.get(seq)?.raw;
    return raw ? (await options.summarize(raw)).text : null;
  }

  let indexTimer: NodeJS.Timeout | null = null;
  let indexing = false;
  /** Adds a slice of the messages not yet indexed to the full-text index, in a transaction of its own. */
  async function indexSlice(): Promise<void> {
    indexTimer = null;
    if (closed || indexing || indexedSeq >= lastSeq) return;
    indexing = true;
    try {
      const rows = sql.unindexed.all(indexedSeq, INDEX_SLICE);
      const texts: { seq: number; subject: string; text: string }[] = [];
      for (const { seq } of rows) {
        const known = pending.get(seq);
        if (known) texts.push({ seq, ...known });
        else {
          // Stored by a process that ended before indexing it.
          const raw = sql.rawBySeq.get(seq)?.raw;
          if (raw) texts.push({ seq, ...(await options.summarize(raw)) });
        }
      }
      if (closed) return;
      db.transaction(() => {
        // Deleted while its text was read: nothing to index.
        for (const entry of texts) if (sql.isStored.get(entry.seq)) sql.index.run(entry.seq, entry.subject, entry.text);
        // Past the last row, or past every seq given so far when the backlog went meanwhile.
        indexedSeq = rows.length < INDEX_SLICE ? lastSeq : (rows[rows.length - 1] as { seq: number }).seq;
        sql.setMeta.run('indexed_seq', String(indexedSeq));
      })();
      for (const entry of texts) forgetPending(entry.seq);
    } catch (error) {
      options.logger?.error({ err: error }, 'the full-text index could not be brought up to date');
      indexing = false;
      scheduleIndex(INDEX_RETRY_MS);
      return;
    }
    indexing = false;
    // One slice at a time, with the event loop's turn in between; mail that came meanwhile goes first.
    if (indexedSeq < lastSeq) scheduleIndex(pendingBytes >= INDEX_BACKLOG_BYTES || performance.now() - lastCommitAt >= INDEX_QUIET_MS ? 0 : INDEX_QUIET_MS);
  }
  function scheduleIndex(delayMs: number): void {
    if (closed || indexing) return;
    if (indexTimer) clearTimeout(indexTimer);
    indexTimer = setTimeout(() => void indexSlice(), delayMs);
    indexTimer.unref();
  }
  // What the last run left unindexed.
  if (indexedSeq < lastSeq) scheduleIndex(INDEX_QUIET_MS);

  // Age retention also runs while no mail comes.
  const ageTimer =
    options.maxAge === undefined
      ? null
      : setInterval(
          () => {
            if (closed) return;
            try {
              announceRetention(db.transaction(() => retain(Date.now()))());
            } catch (error) {
              options.logger?.error({ err: error }, 'age retention failed');
            }
          },
          Math.min(MAX_AGE_CHECK_MS, Math.max(1_000, Math.floor(options.maxAge / 10))),
        );
  ageTimer?.unref();
  // What expired while the server was stopped goes now.
  if (options.maxAge !== undefined || count > options.maxMessages || (options.maxBytes !== undefined && bytes > options.maxBytes)) {
    const removed = db.transaction(() => retain(Date.now()))();
    for (const { ids, reason } of removed) options.logger?.info({ count: ids.length, reason }, 'retention deleted messages');
  }

  const parse = (record: string): CapturedMessage => JSON.parse(record) as CapturedMessage;

  /** Plans a filter: SQL for what it answers exactly, the core matcher for the rest. */
  function plan(filter: MessageFilter | undefined): PlannedQuery {
    const query: PlannedQuery = { where: [], params: [], residual: null, needsText: false };
    if (filter === undefined || isEmptyFilter(filter)) return query;
    // Compiling checks the whole filter (and throws INVALID_FILTER) before anything runs.
    compileFilter(filter);
    const rest: MessageFilter = { ...filter };
    if (filter.to !== undefined && FULL_ADDRESS.test(filter.to) && !filter.to.startsWith('re:')) {
      query.where.push('m.seq IN (SELECT seq FROM message_addresses WHERE address = ?)');
      query.params.push(filter.to.toLowerCase());
      delete rest.to;
    }
    if (filter.text !== undefined && !filter.text.startsWith('re:') && filter.text.length >= MIN_INDEXED_NEEDLE) {
      // Messages not indexed yet are candidates, which the matcher then reads.
      query.where.push('m.seq IN (SELECT rowid FROM message_text WHERE message_text MATCH ? UNION ALL SELECT seq FROM messages WHERE seq > ?)');
      query.params.push(ftsPhrase(filter.text), indexedSeq);
      // The trigram index folds ASCII case as the filter does; beyond ASCII the matcher decides.
      if (isAscii(filter.text) && indexedSeq >= lastSeq) delete rest.text;
    }
    if (filter.listener !== undefined) {
      query.where.push('m.listener = ?');
      query.params.push(filter.listener);
      delete rest.listener;
    }
    if (!isEmptyFilter(rest)) {
      query.residual = compileFilter(rest);
      query.needsText = rest.text !== undefined;
    }
    return query;
  }

  interface Candidate {
    seq: number;
    record: string;
    body?: string | null;
  }

  /** The candidates of a query in seq order, with the text body when the matcher needs it. */
  function candidates(
    query: PlannedQuery,
    range: { before?: number | undefined; after?: number | undefined },
    order: 'ASC' | 'DESC',
    limit?: number,
  ): IterableIterator<Candidate> {
    const where = [...query.where];
    const params = [...query.params];
    if (range.before !== undefined) {
      where.push('m.seq < ?');
      params.push(range.before);
    }
    if (range.after !== undefined) {
      where.push('m.seq > ?');
      params.push(range.after);
    }
    const body = query.needsText ? ', (SELECT t.body FROM message_text t WHERE t.rowid = m.seq) AS body' : '';
    const text = `SELECT m.seq, m.record${body} FROM messages m${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY m.seq ${order}${limit === undefined ? '' : ` LIMIT ${limit}`}`;
    return db.prepare(text).iterate(...params) as IterableIterator<Candidate>;
  }

  function countOf(query: PlannedQuery, range: { before?: number | undefined; after?: number | undefined }): number {
    const where = [...query.where];
    const params = [...query.params];
    if (range.before !== undefined) {
      where.push('m.seq < ?');
      params.push(range.before);
    }
    if (range.after !== undefined) {
      where.push('m.seq > ?');
      params.push(range.after);
    }
    const text = `SELECT count(*) AS n FROM messages m${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`;
    return (db.prepare(text).get(...params) as { n: number }).n;
  }

  /**
   * Visits the matching messages in order until `visit` returns false, giving the event loop a
   * turn now and then. The statement is read to its end in slices, each slice copied first.
   */
  async function scan(
    query: PlannedQuery,
    range: { before?: number | undefined; after?: number | undefined },
    order: 'ASC' | 'DESC',
    visit: (message: CapturedMessage) => boolean,
  ): Promise<void> {
    let cursor = range;
    for (;;) {
      const rows = [...candidates(query, cursor, order, SCAN_SLICE_ROWS)];
      for (const row of rows) {
        const message = parse(row.record);
        const text = query.needsText ? (row.body ?? (await textOf(row.seq))) : null;
        if (query.residual && !query.residual({ message, text })) continue;
        if (!visit(message)) return;
      }
      const last = rows[rows.length - 1];
      if (rows.length < SCAN_SLICE_ROWS || !last) return;
      cursor = order === 'DESC' ? { ...range, before: last.seq } : { ...range, after: last.seq };
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Deletes the given messages in one transaction and announces them. */
  async function deleteIds(ids: string[]): Promise<string[]> {
    const deleted = await write(() => {
      const gone: string[] = [];
      for (const id of ids) {
        const row = sql.recordById.get(id);
        if (!row) continue;
        deleteRows([{ seq: row.seq, size: parse(row.record).size }]);
        contents.delete(id);
        gone.push(id);
      }
      return gone;
    });
    if (deleted.length > 0) emitter.emit('deleted', deleted);
    return deleted;
  }

  const store: MessageStore = {
    readPolicy: 'on-arrival',
    durable: true,
    get epoch() {
      return epoch;
    },
    follow(): Following {
      const close = (): void => {};
      return { close, [Symbol.dispose]: close };
    },
    async addMessage(input: NewMessage) {
      const { raw, summary: known, receivedAt, envelope, size, tls, auth, sessionId, listener, tags } = input;
      const summary = known ?? (await options.summarize(raw));
      let message: CapturedMessage;
      return write(
        () => {
          const seq = ++lastSeq;
          message = {
            id: createStoreId(seq, Date.now()),
            seq,
            receivedAt,
            envelope,
            from: summary.from,
            to: summary.to,
            cc: summary.cc,
            replyTo: summary.replyTo,
            subject: summary.subject,
            messageId: summary.messageId,
            date: summary.date,
            size,
            snippet: summary.snippet,
            attachments: summary.attachments,
            tls,
            auth,
            sessionId,
            listener,
            tags,
            ...(input.authentication ? { authentication: input.authentication } : {}),
            ...(input.protection ? { protection: input.protection } : {}),
          };
          const receivedMs = Date.parse(receivedAt);
          sql.insertMessage.run(seq, message.id, Number.isNaN(receivedMs) ? Date.now() : receivedMs, size, listener, JSON.stringify(message), null);
          sql.insertRaw.run(seq, raw);
          const addresses = new Set<string>();
          for (const address of envelope.rcptTo) addresses.add(address.toLowerCase());
          for (const address of [...summary.to, ...summary.cc]) addresses.add(address.address.toLowerCase());
          for (const address of addresses) sql.insertAddress.run(address, seq);
          count += 1;
          bytes += size;
          return { id: message.id, seq };
        },
        (added) => {
          pending.set(added.seq, { subject: summary.subject, text: summary.text });
          pendingBytes += summary.text.length;
          emitter.emit('message', message, { message, text: summary.text });
        },
      );
    },
    async getMessage(id) {
      const row = sql.recordById.get(id);
      return row ? parse(row.record) : null;
    },
    async getRaw(id) {
      return sql.rawById.get(id)?.raw ?? null;
    },
    async listMessages(query) {
      const planned = plan(query.filter);
      const range = { before: query.before, after: query.after };
      if (planned.residual === null) {
        const messages = [...candidates(planned, range, 'DESC', query.limit)].map((row) => parse(row.record));
        return { messages, total: countOf(planned, range) };
      }
      const messages: CapturedMessage[] = [];
      let total = 0;
      await scan(planned, range, 'DESC', (message) => {
        total += 1;
        if (messages.length < query.limit) messages.push(message);
        return true;
      });
      return { messages, total };
    },
    async messagesAfter(after, filter, limit) {
      const planned = plan(filter);
      if (planned.residual === null) return [...candidates(planned, { after }, 'ASC', limit)].map((row) => parse(row.record));
      const found: CapturedMessage[] = [];
      await scan(planned, { after }, 'ASC', (message) => found.push(message) < limit);
      return found;
    },
    async deleteMessage(id) {
      return (await deleteIds([id])).length > 0;
    },
    async deleteMessages(filter) {
      if (isEmptyFilter(filter)) {
        const ids = await write(() => {
          const all = (db.prepare('SELECT id FROM messages ORDER BY seq').pluck().all() as string[]) ?? [];
          db.exec('DELETE FROM messages; DELETE FROM message_raw; DELETE FROM message_decrypted; DELETE FROM message_addresses; DELETE FROM message_text;');
          pending.clear();
          pendingBytes = 0;
          indexedSeq = lastSeq;
          sql.setMeta.run('indexed_seq', String(indexedSeq));
          count = 0;
          bytes = 0;
          return all;
        });
        contents.clear();
        emitter.emit('cleared');
        return ids;
      }
      const ids: string[] = [];
      await scan(plan(filter), {}, 'ASC', (message) => ids.push(message.id) > 0);
      return ids.length === 0 ? [] : deleteIds(ids);
    },
    async latestSeq() {
      return lastSeq;
    },
    async saveSession(session: SmtpSession) {
      if (session.closedAt === null) {
        // An open session is written once, so that it is listed, and then shown live until it
        // closes: its transcript grows with every message, and rewriting it each time would
        // cost more than the messages themselves.
        const written = live.has(session.id);
        live.set(session.id, session);
        if (written) {
          emitter.emit('session', session);
          return;
        }
      } else live.delete(session.id);
      const record = JSON.stringify(session);
      await write(
        () => {
          const existed = sql.sessionN.get(session.id) !== undefined;
          sql.upsertSession.run(session.id, session.listener, session.closedAt === null ? 0 : 1, record.length, record);
          if (!existed) sessionCount += 1;
          if (sessionCount > options.maxSessions) sessionCount -= sql.dropClosedSessions.run(sessionCount - options.maxSessions).changes;
        },
        () => emitter.emit('session', session.closedAt === null ? session : (JSON.parse(record) as SmtpSession)),
      );
    },
    async getSession(id) {
      const row = sql.sessionById.get(id);
      return row ? sessionOf(row.record) : null;
    },
    async listSessions(query) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (query.listener !== undefined) {
        where.push('listener = ?');
        params.push(query.listener);
      }
      const total = (db.prepare(`SELECT count(*) AS n FROM sessions${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}`).get(...params) as { n: number })
        .n;
      if (query.cursor !== undefined) {
        const at = sql.sessionN.get(query.cursor);
        // A cursor whose session has gone meanwhile: ids sort by creation.
        if (at) where.push(`n < ${at.n}`);
        else {
          where.push('id < ?');
          params.push(query.cursor);
        }
      }
      const rows = db
        .prepare(`SELECT record, bytes FROM sessions${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY n DESC LIMIT ?`)
        .all(...params, query.limit + 1) as { record: string; bytes: number }[];
      const sessions: SmtpSession[] = [];
      let size = 0;
      let more = rows.length > query.limit;
      for (const row of rows.slice(0, query.limit)) {
        if (query.maxBytes !== undefined && sessions.length > 0 && size + row.bytes > query.maxBytes) {
          more = true;
          break;
        }
        size += row.bytes;
        sessions.push(sessionOf(row.record));
      }
      const last = sessions[sessions.length - 1];
      return { sessions, total, nextCursor: more && last ? last.id : null };
    },
    async getContent(id) {
      const cached = contents.get(id);
      if (cached) return cached;
      let pending = parsing.get(id);
      if (!pending) {
        const raw = sql.rawById.get(id)?.raw;
        if (!raw) return null;
        pending = readContent(raw).then(
          (content) => {
            parsing.delete(id);
            if (sql.recordById.get(id)) contents.set(id, content);
            return content;
          },
          (error: unknown) => {
            parsing.delete(id);
            throw error;
          },
        );
        parsing.set(id, pending);
      }
      return pending;
    },
    async setAuthentication(id, authentication: Authentication) {
      const result = await write(
        () => {
          const row = sql.recordById.get(id);
          if (!row) return null;
          const message = parse(row.record);
          const first = message.authentication === undefined || message.authentication.status === 'pending';
          message.authentication = summarizeAuthentication(authentication);
          sql.updateAuthentication.run(JSON.stringify(message), JSON.stringify(authentication), row.seq);
          return { message, first };
        },
        undefined,
        true,
      );
      if (!result) return false;
      emitter.emit('authentication', result.message, result.first);
      return true;
    },
    async setProtection(id, protection: Protection, decrypted: Buffer | null) {
      const result = await write(
        () => {
          const row = sql.recordById.get(id);
          if (!row) return null;
          const message = parse(row.record);
          const first = message.protection?.status !== 'done';
          message.protection = summarizeProtection(protection);
          const plain = protection.kind === 'none' && protection.reason === null;
          sql.updateProtection.run(JSON.stringify(message), plain ? null : JSON.stringify(protection), row.seq);
          if (decrypted) sql.setDecrypted.run(row.seq, decrypted);
          else sql.deleteDecrypted.run(row.seq);
          contents.delete(decryptedKey(id));
          return { message, first };
        },
        undefined,
        true,
      );
      if (!result) return false;
      emitter.emit('protection', result.message, result.first);
      return true;
    },
    async getProtection(id) {
      const json = sql.protectionById.get(id)?.protection;
      return json === undefined || json === null ? null : (JSON.parse(json) as Protection);
    },
    async getDecrypted(id) {
      const decrypted = sql.decryptedById.get(id)?.raw;
      if (!decrypted) return null;
      const key = decryptedKey(id);
      const cached = contents.get(key);
      const [summary, content] = await Promise.all([options.summarize(decrypted), cached ?? readContent(decrypted)]);
      if (!cached && sql.recordById.get(id)) contents.set(key, content);
      return { summary, content };
    },
    async getAuthentication(id) {
      const json = sql.authenticationById.get(id)?.authentication;
      return json === undefined || json === null ? null : (JSON.parse(json) as Authentication);
    },
    async stored() {
      return { messages: count, bytes };
    },
    memoryUsage() {
      return { messages: 0, sessions: 0, caches: contents.bytes, total: contents.bytes, budget: CONTENT_CACHE_BYTES };
    },
    async close() {
      if (closed) return;
      // What is queued is committed first, and on the disk.
      flush();
      closed = true;
      while (flushing) await flushing;
      closeSync(walFd);
      if (ageTimer) clearInterval(ageTimer);
      if (indexTimer) clearTimeout(indexTimer);
      db.close();
    },
    on(event, listener) {
      emitter.on(event, listener as never);
      return store;
    },
    off(event, listener) {
      emitter.off(event, listener as never);
      return store;
    },
  };
  return store;
}

import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  compileFilter,
  isEmptyFilter,
  summarizeAuthentication,
  summarizeProtection,
  type Authentication,
  type Protection,
  type ProtectionSummary,
  type AuthenticationSummary,
  type CapturedMessage,
  type MessageFilter,
  type MessageMatcher,
  type SmtpSession,
} from '@mailwright/core';
import { readMessageContent, type MessageContent, type MessageSummary } from '../analysis/parse-message.js';
import type { Following, MessageStore, MessageStoreEvents, ReadPolicy } from './message-store.js';
import { fillSummary } from './stored-summary.js';
import { createIdleQueue } from './idle-queue.js';
import { createStoreId } from './store-id.js';
import { ByteBudgetCache } from './byte-budget-cache.js';
import { ArrivalQueue } from './arrival-queue.js';
import { contentBytes } from './content-bytes.js';
import { sharedString } from './own-string.js';

const MIB = 1024 * 1024;
const BACKGROUND_READ_QUIET_MS = 100;
/** A filter scan gives the event loop a turn after this much work. */
const SCAN_SLICE_MS = 10;
const DEFAULT_MAX_MEMORY_BYTES = 512 * MIB;
/** About what a message's record and summary take besides its raw bytes. */
const MESSAGE_RECORD_BYTES = 1024;
/** About what a session's record takes besides its transcript. */
const SESSION_RECORD_BYTES = 1024;
/** About what a transcript line takes besides its characters. */
const TRANSCRIPT_LINE_BYTES = 64;
const MESSAGE_ID_BYTES = 48;

/** What a session is accounted for; its transcript only grows, so only new lines are counted on a re-save. */
interface SessionSize {
  bytes: number;
  lines: number;
  ids: number;
}

interface Entry {
  /**
   * The message. Until its bytes are read, the fields they tell (subject, addresses, snippet,
   * …) hold placeholders, and nobody outside the store gets to see it; reading fills them in
   * place, so that the object is never replaced and no garbage is left among stored ones.
   */
  readonly message: CapturedMessage;
  readonly raw: Buffer;
  /** Accounted against the memory budget: the raw bytes, the records, the decrypted message. */
  bytes: number;
  read: boolean;
  /** The summary being read. */
  reading: Promise<MessageSummary> | null;
  /** The whole authentication record, once computed, as JSON: one flat string weighs a fraction of the objects. */
  authentication?: string;
  /** The whole protection record, as JSON; absent for mail with no protection. */
  protection?: string;
  /** The decrypted inner message, when one was decrypted. */
  decrypted?: Buffer;
}

const NONE = Object.freeze([]) as unknown as never[];

/** One frozen object per combination of verdicts (at most 8³ + 1), shared by every message that has it. */
const VERDICTS = new Map<string, AuthenticationSummary>();
function sharedVerdicts(summary: AuthenticationSummary): AuthenticationSummary {
  const key = `${summary.status} ${summary.dkim} ${summary.spf} ${summary.dmarc}`;
  let shared = VERDICTS.get(key);
  if (!shared) VERDICTS.set(key, (shared = Object.freeze(summary)));
  return shared;
}

/** One frozen object per protection summary (a few dozen combinations), shared. */
const PROTECTIONS = new Map<string, ProtectionSummary>();
function sharedProtection(summary: ProtectionSummary): ProtectionSummary {
  const key = `${summary.status} ${summary.kind} ${summary.signed} ${summary.encrypted} ${summary.decrypted}`;
  let shared = PROTECTIONS.get(key);
  if (!shared) PROTECTIONS.set(key, (shared = Object.freeze(summary)));
  return shared;
}

/** The key of a decrypted message's parsed content in the content cache. */
const decryptedKey = (id: string): string => `${id}/decrypted`;

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** When messages are read from their bytes: see {@link ReadPolicy}. */
  readPolicy: ReadPolicy;
  /** Retention: the oldest messages go once there are more. */
  maxMessages: number;
  /** Retention of SMTP sessions. */
  maxSessions: number;
  /** Reads what a message says (summary and text body) from its bytes. */
  summarize(raw: Buffer): Promise<MessageSummary>;
  /**
   * Memory budget in bytes: raw messages, session records with their transcripts, and the
   * caches. Beyond it the oldest messages and closed sessions go. Default 512 MiB.
   */
  maxMemoryBytes?: number;
  /** Parses a message for the detail views. Default: mailparser on this thread. */
  readContent?(raw: Buffer): Promise<MessageContent>;
  /** Memory for cached text bodies, part of the budget. Default 4 MiB or 1/16 of the budget, whichever is less. */
  textCacheBytes?: number;
  /** Memory for cached parsed messages, part of the budget. Default 64 MiB or 1/8 of the budget, whichever is less. */
  contentCacheBytes?: number;
  /** How long mail must pause before the messages nobody asked for are read in the background. Default 100 ms. */
  backgroundReadQuietMs?: number;
}

/** A filter split in two: the part that looks at the message, and the part that needs its text. */
interface CompiledQuery {
  match: MessageMatcher | null;
  matchText: MessageMatcher | null;
}

function compileQuery(filter: MessageFilter | undefined): CompiledQuery {
  if (filter === undefined || isEmptyFilter(filter)) return { match: null, matchText: null };
  const { text, ...rest } = filter;
  return {
    match: isEmptyFilter(rest) ? null : compileFilter(rest),
    matchText: text === undefined ? null : compileFilter({ text }),
  };
}

/** The default store: everything in memory, bounded by retention limits. */
export function createMemoryStore(options: MemoryStoreOptions): MessageStore {
  const emitter = new EventEmitter<MessageStoreEvents>();
  emitter.setMaxListeners(0);
  /** Ascending by seq. */
  const entries = new ArrivalQueue<Entry>();
  const byId = new Map<string, Entry>();
  const maxMemory = options.maxMemoryBytes ?? DEFAULT_MAX_MEMORY_BYTES;
  const textCacheBytes = options.textCacheBytes ?? Math.min(4 * MIB, Math.floor(maxMemory / 16));
  const contentCacheBytes = options.contentCacheBytes ?? Math.min(64 * MIB, Math.floor(maxMemory / 8));
  /** What messages and sessions may take: the budget less what the caches may take. */
  const retainedBudget = Math.max(0, maxMemory - textCacheBytes - contentCacheBytes);
  const texts = new ByteBudgetCache<string>(textCacheBytes, (text) => text.length * 2);
  const contents = new ByteBudgetCache<MessageContent>(contentCacheBytes, contentBytes);
  const readContent = options.readContent ?? readMessageContent;
  /** Parses in flight: concurrent requests for one message share one. */
  const parsing = new Map<string, Promise<MessageContent>>();
  const sessions = new Map<string, SmtpSession>();
  const sessionSizes = new Map<string, SessionSize>();
  let messageBytes = 0;
  let sessionBytes = 0;
  let seq = 0;
  /** Open {@link Following} handles. */
  let followers = 0;
  const readsOnArrival = (): boolean => options.readPolicy === 'on-arrival' || followers > 0;

  function complete(entry: Entry, summary: MessageSummary): void {
    fillSummary(entry.message, summary);
    entry.read = true;
  }

  /** Whether the entry is still stored: reading awaits, and a delete or retention may come first. */
  const isStored = (entry: Entry): boolean => byId.get(entry.message.id) === entry;

  /**
   * Reads the message's bytes, once however many ask at the same time, and completes the
   * message if it was not read yet. A failed read is tried again by the next request.
   */
  function read(entry: Entry): Promise<MessageSummary> {
    return (entry.reading ??= options.summarize(entry.raw).then(
      (summary) => {
        entry.reading = null;
        if (!entry.read) complete(entry, summary);
        return summary;
      },
      (error: unknown) => {
        entry.reading = null;
        throw error;
      },
    ));
  }

  /** The whole message, its summary read from its bytes on first use. */
  async function messageOf(entry: Entry): Promise<CapturedMessage> {
    if (!entry.read) await read(entry);
    return entry.message;
  }

  /**
   * The whole messages of those still stored, read one after the other: a page of thousands
   * holds one text body at a time.
   */
  async function messagesOf(list: Entry[]): Promise<CapturedMessage[]> {
    const messages: CapturedMessage[] = [];
    for (const entry of list) {
      const message = entry.read ? entry.message : await messageOf(entry);
      if (isStored(entry)) messages.push(message);
    }
    return messages;
  }

  /**
   * The text body, for the `text` filter: kept in the cache once asked for, read again from
   * the bytes when it has left it. Reading it also completes a message not read yet.
   */
  async function textOf(entry: Entry): Promise<string> {
    const cached = texts.get(entry.message.id);
    if (cached !== undefined) return cached;
    const { text } = await read(entry);
    if (isStored(entry)) texts.set(entry.message.id, text);
    return text;
  }

  /**
   * Visits the entries matching a query, in the given order, until `visit` returns false. The
   * text part is evaluated only when the rest matches (a message not read yet is read once for
   * both); without a filter nothing is read.
   */
  async function scan(candidates: Iterable<Entry>, query: CompiledQuery, visit: (entry: Entry) => boolean): Promise<void> {
    let since = performance.now();
    for (const entry of candidates) {
      if (query.match || query.matchText) {
        // Cached messages are tested without a real await: a long scan lets SMTP and HTTP in.
        if (performance.now() - since > SCAN_SLICE_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          since = performance.now();
        }
        const text = query.matchText && !entry.read ? await textOf(entry) : undefined;
        const message = entry.read ? entry.message : await messageOf(entry);
        if (query.match && !query.match({ message })) continue;
        if (query.matchText && !query.matchText({ message, text: text ?? (await textOf(entry)) })) continue;
        if (!isStored(entry)) continue;
      }
      if (!visit(entry)) return;
    }
  }

  // Both iterate over a copy: reading summaries awaits, and the store may change meanwhile.
  function* newestFirst(before: number | undefined, after: number | undefined): Generator<Entry> {
    const list = entries.toArray();
    for (let i = list.length - 1; i >= 0; i--) {
      const entry = list[i] as Entry;
      if (after !== undefined && entry.message.seq <= after) return;
      if (before !== undefined && entry.message.seq >= before) continue;
      yield entry;
    }
  }

  function* oldestAfter(after: number): Generator<Entry> {
    // Binary search for the first entry past `after`: seqs ascend.
    let low = 0;
    let high = entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((entries.at(mid) as Entry).message.seq <= after) low = mid + 1;
      else high = mid;
    }
    yield* entries.toArray(low);
  }

  // Messages nobody has asked for yet are read once a burst of mail is over, so that the
  // first query after it does not have to read them all.
  const unread = createIdleQueue<Entry>(
    async (entry) => {
      if (isStored(entry) && !entry.read) await read(entry);
    },
    { quietMs: options.backgroundReadQuietMs ?? BACKGROUND_READ_QUIET_MS, limit: options.maxMessages },
  );

  /** Removes entries already taken out of `entries`. */
  function forget(ids: Iterable<string>): void {
    for (const id of ids) {
      const entry = byId.get(id);
      if (entry) messageBytes -= entry.bytes;
      byId.delete(id);
      texts.delete(id);
      contents.delete(id);
      contents.delete(decryptedKey(id));
    }
  }

  function dropSession(id: string): void {
    sessions.delete(id);
    const size = sessionSizes.get(id);
    if (size) sessionBytes -= size.bytes;
    sessionSizes.delete(id);
  }

  /** Counts what a saved session takes now: the lines and ids added since it was last saved. */
  function accountSession(session: SmtpSession): void {
    let size = sessionSizes.get(session.id);
    if (size === undefined || session.transcript.length < size.lines) {
      if (size) sessionBytes -= size.bytes;
      size = { bytes: SESSION_RECORD_BYTES, lines: 0, ids: 0 };
      sessionSizes.set(session.id, size);
      sessionBytes += SESSION_RECORD_BYTES;
    }
    let added = (session.messageIds.length - size.ids) * MESSAGE_ID_BYTES;
    const { transcript } = session;
    for (let i = size.lines; i < transcript.length; i++) added += TRANSCRIPT_LINE_BYTES + (transcript[i] as { line: string }).line.length;
    size.lines = transcript.length;
    size.ids = session.messageIds.length;
    size.bytes += added;
    sessionBytes += added;
  }

  function* closedSessions(): Generator<SmtpSession> {
    for (const session of sessions.values()) if (session.closedAt !== null) yield session;
  }

  /**
   * Drops the oldest messages and closed sessions, oldest first, until what they take is within
   * the budget; the newest message always stays. Returns the ids of the messages dropped.
   */
  function enforceBudget(): string[] {
    let excess = messageBytes + sessionBytes - retainedBudget;
    if (excess <= 0) return [];
    const closed = closedSessions();
    let session = closed.next();
    let drop = 0;
    while (excess > 0) {
      const entry = drop < entries.length - 1 ? entries.at(drop) : undefined;
      const oldSession = session.done ? undefined : session.value;
      if (entry === undefined && oldSession === undefined) break;
      // Both timestamps are ISO 8601 in UTC: they sort as strings.
      if (entry !== undefined && (oldSession === undefined || entry.message.receivedAt <= oldSession.openedAt)) {
        excess -= entry.bytes;
        drop += 1;
      } else if (oldSession !== undefined) {
        excess -= sessionSizes.get(oldSession.id)?.bytes ?? 0;
        dropSession(oldSession.id);
        session = closed.next();
      }
    }
    if (drop === 0) return [];
    const expired = entries.dropOldest(drop).map((old) => old.message.id);
    forget(expired);
    return expired;
  }

  const store: MessageStore = {
    readPolicy: options.readPolicy,
    epoch: randomUUID(),
    follow(): Following {
      followers += 1;
      let open = true;
      const close = (): void => {
        if (!open) return;
        open = false;
        followers -= 1;
      };
      return { close, [Symbol.dispose]: close };
    },
    async addMessage(input) {
      const { raw, summary: known, receivedAt, envelope, size, tls, auth, sessionId, listener, tags } = input;
      const summary = known ?? (readsOnArrival() ? await options.summarize(raw) : null);
      seq += 1;
      const message: CapturedMessage = {
        id: createStoreId(seq, Date.now()),
        seq,
        receivedAt,
        envelope: {
          mailFrom: sharedString(envelope.mailFrom),
          rcptTo: envelope.rcptTo.map(sharedString),
          requireTls: envelope.requireTls,
          smtpUtf8: envelope.smtpUtf8,
          body: envelope.body,
        },
        from: null,
        to: NONE,
        cc: NONE,
        replyTo: NONE,
        subject: '',
        messageId: null,
        date: null,
        size,
        snippet: '',
        attachments: NONE,
        tls,
        auth,
        sessionId,
        listener,
        tags,
        ...(input.authentication ? { authentication: input.authentication } : {}),
        ...(input.protection ? { protection: input.protection } : {}),
      };
      const entry: Entry = { message, raw, bytes: raw.length + MESSAGE_RECORD_BYTES, read: false, reading: null };
      entries.push(entry);
      byId.set(message.id, entry);
      messageBytes += entry.bytes;
      if (summary) complete(entry, summary);
      else unread.push(entry);
      let expired: string[] = [];
      if (entries.length > options.maxMessages) {
        expired = entries.dropOldest(entries.length - options.maxMessages).map((old) => old.message.id);
        forget(expired);
      }
      if (messageBytes + sessionBytes > retainedBudget) expired = expired.concat(enforceBudget());
      if (summary) {
        const read = summary;
        emitter.emit('message', message, {
          message,
          get text() {
            return read.text;
          },
        });
      }
      if (expired.length > 0) emitter.emit('deleted', expired);
      return { id: message.id, seq };
    },
    async setAuthentication(id, authentication) {
      const entry = byId.get(id);
      if (!entry) return false;
      const first = entry.authentication === undefined;
      entry.authentication = JSON.stringify(authentication);
      // In place, like the summary: the record is never replaced.
      entry.message.authentication = sharedVerdicts(summarizeAuthentication(authentication));
      // Announced like `message`: a message nobody has seen and nobody follows is read when asked for.
      if (!entry.read && followers === 0) return true;
      const message = await messageOf(entry);
      if (byId.get(id) === entry) emitter.emit('authentication', message, first);
      return true;
    },
    async setProtection(id, protection, decrypted) {
      const entry = byId.get(id);
      if (!entry) return false;
      const first = entry.message.protection?.status !== 'done';
      const json = protection.kind === 'none' && protection.reason === null ? undefined : JSON.stringify(protection);
      const before = entry.bytes;
      entry.bytes = entry.raw.length + MESSAGE_RECORD_BYTES + (json?.length ?? 0) + (decrypted?.length ?? 0);
      messageBytes += entry.bytes - before;
      if (json === undefined) delete entry.protection;
      else entry.protection = json;
      if (decrypted) entry.decrypted = decrypted;
      else delete entry.decrypted;
      contents.delete(decryptedKey(id));
      entry.message.protection = sharedProtection(summarizeProtection(protection));
      const expired = messageBytes + sessionBytes > retainedBudget ? enforceBudget() : [];
      if (expired.length > 0) emitter.emit('deleted', expired);
      if (!isStored(entry)) return false;
      if (!entry.read && followers === 0) return true;
      const message = await messageOf(entry);
      if (isStored(entry)) emitter.emit('protection', message, first);
      return true;
    },
    async getProtection(id) {
      const json = byId.get(id)?.protection;
      return json === undefined ? null : (JSON.parse(json) as Protection);
    },
    async getDecrypted(id) {
      const entry = byId.get(id);
      if (!entry?.decrypted) return null;
      const key = decryptedKey(id);
      const decrypted = entry.decrypted;
      const cached = contents.get(key);
      const [summary, content] = await Promise.all([options.summarize(decrypted), cached ?? readContent(decrypted)]);
      if (!cached && isStored(entry) && entry.decrypted === decrypted) contents.set(key, content);
      return { summary, content };
    },
    async getAuthentication(id) {
      const json = byId.get(id)?.authentication;
      return json === undefined ? null : (JSON.parse(json) as Authentication);
    },
    async getMessage(id) {
      const entry = byId.get(id);
      return entry ? messageOf(entry) : null;
    },
    async getRaw(id) {
      return byId.get(id)?.raw ?? null;
    },
    async listMessages(query) {
      const page: Entry[] = [];
      let total = 0;
      await scan(newestFirst(query.before, query.after), compileQuery(query.filter), (entry) => {
        total += 1;
        if (page.length < query.limit) page.push(entry);
        return true;
      });
      return { messages: await messagesOf(page), total };
    },
    async messagesAfter(after, filter, limit) {
      // Fewer than `limit` only when no more match: a stream replays in batches until a short one.
      const query = compileQuery(filter);
      const found: CapturedMessage[] = [];
      for (let cursor = after; found.length < limit;) {
        const batch: Entry[] = [];
        await scan(oldestAfter(cursor), query, (entry) => batch.push(entry) < limit - found.length);
        const last = batch[batch.length - 1];
        if (!last) break;
        cursor = last.message.seq;
        // Messages deleted while this batch was read are left out, and the next batch makes up for them.
        found.push(...(await messagesOf(batch)));
      }
      return found;
    },
    async getContent(id) {
      const entry = byId.get(id);
      if (!entry) return null;
      const cached = contents.get(id);
      if (cached) return cached;
      let pending = parsing.get(id);
      if (!pending) {
        pending = readContent(entry.raw).then(
          (content) => {
            parsing.delete(id);
            if (isStored(entry)) contents.set(id, content);
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
    memoryUsage() {
      const caches = texts.bytes + contents.bytes;
      return { messages: messageBytes, sessions: sessionBytes, caches, total: messageBytes + sessionBytes + caches, budget: maxMemory };
    },
    async deleteMessage(id) {
      if (!byId.has(id)) return false;
      entries.replace(entries.toArray().filter((entry) => entry.message.id !== id));
      forget([id]);
      emitter.emit('deleted', [id]);
      return true;
    },
    async deleteMessages(filter) {
      if (isEmptyFilter(filter)) {
        const ids = entries.toArray().map((entry) => entry.message.id);
        entries.clear();
        byId.clear();
        messageBytes = 0;
        texts.clear();
        contents.clear();
        unread.clear();
        emitter.emit('cleared');
        return ids;
      }
      const removed = new Set<string>();
      await scan(entries.toArray(), compileQuery(filter), (entry) => {
        removed.add(entry.message.id);
        return true;
      });
      // Deleted by someone else while the scan read messages: not ours to report.
      const ids = [...removed].filter((id) => byId.has(id));
      if (ids.length === 0) return [];
      const gone = new Set(ids);
      entries.replace(entries.toArray().filter((entry) => !gone.has(entry.message.id)));
      forget(ids);
      emitter.emit('deleted', ids);
      return ids;
    },
    latestSeq() {
      return seq;
    },
    async saveSession(session) {
      // Map insertion order is arrival order; a re-save keeps the original position.
      sessions.set(session.id, session);
      accountSession(session);
      if (sessions.size > options.maxSessions) {
        for (const [id, old] of sessions) {
          if (sessions.size <= options.maxSessions) break;
          if (old.closedAt !== null) dropSession(id);
        }
      }
      const expired = messageBytes + sessionBytes > retainedBudget ? enforceBudget() : [];
      emitter.emit('session', session);
      if (expired.length > 0) emitter.emit('deleted', expired);
    },
    async getSession(id) {
      return sessions.get(id) ?? null;
    },
    async listSessions(query) {
      const all = [...sessions.values()].filter((session) => query.listener === undefined || session.listener === query.listener);
      all.reverse();
      let start = 0;
      if (query.cursor !== undefined) {
        const cursor = query.cursor;
        const at = all.findIndex((session) => session.id === cursor);
        // A cursor whose session has gone meanwhile: ids sort by creation.
        start = at >= 0 ? at + 1 : all.findIndex((session) => session.id < cursor);
        if (start < 0) start = all.length;
      }
      const page: SmtpSession[] = [];
      let bytes = 0;
      for (let i = start; i < all.length && page.length < query.limit; i++) {
        const session = all[i] as SmtpSession;
        const size = sessionSizes.get(session.id)?.bytes ?? SESSION_RECORD_BYTES;
        if (query.maxBytes !== undefined && page.length > 0 && bytes + size > query.maxBytes) break;
        bytes += size;
        page.push(session);
      }
      const last = page[page.length - 1];
      const more = last !== undefined && start + page.length < all.length;
      return { sessions: page, total: all.length, nextCursor: more ? last.id : null };
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

import { EventEmitter } from 'node:events';
import { compileFilter, isEmptyFilter, type CapturedMessage, type MessageFilter, type MessageMatcher, type SmtpSession } from '@mailwright/core';
import type { MessageSummary } from '../analysis/parse-message.js';
import type { MessageStore, MessageStoreEvents, NewMessage } from './message-store.js';
import { storedSummary } from './stored-summary.js';
import { messageId } from './message-id.js';
import { TextCache } from './text-cache.js';

const MIB = 1024 * 1024;

/** How a message travelled: what is known of it before its bytes are read. */
type Delivery = Omit<NewMessage, 'raw' | 'summary'>;

interface Entry {
  readonly id: string;
  readonly seq: number;
  readonly raw: Buffer;
  /** The whole message, once its summary has been read; until then, how it travelled. */
  message: CapturedMessage | null;
  delivery: Delivery | null;
  /** The summary being read. */
  reading: Promise<CapturedMessage> | null;
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Retention: the oldest messages go once there are more. */
  maxMessages: number;
  /** Retention of SMTP sessions. */
  maxSessions: number;
  /** Reads what a message says (summary and text body) from its bytes. */
  summarize(raw: Buffer): Promise<MessageSummary>;
  /** Memory for cached text bodies. Default 4 MiB. */
  textCacheBytes?: number;
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
  let entries: Entry[] = [];
  const byId = new Map<string, Entry>();
  const texts = new TextCache(options.textCacheBytes ?? 4 * MIB);
  const sessions = new Map<string, SmtpSession>();
  let seq = 0;

  function complete(entry: Entry, summary: MessageSummary): CapturedMessage {
    const { receivedAt, envelope, size, tls, auth, sessionId, listener, tags } = entry.delivery as Delivery;
    const message: CapturedMessage = {
      id: entry.id,
      seq: entry.seq,
      receivedAt,
      envelope,
      ...storedSummary(summary),
      size,
      tls,
      auth,
      sessionId,
      listener,
      tags,
    };
    entry.message = message;
    entry.delivery = null;
    entry.reading = null;
    if (byId.has(entry.id)) texts.set(entry.id, summary.text);
    return message;
  }

  /** The whole message, its summary read from its bytes on first use. */
  function messageOf(entry: Entry): CapturedMessage | Promise<CapturedMessage> {
    return entry.message ?? (entry.reading ??= options.summarize(entry.raw).then((summary) => entry.message ?? complete(entry, summary)));
  }

  async function textOf(entry: Entry): Promise<string> {
    let text = texts.get(entry.id);
    if (text === undefined) {
      text = (await options.summarize(entry.raw)).text;
      if (byId.has(entry.id)) texts.set(entry.id, text);
    }
    return text;
  }

  /**
   * Visits the entries matching a query, in the given order, until `visit` returns false. The
   * text part is evaluated only when the rest matches; without a filter nothing is read.
   */
  async function scan(candidates: Iterable<Entry>, query: CompiledQuery, visit: (entry: Entry) => boolean): Promise<void> {
    for (const entry of candidates) {
      if (query.match && !query.match({ message: await messageOf(entry) })) continue;
      if (query.matchText && !query.matchText({ message: await messageOf(entry), text: await textOf(entry) })) continue;
      if (!visit(entry)) return;
    }
  }

  // Both iterate over a copy: reading summaries awaits, and the store may change meanwhile.
  function* newestFirst(before: number | undefined, after: number | undefined): Generator<Entry> {
    const list = entries.slice();
    for (let i = list.length - 1; i >= 0; i--) {
      const entry = list[i] as Entry;
      if (after !== undefined && entry.seq <= after) return;
      if (before !== undefined && entry.seq >= before) continue;
      yield entry;
    }
  }

  function* oldestAfter(after: number): Generator<Entry> {
    // Binary search for the first entry past `after`: seqs ascend.
    let low = 0;
    let high = entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((entries[mid] as Entry).seq <= after) low = mid + 1;
      else high = mid;
    }
    yield* entries.slice(low);
  }

  function forget(ids: Iterable<string>): void {
    for (const id of ids) {
      byId.delete(id);
      texts.delete(id);
    }
  }

  const store: MessageStore = {
    async addMessage(input) {
      const { raw, summary: known, ...delivery } = input;
      // Read at once only for someone listening; otherwise when the message is first asked for.
      const summary = known ?? (emitter.listenerCount('message') > 0 ? await options.summarize(raw) : null);
      seq += 1;
      const entry: Entry = { id: messageId(seq, Date.now()), seq, raw, message: null, delivery, reading: null };
      entries.push(entry);
      byId.set(entry.id, entry);
      const message = summary && complete(entry, summary);
      let expired: string[] = [];
      if (entries.length > options.maxMessages) {
        expired = entries.splice(0, entries.length - options.maxMessages).map((old) => old.id);
        forget(expired);
      }
      if (message) emitter.emit('message', message, (summary as MessageSummary).text);
      if (expired.length > 0) emitter.emit('deleted', expired);
      return { id: entry.id, seq: entry.seq };
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
      return { messages: await Promise.all(page.map(messageOf)), total };
    },
    async messagesAfter(after, filter, limit) {
      const result: Entry[] = [];
      if (limit > 0) await scan(oldestAfter(after), compileQuery(filter), (entry) => result.push(entry) < limit);
      return Promise.all(result.map(messageOf));
    },
    async deleteMessage(id) {
      if (!byId.has(id)) return false;
      entries = entries.filter((entry) => entry.id !== id);
      forget([id]);
      emitter.emit('deleted', [id]);
      return true;
    },
    async deleteMessages(filter) {
      if (isEmptyFilter(filter)) {
        const ids = entries.map((entry) => entry.id);
        entries = [];
        byId.clear();
        texts.clear();
        emitter.emit('cleared');
        return ids;
      }
      const removed = new Set<string>();
      await scan(entries.slice(), compileQuery(filter), (entry) => {
        removed.add(entry.id);
        return true;
      });
      if (removed.size === 0) return [];
      entries = entries.filter((entry) => !removed.has(entry.id));
      forget(removed);
      const ids = [...removed];
      emitter.emit('deleted', ids);
      return ids;
    },
    latestSeq() {
      return seq;
    },
    async saveSession(session) {
      // Map insertion order is arrival order; a re-save keeps the original position.
      sessions.set(session.id, session);
      if (sessions.size > options.maxSessions) {
        for (const [id, old] of sessions) {
          if (sessions.size <= options.maxSessions) break;
          if (old.closedAt !== null) sessions.delete(id);
        }
      }
      emitter.emit('session', session);
    },
    async getSession(id) {
      return sessions.get(id) ?? null;
    },
    async listSessions(query) {
      const all = [...sessions.values()].filter((session) => query.listener === undefined || session.listener === query.listener);
      all.reverse();
      return { sessions: all.slice(0, query.limit), total: all.length };
    },
    on(event, listener) {
      emitter.on(event, listener as never);
      return store;
    },
    off(event, listener) {
      emitter.off(event, listener as never);
      return store;
    },
    listenerCount(event) {
      return emitter.listenerCount(event);
    },
  };
  return store;
}

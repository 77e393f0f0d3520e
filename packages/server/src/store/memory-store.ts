import { EventEmitter } from 'node:events';
import { compileFilter, isEmptyFilter, type CapturedMessage, type MessageFilter, type MessageMatcher, type SmtpSession } from '@mailwright/core';
import type { MessageStore, MessageStoreEvents } from './message-store.js';
import { messageId } from './message-id.js';
import { TextCache } from './text-cache.js';

const MIB = 1024 * 1024;

interface Entry {
  message: CapturedMessage;
  raw: Buffer;
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Retention: the oldest messages go once there are more. */
  maxMessages: number;
  /** Retention of SMTP sessions. */
  maxSessions: number;
  /** Derives the text body of a raw message, for `text` filters on messages whose text is no longer cached. */
  extractText(raw: Buffer): Promise<string>;
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

  async function textOf(entry: Entry): Promise<string> {
    let text = texts.get(entry.message.id);
    if (text === undefined) {
      text = await options.extractText(entry.raw);
      if (byId.has(entry.message.id)) texts.set(entry.message.id, text);
    }
    return text;
  }

  /**
   * Visits the entries matching a query, in the given order, until `visit` returns false. The
   * text part is evaluated only when the rest matches, and without a text part nothing awaits.
   */
  async function scan(candidates: Iterable<Entry>, query: CompiledQuery, visit: (entry: Entry) => boolean): Promise<void> {
    for (const entry of candidates) {
      if (query.match && !query.match({ message: entry.message })) continue;
      if (query.matchText && !query.matchText({ message: entry.message, text: await textOf(entry) })) continue;
      if (!visit(entry)) return;
    }
  }

  function* newestFirst(before: number | undefined, after: number | undefined): Generator<Entry> {
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i] as Entry;
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
      if ((entries[mid] as Entry).message.seq <= after) low = mid + 1;
      else high = mid;
    }
    for (let i = low; i < entries.length; i++) yield entries[i] as Entry;
  }

  function forget(ids: Iterable<string>): void {
    for (const id of ids) {
      byId.delete(id);
      texts.delete(id);
    }
  }

  const store: MessageStore = {
    async addMessage(input) {
      const { raw, text, ...fields } = input;
      seq += 1;
      const message: CapturedMessage = { id: messageId(seq, Date.now()), seq, ...fields };
      const entry: Entry = { message, raw };
      entries.push(entry);
      byId.set(message.id, entry);
      texts.set(message.id, text);
      let expired: string[] = [];
      if (entries.length > options.maxMessages) {
        expired = entries.splice(0, entries.length - options.maxMessages).map((old) => old.message.id);
        forget(expired);
      }
      emitter.emit('message', message, text);
      if (expired.length > 0) emitter.emit('deleted', expired);
      return message;
    },
    async getMessage(id) {
      return byId.get(id)?.message ?? null;
    },
    async getRaw(id) {
      return byId.get(id)?.raw ?? null;
    },
    async listMessages(query) {
      const page: CapturedMessage[] = [];
      let total = 0;
      await scan(newestFirst(query.before, query.after), compileQuery(query.filter), (entry) => {
        total += 1;
        if (page.length < query.limit) page.push(entry.message);
        return true;
      });
      return { messages: page, total };
    },
    async messagesAfter(after, filter, limit) {
      const result: CapturedMessage[] = [];
      if (limit <= 0) return result;
      await scan(oldestAfter(after), compileQuery(filter), (entry) => result.push(entry.message) < limit);
      return result;
    },
    async deleteMessage(id) {
      if (!byId.has(id)) return false;
      entries = entries.filter((entry) => entry.message.id !== id);
      forget([id]);
      emitter.emit('deleted', [id]);
      return true;
    },
    async deleteMessages(filter) {
      if (isEmptyFilter(filter)) {
        const ids = entries.map((entry) => entry.message.id);
        entries = [];
        byId.clear();
        texts.clear();
        emitter.emit('cleared');
        return ids;
      }
      const removed = new Set<string>();
      await scan(entries.slice(), compileQuery(filter), (entry) => {
        removed.add(entry.message.id);
        return true;
      });
      if (removed.size === 0) return [];
      entries = entries.filter((entry) => !removed.has(entry.message.id));
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

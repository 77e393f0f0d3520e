import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { compileFilter, isEmptyFilter, type CapturedMessage, type MessageFilter, type MessageMatcher, type SmtpSession } from '@mailwright/core';
import type { MessageStore, MessageStoreEvents } from './message-store.js';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID-style id: 10 characters of time, 6 of sequence and 6 random, so it sorts by arrival. */
function messageId(seq: number, now: number): string {
  let time = '';
  for (let value = now, i = 0; i < 10; i++, value = Math.floor(value / 32)) time = CROCKFORD[value % 32] + time;
  let counter = '';
  for (let value = seq, i = 0; i < 6; i++, value = Math.floor(value / 32)) counter = CROCKFORD[value % 32] + counter;
  let random = '';
  for (const byte of randomBytes(6)) random += CROCKFORD[byte % 32];
  return time + counter + random;
}

interface Entry {
  message: CapturedMessage;
  raw: Buffer;
  text: string;
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Retention: the oldest messages go once there are more. */
  maxMessages: number;
  /** Retention of SMTP sessions. */
  maxSessions: number;
}

/** The default store: everything in memory, bounded by retention limits. */
export function createMemoryStore(options: MemoryStoreOptions): MessageStore {
  const emitter = new EventEmitter<MessageStoreEvents>();
  emitter.setMaxListeners(0);
  /** Ascending by seq. */
  let entries: Entry[] = [];
  const byId = new Map<string, Entry>();
  const sessions = new Map<string, SmtpSession>();
  let seq = 0;

  const matcherOf = (filter: MessageFilter | undefined): MessageMatcher | null =>
    filter === undefined || isEmptyFilter(filter) ? null : compileFilter(filter);

  function removeEntries(removed: Set<Entry>): string[] {
    entries = entries.filter((entry) => !removed.has(entry));
    const ids: string[] = [];
    for (const entry of removed) {
      byId.delete(entry.message.id);
      ids.push(entry.message.id);
    }
    return ids;
  }

  const store: MessageStore = {
    async addMessage(input) {
      const { raw, text, ...fields } = input;
      seq += 1;
      const message: CapturedMessage = { id: messageId(seq, Date.now()), seq, ...fields };
      const entry: Entry = { message, raw, text };
      entries.push(entry);
      byId.set(message.id, entry);
      let expired: string[] = [];
      if (entries.length > options.maxMessages) {
        const dropped = entries.splice(0, entries.length - options.maxMessages);
        expired = dropped.map((old) => {
          byId.delete(old.message.id);
          return old.message.id;
        });
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
      const matcher = matcherOf(query.filter);
      const page: CapturedMessage[] = [];
      let total = 0;
      for (let i = entries.length - 1; i >= 0; i--) {
        const entry = entries[i] as Entry;
        const { message } = entry;
        if (query.after !== undefined && message.seq <= query.after) break;
        if (query.before !== undefined && message.seq >= query.before) continue;
        if (matcher && !matcher({ message, text: entry.text })) continue;
        total += 1;
        if (page.length < query.limit) page.push(message);
      }
      return { messages: page, total };
    },
    async messagesAfter(after, filter, limit) {
      const matcher = matcherOf(filter);
      // Binary search for the first entry past `after`: seqs ascend.
      let low = 0;
      let high = entries.length;
      while (low < high) {
        const mid = (low + high) >>> 1;
        if ((entries[mid] as Entry).message.seq <= after) low = mid + 1;
        else high = mid;
      }
      const result: CapturedMessage[] = [];
      for (let i = low; i < entries.length && result.length < limit; i++) {
        const entry = entries[i] as Entry;
        if (!matcher || matcher({ message: entry.message, text: entry.text })) result.push(entry.message);
      }
      return result;
    },
    async deleteMessage(id) {
      const entry = byId.get(id);
      if (!entry) return false;
      removeEntries(new Set([entry]));
      emitter.emit('deleted', [id]);
      return true;
    },
    async deleteMessages(filter) {
      const matcher = matcherOf(filter);
      if (!matcher) {
        const ids = entries.map((entry) => entry.message.id);
        entries = [];
        byId.clear();
        emitter.emit('cleared');
        return ids;
      }
      const removed = new Set(entries.filter((entry) => matcher({ message: entry.message, text: entry.text })));
      const ids = removeEntries(removed);
      if (ids.length > 0) emitter.emit('deleted', ids);
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

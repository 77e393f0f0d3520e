import type { CapturedMessage } from '@mailwright/core';
import type { MessageStore } from '../../store/message-store.js';
import type { SearchMarks } from './mailpit-search.js';

/** At most this many tags on one message, each at most this long. */
export const MAX_TAGS_PER_MESSAGE = 64;
export const MAX_TAG_LENGTH = 128;

/**
 * A tag as Mailpit keeps it: only letters, digits, `-`, `.`, `_` and single spaces, trimmed;
 * other characters are dropped. Empty when nothing is left.
 */
export function cleanTag(tag: string): string {
  return tag
    .replace(/[^a-zA-Z0-9\-._\s]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_TAG_LENGTH)
    .trim();
}

/** Cleaned, without duplicates, sorted as Mailpit sorts them (case-insensitively). */
export function cleanTags(tags: readonly string[]): string[] {
  const cleaned = [...new Set(tags.map(cleanTag).filter((tag) => tag !== ''))];
  return cleaned.sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }) || a.localeCompare(b)).slice(0, MAX_TAGS_PER_MESSAGE);
}

/**
 * What the Mailpit layer remembers of a message that Mailwright's own record does not hold:
 * whether a Mailpit client read it, and the tags a Mailpit client gave it (which replace the
 * message's own `tags` in Mailpit's view). Kept in memory per message id and forgotten when
 * the message is deleted or dropped, so it never outgrows the store.
 */
export class MailpitMarks implements SearchMarks {
  readonly #read = new Set<string>();
  readonly #tags = new Map<string, string[]>();
  readonly #store: MessageStore;
  readonly #onDeleted = (ids: string[]): void => {
    for (const id of ids) {
      this.#read.delete(id);
      this.#tags.delete(id);
    }
  };
  readonly #onCleared = (): void => {
    this.#read.clear();
    this.#tags.clear();
  };

  constructor(store: MessageStore) {
    this.#store = store;
    store.on('deleted', this.#onDeleted);
    store.on('cleared', this.#onCleared);
  }

  isRead(id: string): boolean {
    return this.#read.has(id);
  }

  /** How many messages are marked read. */
  readCount(): number {
    return this.#read.size;
  }

  /** Called after a message's read flag or tags changed, with Mailpit's `update` data. */
  onUpdate: ((update: { ID: string; Read: boolean } | { ID: string; Tags: string[] }) => void) | null = null;

  setRead(id: string, read: boolean): void {
    if (this.#read.has(id) === read) return;
    if (read) this.#read.add(id);
    else this.#read.delete(id);
    this.onUpdate?.({ ID: id, Read: read });
  }

  tagsOf(message: CapturedMessage): readonly string[] {
    return this.#tags.get(message.id) ?? cleanTags(message.tags);
  }

  setTags(id: string, tags: readonly string[]): void {
    const cleaned = cleanTags(tags);
    this.#tags.set(id, cleaned);
    this.onUpdate?.({ ID: id, Tags: cleaned });
  }

  /** Stops following the store. */
  close(): void {
    this.#store.off('deleted', this.#onDeleted);
    this.#store.off('cleared', this.#onCleared);
  }
}

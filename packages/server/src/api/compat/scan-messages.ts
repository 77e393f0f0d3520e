import type { CapturedMessage, MessageFilter } from '@mailwright/core';
import type { MessageStore } from '../../store/message-store.js';

const PAGE_SIZE = 1000;

/** Every stored message matching `filter`, newest first, read from the store a page at a time. */
export async function* scanMessages(store: MessageStore, filter?: MessageFilter): AsyncGenerator<CapturedMessage> {
  let before: number | undefined;
  for (;;) {
    const { messages } = await store.listMessages({ filter, limit: PAGE_SIZE, ...(before === undefined ? {} : { before }) });
    yield* messages;
    const last = messages[messages.length - 1];
    if (messages.length < PAGE_SIZE || last === undefined) return;
    before = last.seq;
  }
}

/** The ids of every stored message matching `filter`. */
export async function idsMatching(store: MessageStore, filter: MessageFilter): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const message of scanMessages(store, filter)) ids.add(message.id);
  return ids;
}

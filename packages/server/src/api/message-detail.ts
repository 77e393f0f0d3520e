import type { CapturedMessage, MessageDetail } from '@mailwright/core';
import type { MessageStore } from '../store/message-store.js';
import { readMessageContent } from '../analysis/parse-message.js';
import { analyzeMessage } from '../analysis/analyze-message.js';

/** A stored message with its headers, bodies and analysis; null when it is gone. */
export async function readMessageDetail(store: MessageStore, message: CapturedMessage): Promise<MessageDetail | null> {
  const raw = await store.getRaw(message.id);
  if (!raw) return null;
  const content = await readMessageContent(raw);
  return {
    ...message,
    headers: content.headers,
    text: content.text,
    html: content.html,
    analysis: analyzeMessage(content) as unknown as Record<string, unknown>,
  };
}

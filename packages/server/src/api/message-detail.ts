import type { CapturedMessage, MessageDetail } from '@mailwright/core';
import type { MessageStore } from '../store/message-store.js';
import { analyzeMessage } from '../analysis/analyze-message.js';

/** A stored message with its headers, bodies and analysis; null when it is gone. */
export async function readMessageDetail(store: MessageStore, message: CapturedMessage): Promise<MessageDetail | null> {
  const content = await store.getContent(message.id);
  if (!content) return null;
  return {
    ...message,
    headers: content.headers,
    text: content.text,
    html: content.html,
    links: content.links,
    analysis: analyzeMessage(content) as unknown as Record<string, unknown>,
    parseError: content.parseError,
    truncated: content.truncated,
  };
}

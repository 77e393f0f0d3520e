import type { CapturedMessage, MessageDetail } from '@mailwright/core';
import type { MessageStore } from '../store/message-store.js';
import { analyzeMessage } from '../analysis/analyze-message.js';
import { pendingAuthentication } from '../analysis/authentication-jobs.js';

/** A stored message with its headers, bodies and analysis; null when it is gone. */
export async function readMessageDetail(store: MessageStore, message: CapturedMessage): Promise<MessageDetail | null> {
  const [content, authentication] = await Promise.all([store.getContent(message.id), message.authentication ? store.getAuthentication(message.id) : null]);
  if (!content) return null;
  // Until protection is examined on the server, a message carries none; the field is left out.
  const { authentication: summary, protection: _protection, ...rest } = message;
  return {
    ...rest,
    ...(summary ? { authentication: authentication ?? pendingAuthentication() } : {}),
    headers: content.headers,
    text: content.text,
    html: content.html,
    links: content.links,
    analysis: analyzeMessage(content) as unknown as Record<string, unknown>,
    parseError: content.parseError,
    truncated: content.truncated,
  };
}

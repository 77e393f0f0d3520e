import type { CapturedMessage, MessageDetail, Protection } from '@mailwright/core';
import type { MessageStore } from '../store/message-store.js';
import { analyzeMessage } from '../analysis/analyze-message.js';
import { pendingAuthentication } from '../analysis/authentication-jobs.js';
import { NO_PROTECTION, PENDING_PROTECTION } from '../analysis/protection/examine-protection.js';
import type { MessageContent, MessageSummary } from '../analysis/parse-message.js';

/** The whole protection record of a message: stored, or (pending, plain mail) derived from its summary. */
async function protectionOf(store: MessageStore, message: CapturedMessage): Promise<Protection> {
  const summary = message.protection;
  if (summary?.status !== 'done') return PENDING_PROTECTION;
  return (await store.getProtection(message.id)) ?? { ...NO_PROTECTION, computedAt: message.receivedAt };
}

/**
 * A stored message with its headers, bodies and analysis; null when it is gone. With
 * `view: 'decrypted'`, the decrypted inner message in the same shape (null when there is none).
 */
export async function readMessageDetail(store: MessageStore, message: CapturedMessage, view?: 'decrypted'): Promise<MessageDetail | null> {
  const [read, authentication, protection] = await Promise.all([
    view === 'decrypted' ? store.getDecrypted(message.id) : store.getContent(message.id).then((content) => content && { content, summary: null }),
    message.authentication ? store.getAuthentication(message.id) : null,
    message.protection ? protectionOf(store, message) : null,
  ]);
  if (!read) return null;
  const { content, summary: inner } = read as { content: MessageContent; summary: MessageSummary | null };
  const { authentication: _summary, protection: _protection, ...rest } = message;
  return {
    ...rest,
    ...(inner
      ? {
          from: inner.from,
          to: inner.to,
          cc: inner.cc,
          replyTo: inner.replyTo,
          subject: inner.subject,
          messageId: inner.messageId,
          date: inner.date,
          snippet: inner.snippet,
          attachments: inner.attachments,
        }
      : {}),
    ...(message.authentication ? { authentication: authentication ?? pendingAuthentication() } : {}),
    ...(protection ? { protection } : {}),
    headers: content.headers,
    text: content.text,
    html: content.html,
    links: content.links,
    analysis: analyzeMessage(content) as unknown as Record<string, unknown>,
    parseError: content.parseError,
    truncated: content.truncated,
    ...(inner ? { view: 'decrypted' as const } : {}),
  };
}

import type { CapturedMessage, ServerInfo } from '@mailwright/core';
import type { MessageStore } from '../../store/message-store.js';
import type { Logger } from '../../logger.js';

/** What the compatibility layers need from the server. */
export interface CompatContext {
  store: MessageStore;
  info(): ServerInfo;
  logger: Logger;
}

/**
 * Mailwright's delivery record of a message (how it travelled, and its verdicts), which every
 * message of a compatibility API carries in an extra `Mailwright` field that the clients ignore.
 */
export function deliveryRecord(message: CapturedMessage) {
  return {
    id: message.id,
    seq: message.seq,
    receivedAt: message.receivedAt,
    envelope: message.envelope,
    tls: message.tls,
    auth: message.auth,
    sessionId: message.sessionId,
    listener: message.listener,
    authentication: message.authentication ?? null,
  };
}

import type { Address, CapturedMessage } from '@mailwright/core';
import type { MessageSummary } from '../analysis/parse-message.js';
import type { SummaryField } from './message-store.js';
import { ownString } from './own-string.js';

const address = (entry: Address): Address => ({ name: ownString(entry.name), address: ownString(entry.address) });

/**
 * The summary fields of a message as the store keeps them, for as long as it keeps the
 * message: copies that do not pin the strings they were cut from.
 */
export function storedSummary(summary: MessageSummary): Pick<CapturedMessage, SummaryField> {
  return {
    from: summary.from && address(summary.from),
    to: summary.to.map(address),
    cc: summary.cc.map(address),
    replyTo: summary.replyTo.map(address),
    subject: ownString(summary.subject),
    messageId: summary.messageId === null ? null : ownString(summary.messageId),
    date: summary.date,
    snippet: ownString(summary.snippet),
    attachments: summary.attachments,
  };
}

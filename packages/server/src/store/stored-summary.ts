import type { Address, CapturedMessage } from '@mailwright/core';
import type { MessageSummary } from '../analysis/parse-message.js';
import type { SummaryField } from './message-store.js';
import { ownString, sharedString } from './own-string.js';

const address = (entry: Address): Address => ({ name: sharedString(entry.name), address: sharedString(entry.address) });
/** Shared by every message with an empty list; frozen so that nobody adds to all of them. */
const NONE = Object.freeze([]) as unknown as never[];
const addresses = (list: Address[]): Address[] => (list.length === 0 ? NONE : list.map(address));

/**
 * The summary fields of a message as the store keeps them, for as long as it keeps the
 * message: copies that do not pin the strings they were cut from.
 */
export function storedSummary(summary: MessageSummary): Pick<CapturedMessage, SummaryField> {
  return {
    from: summary.from && address(summary.from),
    to: addresses(summary.to),
    cc: addresses(summary.cc),
    replyTo: addresses(summary.replyTo),
    subject: sharedString(summary.subject),
    messageId: summary.messageId === null ? null : ownString(summary.messageId),
    date: summary.date,
    snippet: ownString(summary.snippet),
    attachments: summary.attachments.length === 0 ? NONE : summary.attachments,
  };
}

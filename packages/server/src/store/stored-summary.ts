import type { Address, CapturedMessage } from '@mailwright/core';
import type { MessageSummary } from '../analysis/parse-message.js';
import { ownString, sharedString } from './own-string.js';

const address = (entry: Address): Address => ({ name: sharedString(entry.name), address: sharedString(entry.address) });
/** Shared by every message with an empty list; frozen so that nobody adds to all of them. */
const NONE = Object.freeze([]) as unknown as never[];
const addresses = (list: Address[]): Address[] => (list.length === 0 ? NONE : list.map(address));

/**
 * Fills the summary fields of a stored message in place, as the store keeps them for as long
 * as it keeps the message: copies that do not pin the strings they were cut from. In place, so
 * that no second object is left behind as garbage among stored ones.
 */
export function fillSummary(message: CapturedMessage, summary: MessageSummary): void {
  message.from = summary.from && address(summary.from);
  message.to = addresses(summary.to);
  message.cc = addresses(summary.cc);
  message.replyTo = addresses(summary.replyTo);
  message.subject = sharedString(summary.subject);
  message.messageId = summary.messageId === null ? null : ownString(summary.messageId);
  message.date = summary.date;
  // Test mail sent from one template often begins alike: the snippet is shared like the subject.
  message.snippet = sharedString(summary.snippet);
  message.attachments = summary.attachments.length === 0 ? NONE : summary.attachments;
}

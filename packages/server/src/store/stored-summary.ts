import type { Address, CapturedMessage } from '@mailwright/core';
import type { MessageSummary } from '../analysis/parse-message.js';
import { ownString, sharedString } from './own-string.js';

/** Shared by every message with an empty list; frozen so that nobody adds to all of them. */
const NONE = Object.freeze([]) as unknown as never[];
const SHARED_LISTS = 1024;
const sharedLists = new Map<string, Address[]>();
/**
 * An address list as the store keeps it: frozen, and shared with every stored message that has
 * the same list while it is among the last {@link SHARED_LISTS} different ones (test mail
 * repeats a few senders and recipients thousands of times; each copy takes ~150 bytes).
 */
function addresses(list: Address[]): Address[] {
  if (list.length === 0) return NONE;
  const key = JSON.stringify(list.map((entry) => [entry.name, entry.address]));
  let kept = sharedLists.get(key);
  if (kept === undefined) {
    kept = Object.freeze(list.map((entry) => Object.freeze({ name: sharedString(entry.name), address: sharedString(entry.address) }))) as Address[];
    if (sharedLists.size >= SHARED_LISTS) sharedLists.delete(sharedLists.keys().next().value as string);
    sharedLists.set(key, kept);
  }
  return kept;
}

/**
 * Fills the summary fields of a stored message in place, as the store keeps them for as long
 * as it keeps the message: copies that do not pin the strings they were cut from. In place, so
 * that no second object is left behind as garbage among stored ones.
 */
export function fillSummary(message: CapturedMessage, summary: MessageSummary): void {
  message.from = summary.from && (addresses([summary.from])[0] as Address);
  message.to = addresses(summary.to);
  message.cc = addresses(summary.cc);
  message.replyTo = addresses(summary.replyTo);
  message.subject = sharedString(summary.subject);
  message.messageId = summary.messageId === null ? null : ownString(summary.messageId);
  message.date = summary.date === null ? null : sharedString(summary.date);
  // Test mail sent from one template often begins alike: the snippet is shared like the subject.
  message.snippet = sharedString(summary.snippet);
  message.attachments = summary.attachments.length === 0 ? NONE : summary.attachments;
}

import type { MessageContent } from '../analysis/parse-message.js';

const HEADER_OVERHEAD_BYTES = 64;

/** About the bytes a parsed message holds: strings at two bytes a character, attachments at their size. */
export function contentBytes(content: MessageContent): number {
  let bytes = ((content.text?.length ?? 0) + (content.html?.length ?? 0)) * 2;
  for (const attachment of content.attachments) bytes += attachment.content.length + HEADER_OVERHEAD_BYTES;
  for (const [name, values] of Object.entries(content.headers)) {
    bytes += name.length * 2;
    for (const value of values) bytes += value.length * 2 + HEADER_OVERHEAD_BYTES;
  }
  return bytes;
}

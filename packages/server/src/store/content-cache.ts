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

/**
 * Parsed messages for the detail views, kept within a byte budget: the most recently used
 * stay, the rest are parsed again from the raw message when needed.
 */
export class ContentCache {
  readonly #budgetBytes: number;
  readonly #contents = new Map<string, { content: MessageContent; bytes: number }>();
  #bytes = 0;

  constructor(budgetBytes: number) {
    this.#budgetBytes = budgetBytes;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  get(id: string): MessageContent | undefined {
    const cached = this.#contents.get(id);
    if (cached === undefined) return undefined;
    // Map order is the recency order.
    this.#contents.delete(id);
    this.#contents.set(id, cached);
    return cached.content;
  }

  /** Keeps a parsed message unless it alone is over the budget. */
  set(id: string, content: MessageContent): void {
    this.delete(id);
    const bytes = contentBytes(content);
    if (bytes > this.#budgetBytes) return;
    this.#contents.set(id, { content, bytes });
    this.#bytes += bytes;
    for (const [oldest, old] of this.#contents) {
      if (this.#bytes <= this.#budgetBytes) break;
      this.#contents.delete(oldest);
      this.#bytes -= old.bytes;
    }
  }

  delete(id: string): void {
    const cached = this.#contents.get(id);
    if (cached === undefined) return;
    this.#contents.delete(id);
    this.#bytes -= cached.bytes;
  }

  clear(): void {
    this.#contents.clear();
    this.#bytes = 0;
  }
}

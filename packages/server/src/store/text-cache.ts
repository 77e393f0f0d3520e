/**
 * Text bodies for the `text` filter, kept within a byte budget: the most recently used
 * stay, the rest are derived again from the raw message when needed.
 */
export class TextCache {
  readonly #budgetBytes: number;
  readonly #texts = new Map<string, string>();
  #bytes = 0;

  constructor(budgetBytes: number) {
    this.#budgetBytes = budgetBytes;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  get(id: string): string | undefined {
    const text = this.#texts.get(id);
    if (text !== undefined) {
      // Map order is the recency order.
      this.#texts.delete(id);
      this.#texts.set(id, text);
    }
    return text;
  }

  set(id: string, text: string): void {
    this.delete(id);
    const size = text.length * 2;
    if (size > this.#budgetBytes) return;
    this.#texts.set(id, text);
    this.#bytes += size;
    for (const [oldest, old] of this.#texts) {
      if (this.#bytes <= this.#budgetBytes) break;
      this.#texts.delete(oldest);
      this.#bytes -= old.length * 2;
    }
  }

  delete(id: string): void {
    const text = this.#texts.get(id);
    if (text === undefined) return;
    this.#texts.delete(id);
    this.#bytes -= text.length * 2;
  }

  clear(): void {
    this.#texts.clear();
    this.#bytes = 0;
  }
}

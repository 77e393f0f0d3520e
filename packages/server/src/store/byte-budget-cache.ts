/**
 * Values derived from stored messages (text bodies, parsed content), kept within a byte
 * budget: the most recently used stay, the rest are derived again when needed.
 */
export class ByteBudgetCache<V> {
  readonly #budgetBytes: number;
  readonly #sizeOf: (value: V) => number;
  readonly #entries = new Map<string, { value: V; bytes: number }>();
  #bytes = 0;

  /** `sizeOf` tells about the bytes one value holds. */
  constructor(budgetBytes: number, sizeOf: (value: V) => number) {
    this.#budgetBytes = budgetBytes;
    this.#sizeOf = sizeOf;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  get(id: string): V | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    // Map order is the recency order.
    this.#entries.delete(id);
    this.#entries.set(id, entry);
    return entry.value;
  }

  /** Keeps a value unless it alone is over the budget; the least recently used go to make room. */
  set(id: string, value: V): void {
    this.delete(id);
    const bytes = this.#sizeOf(value);
    if (bytes > this.#budgetBytes) return;
    this.#entries.set(id, { value, bytes });
    this.#bytes += bytes;
    for (const [oldest, old] of this.#entries) {
      if (this.#bytes <= this.#budgetBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= old.bytes;
    }
  }

  delete(id: string): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    this.#entries.delete(id);
    this.#bytes -= entry.bytes;
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }
}

/** Compaction waits until at least this many slots at the front are free. */
const MIN_COMPACT_SLOTS = 1024;

/**
 * Items in arrival order, the oldest dropped from the front in constant amortized time.
 * `Array#splice(0, n)` and, past about 16,000 items, `Array#shift()` move every other item: at
 * a full store that is tens of microseconds per message. Dropped slots are cleared at once, so
 * that nothing dropped stays reachable until the next compaction.
 */
export class ArrivalQueue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** Items held. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** The item at `index`, the oldest being 0. */
  at(index: number): T | undefined {
    return index < 0 ? undefined : this.#items[this.#head + index];
  }

  push(item: T): void {
    this.#items.push(item);
  }

  /** Removes the oldest `count` items and returns them, oldest first. */
  dropOldest(count: number): T[] {
    const end = Math.min(this.#head + Math.max(0, count), this.#items.length);
    const dropped = this.#items.slice(this.#head, end) as T[];
    this.#items.fill(undefined, this.#head, end);
    this.#head = end;
    if (this.#head >= MIN_COMPACT_SLOTS && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return dropped;
  }

  /** A copy of the items from `index` on, oldest first. */
  toArray(index = 0): T[] {
    return this.#items.slice(this.#head + Math.max(0, index)) as T[];
  }

  /** Replaces every item (e.g. with a filtered copy of {@link toArray}). */
  replace(items: T[]): void {
    this.#items = items;
    this.#head = 0;
  }

  clear(): void {
    this.replace([]);
  }
}

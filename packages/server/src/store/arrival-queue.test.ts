import { describe, expect, it } from 'vitest';
import { ArrivalQueue } from './arrival-queue.js';

describe('ArrivalQueue', () => {
  it('drops the oldest items in order, across compactions, and holds the rest in arrival order', () => {
    const queue = new ArrivalQueue<number>();
    const model: number[] = [];
    let next = 0;
    // Enough drops that the front is compacted several times, with pushes in between.
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 50; i++) {
        queue.push(next);
        model.push(next++);
      }
      const count = round % 7 === 0 ? 60 : 37;
      expect(queue.dropOldest(count)).toEqual(model.splice(0, count));
      expect(queue.length).toBe(model.length);
      expect(queue.at(0)).toBe(model[0]);
      expect(queue.at(queue.length - 1)).toBe(model.at(-1));
    }
    expect(queue.toArray()).toEqual(model);
    expect(queue.toArray(5)).toEqual(model.slice(5));
    expect(queue.at(-1)).toBeUndefined();
    expect(queue.at(queue.length)).toBeUndefined();
  });

  it('drops no more than it holds, and nothing for a count of zero or less', () => {
    const queue = new ArrivalQueue<string>();
    queue.push('a');
    queue.push('b');
    expect(queue.dropOldest(0)).toEqual([]);
    expect(queue.dropOldest(-3)).toEqual([]);
    expect(queue.dropOldest(5)).toEqual(['a', 'b']);
    expect(queue.length).toBe(0);
    queue.push('c');
    expect(queue.toArray()).toEqual(['c']);
  });

  it('is replaced and cleared as a whole', () => {
    const queue = new ArrivalQueue<number>();
    for (let i = 0; i < 10; i++) queue.push(i);
    queue.dropOldest(4);
    queue.replace(queue.toArray().filter((n) => n % 2 === 0));
    expect(queue.toArray()).toEqual([4, 6, 8]);
    expect(queue.at(0)).toBe(4);
    queue.clear();
    expect(queue.length).toBe(0);
    expect(queue.toArray()).toEqual([]);
  });
});

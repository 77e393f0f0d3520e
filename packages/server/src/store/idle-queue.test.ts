import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createIdleQueue } from './idle-queue.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate', 'performance'] });
});

afterEach(() => {
  vi.useRealTimers();
});

function recordingQueue(limit = 100) {
  const done: number[] = [];
  const queue = createIdleQueue<number>(
    async (item) => {
      done.push(item);
    },
    { quietMs: 100, limit },
  );
  return { queue, done };
}

describe('createIdleQueue', () => {
  it('works only once nothing was pushed for the quiet time, then on every item in order', async () => {
    const { queue, done } = recordingQueue();
    for (let i = 1; i <= 5; i++) {
      queue.push(i);
      await vi.advanceTimersByTimeAsync(60);
    }
    expect(done).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    await vi.runAllTimersAsync();
    expect(done).toEqual([1, 2, 3, 4, 5]);
    expect(queue.size).toBe(0);
  });

  it('pauses when an item arrives while it works, and goes on after the next quiet time', async () => {
    const { queue, done } = recordingQueue();
    queue.push(1);
    queue.push(2);
    queue.push(3);
    await vi.advanceTimersByTimeAsync(100);
    // The first item is worked on; the yield before the next lets this push in.
    queue.push(4);
    await vi.advanceTimersByTimeAsync(50);
    expect(done.length).toBeLessThan(4);
    await vi.runAllTimersAsync();
    expect(done).toEqual([1, 2, 3, 4]);
  });

  it('keeps at most `limit` items, dropping the oldest, and drops everything on clear', async () => {
    const { queue, done } = recordingQueue(3);
    for (let i = 1; i <= 10; i++) queue.push(i);
    expect(queue.size).toBe(3);
    await vi.runAllTimersAsync();
    expect(done).toEqual([8, 9, 10]);
    queue.push(11);
    queue.clear();
    await vi.runAllTimersAsync();
    expect(done).toEqual([8, 9, 10]);
  });
});

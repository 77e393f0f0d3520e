import { describe, expect, it } from 'vitest';
import { createJobQueue } from './job-queue.js';

/** A job that finishes when told to. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('createJobQueue', () => {
  it('runs at most `concurrency` jobs at once, in order, and resolves idle() when all are done', async () => {
    const gates = new Map<number, ReturnType<typeof gate>>();
    const started: number[] = [];
    const queue = createJobQueue<number>({
      concurrency: 2,
      maxQueue: 10,
      run: (item) => {
        started.push(item);
        const g = gate();
        gates.set(item, g);
        return g.promise;
      },
      overflow: () => undefined,
      failed: () => undefined,
    });
    await queue.idle();
    for (const item of [1, 2, 3, 4]) queue.push(item);
    expect(started).toEqual([1, 2]);
    let idle = false;
    const done = queue.idle().then(() => (idle = true));
    gates.get(1)!.open();
    await expect.poll(() => started).toEqual([1, 2, 3]);
    for (const item of [2, 3]) gates.get(item)!.open();
    await expect.poll(() => started).toEqual([1, 2, 3, 4]);
    expect(idle).toBe(false);
    gates.get(4)!.open();
    await done;
    expect(idle).toBe(true);
  });

  it('hands the oldest waiting job to overflow beyond maxQueue, and a rejected one to failed', async () => {
    const overflowed: number[] = [];
    const failed: [string, number][] = [];
    const hold = gate();
    const queue = createJobQueue<number>({
      concurrency: 1,
      maxQueue: 2,
      run: async (item) => {
        if (item === 1) await hold.promise;
        if (item === 4) throw new Error('broken');
      },
      overflow: (item) => overflowed.push(item),
      failed: (error, item) => failed.push([(error as Error).message, item]),
    });
    for (const item of [1, 2, 3, 4]) queue.push(item);
    // 1 runs; 2, 3, 4 wait, one over the bound: the oldest waiting, 2, never runs.
    expect(overflowed).toEqual([2]);
    hold.open();
    await queue.idle();
    expect(failed).toEqual([['broken', 4]]);
  });
});

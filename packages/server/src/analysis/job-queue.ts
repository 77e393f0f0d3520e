/** Options of {@link createJobQueue}. */
export interface JobQueueOptions<T> {
  /** Jobs run at once. */
  concurrency: number;
  /** Jobs waiting; beyond it the oldest waiting one is handed to {@link overflow} instead of run. */
  maxQueue: number;
  /** Runs one job; a rejection goes to {@link failed}. */
  run(item: T): Promise<unknown>;
  /** A job the bound pushed out, never run: record why, at once. */
  overflow(item: T): void;
  /** A job that rejected. */
  failed(error: unknown, item: T): void;
}

/** A bounded first-in, first-out queue of jobs, a few run at once. */
export interface JobQueue<T> {
  /** Queues a job; returns at once. */
  push(item: T): void;
  /** Resolves once nothing is queued or running. */
  idle(): Promise<void>;
}

/** Creates a {@link JobQueue}: what the verdict and protection jobs after the `250` are worked through with. */
export function createJobQueue<T>(options: JobQueueOptions<T>): JobQueue<T> {
  const queue: T[] = [];
  let head = 0;
  let running = 0;
  const idleWaiters: (() => void)[] = [];
  const isIdle = (): boolean => running === 0 && head >= queue.length;

  function pump(): void {
    while (running < options.concurrency && head < queue.length) {
      const item = queue[head] as T;
      head += 1;
      running += 1;
      options
        .run(item)
        .catch((error: unknown) => options.failed(error, item))
        .finally(() => {
          running -= 1;
          pump();
        });
    }
    // Taken jobs are dropped from the front now and then, not one by one.
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    if (isIdle()) for (const resolve of idleWaiters.splice(0)) resolve();
  }

  return {
    push(item) {
      queue.push(item);
      if (queue.length - head > options.maxQueue) {
        const dropped = queue[head] as T;
        head += 1;
        options.overflow(dropped);
      }
      pump();
    },
    idle: () => (isIdle() ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
  };
}

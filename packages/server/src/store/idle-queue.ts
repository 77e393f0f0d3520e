/** Work deferred until a stream of arrivals pauses. */
export interface IdleQueue<T> {
  /** Queues an item and postpones the work: it starts once nothing was pushed for the quiet time. */
  push(item: T): void;
  /** Drops every queued item. */
  clear(): void;
  /** Items still waiting. */
  readonly size: number;
}

/**
 * Runs `work` on queued items one at a time, but only after `quietMs` without a new item,
 * and yields to I/O between items; a new item pauses it again. During a burst the queue only
 * grows (up to `limit` items, the oldest dropped beyond), so the burst is served at full
 * speed; the deferred work is done once it is over. Its timers never keep the process alive.
 */
export function createIdleQueue<T>(work: (item: T) => Promise<void>, options: { quietMs: number; limit: number }): IdleQueue<T> {
  const { quietMs, limit } = options;
  // A slot is emptied as soon as its item is taken or dropped: the queue holds nothing it is done with.
  let items: (T | undefined)[] = [];
  let next = 0;
  let lastPushAt = 0;
  let timer: NodeJS.Timeout | null = null;
  let running = false;

  // A pending timer is left alone on a push (re-arming it costs more than the push): when it
  // fires, `run` sees how long ago the last push was and waits for the rest of the quiet time.
  const schedule = (delayMs: number): void => {
    timer ??= setTimeout(run, delayMs).unref();
  };

  function take(): T {
    const item = items[next] as T;
    items[next++] = undefined;
    return item;
  }

  async function run(): Promise<void> {
    timer = null;
    if (running) return;
    running = true;
    try {
      while (next < items.length) {
        const quietFor = performance.now() - lastPushAt;
        if (quietFor < quietMs) return schedule(quietMs - quietFor);
        await work(take()).catch(() => undefined);
        await new Promise((resolve) => setImmediate(resolve).unref());
      }
      items = [];
      next = 0;
    } finally {
      running = false;
    }
  }

  return {
    push(item) {
      items.push(item);
      if (items.length - next > limit) take();
      if (next > limit) {
        items = items.slice(next);
        next = 0;
      }
      lastPushAt = performance.now();
      if (!running) schedule(quietMs);
    },
    clear() {
      items = [];
      next = 0;
    },
    get size() {
      return items.length - next;
    },
  };
}

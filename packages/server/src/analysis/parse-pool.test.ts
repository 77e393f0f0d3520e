import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { threadId, type Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createParsePool, isPoolUnavailable, type ParsePool } from './parse-pool.js';
import { headersSummary, readMessageContent, summarizeOffThread, summarizeWithMailparser, WORKER_SUMMARY_MIN_BYTES } from './parse-message.js';
import { contentReader, MAIN_THREAD_CONTENT_MAX_BYTES } from './content-reader.js';
import { createMemoryStore } from '../store/memory-store.js';
import { newMessage } from '../test-support/new-message.js';

const MESSAGE = Buffer.from(
  'From: a@app.test\r\nSubject: with attachment\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
    '--b\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>there</b></p>\r\n' +
    '--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="../x.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--b--\r\n',
);

/** An HTML message of about `bytes` bytes, mostly markup. */
function htmlMessage(bytes: number): Buffer {
  const row = '<tr><td><a href="https://example.test/x">link</a></td><td><span style="color:red">cell</span></td></tr>';
  return Buffer.from(
    `From: a@app.test\r\nSubject: big\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<table>${row.repeat(Math.ceil(bytes / row.length))}</table>\r\n`,
  );
}

/**
 * A small HTML message of very many elements: its parse needs far more heap than its size, in
 * small allocations, so that a worker's heap limit ends the worker and not the whole process
 * (Node's limit is best-effort: one large allocation past it can abort the process).
 */
function manyElements(bytes: number): Buffer {
  return Buffer.from(`From: a@app.test\r\nSubject: elements\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${'<i>x</i>'.repeat(bytes / 8)}\r\n`);
}

/** A pool whose first parse times out at once and whose later ones have all the time they need. */
function poolTimingOutFirst(): ParsePool {
  let parses = 0;
  return createParsePool({
    workers: 1,
    // Read as each parse starts.
    get parseTimeoutMs() {
      parses += 1;
      return parses === 1 ? 1 : 600_000;
    },
  });
}

let pool: ParsePool | undefined;
const extra: ParsePool[] = [];
afterEach(async () => {
  await pool?.close();
  pool = undefined;
  await Promise.all(extra.splice(0).map((other) => other.close()));
});

describe('the parse pool', () => {
  it('parses in a worker thread exactly what the main thread would, attachments included', async () => {
    const threads: number[] = [];
    pool = createParsePool({ workers: 1, onParsed: (id) => threads.push(id) });
    const copy = Buffer.from(MESSAGE);
    const content = await pool.readContent(copy);
    expect(threads).toHaveLength(1);
    expect(threads[0]).not.toBe(threadId);
    expect(content).toEqual(await readMessageContent(MESSAGE));
    expect(Buffer.isBuffer(content.attachments[0]?.content)).toBe(true);
    expect([...(content.attachments[0]?.content ?? [])]).toEqual([0, 1, 2, 3, 4, 5]);
    // The caller's bytes are copied, not moved.
    expect(copy.equals(MESSAGE)).toBe(true);
  });

  it('summarizes large messages in a worker, as mailparser does here, and small ones here', async () => {
    const threads: number[] = [];
    pool = createParsePool({ workers: 1, onParsed: (id) => threads.push(id) });
    const large = Buffer.concat([
      MESSAGE.subarray(0, MESSAGE.indexOf('--b--')),
      Buffer.from(`--b\r\nContent-Type: text/plain\r\n\r\n${'word '.repeat(WORKER_SUMMARY_MIN_BYTES / 5)}\r\n--b--\r\n`),
    ]);
    const inWorker = pool.summarize.bind(pool);
    expect(await summarizeOffThread(large, inWorker)).toEqual(await summarizeWithMailparser(large));
    expect(threads).toHaveLength(1);
    expect(threads[0]).not.toBe(threadId);
    expect(await summarizeOffThread(MESSAGE, inWorker)).toEqual(await summarizeWithMailparser(MESSAGE));
    expect(threads).toHaveLength(1);
  });

  it('refuses work beyond its queue with BUSY, and finishes what it accepted', async () => {
    pool = createParsePool({ workers: 1, maxQueue: 2 });
    const accepted = [pool.readContent(MESSAGE), pool.readContent(MESSAGE), pool.readContent(MESSAGE)];
    await expect(pool.readContent(MESSAGE)).rejects.toMatchObject({ code: 'BUSY', statusCode: 503 });
    for (const content of await Promise.all(accepted)) expect(content.headers.subject).toEqual(['with attachment']);
  });

  it('fails a parse that takes too long', async () => {
    pool = createParsePool({ workers: 1, parseTimeoutMs: 1 });
    const huge = Buffer.from(`Subject: big\r\nContent-Type: text/html\r\n\r\n${'<p>x</p>'.repeat(500_000)}\r\n`);
    await expect(pool.readContent(huge)).rejects.toThrow(/took over 1 ms/);
  });

  it('hands the next parse to a new worker once one timed out, not to the worker being ended', async () => {
    pool = poolTimingOutFirst();
    const huge = htmlMessage(4_000_000);
    const failure: unknown = await pool.readContent(huge).catch((error: unknown) => error);
    expect(failure).toMatchObject({ message: expect.stringMatching(/took over 1 ms/) });
    expect(isPoolUnavailable(failure)).toBe(false);
    // Asked for at once, before the ended worker has exited.
    const content = await pool.readContent(MESSAGE);
    expect(content.parseError).toBeNull();
    expect(content.headers.subject).toEqual(['with attachment']);
  });

  it('remembers a message that failed in its worker, and never a failure for want of a worker', async () => {
    const closed = createParsePool({ workers: 1 });
    await closed.close();
    let current: ParsePool = closed;
    pool = poolTimingOutFirst();
    const failures: unknown[] = [];
    const store = createMemoryStore({
      readPolicy: 'when-followed',
      maxMessages: 10,
      maxSessions: 10,
      summarize: async () => headersSummary(MESSAGE),
      readContent: contentReader({ readContent: (raw) => current.readContent(raw) }, (error) => failures.push(error)),
    });
    const healthy = await store.addMessage(newMessage({ raw: MESSAGE, size: MESSAGE.length }));
    await expect(store.getContent(healthy.id)).rejects.toMatchObject({ statusCode: 503, message: 'The parse pool is closed' });
    current = pool;
    const huge = htmlMessage(4_000_000);
    const slow = await store.addMessage(newMessage({ raw: huge, size: huge.length }));
    // The first parse of the working pool times out: that message is shown unparsable, and stays so.
    const unparsable = await store.getContent(slow.id);
    expect(unparsable?.parseError).toMatch(/took over 1 ms/);
    expect(await store.getContent(slow.id)).toBe(unparsable);
    expect(failures).toHaveLength(1);
    // The healthy message is read again, not answered from a cached failure.
    const content = await store.getContent(healthy.id);
    expect(content?.parseError).toBeNull();
    expect(content?.headers.subject).toEqual(['with attachment']);
  });

  it('parses a 20 MB HTML message within the default heap', async () => {
    pool = createParsePool({ workers: 1 });
    const content = await pool.readContent(htmlMessage(20_000_000));
    expect(content.parseError).toBeNull();
    expect(content.html?.length).toBeGreaterThan(20_000_000);
    expect(content.text).toContain('link');
  });

  it('replaces a worker that ran out of memory, and reports that message alone as failed', async () => {
    pool = createParsePool({ workers: 1, maxHeapMb: 32 });
    const failure: unknown = await pool.readContent(manyElements(3_000_000)).catch((error: unknown) => error);
    expect(failure).toMatchObject({ message: 'The parser ran out of memory (its heap is 32 MB)' });
    expect(isPoolUnavailable(failure)).toBe(false);
    const failures: unknown[] = [];
    const read = contentReader(pool, (error) => failures.push(error));
    const shown = await read(manyElements(3_000_000));
    expect(shown.parseError).toMatch(/ran out of memory/);
    expect(shown.headers.subject).toEqual(['elements']);
    expect(failures).toHaveLength(1);
    const content = await read(MESSAGE);
    expect(content.parseError).toBeNull();
    expect(content.headers.subject).toEqual(['with attachment']);
  });

  it('summarizes a large message from its headers when its worker fails, without parsing it here', async () => {
    pool = poolTimingOutFirst();
    const large = Buffer.concat([
      MESSAGE.subarray(0, MESSAGE.indexOf('--b--')),
      Buffer.from(`--b\r\nContent-Type: text/plain\r\n\r\n${'word '.repeat(WORKER_SUMMARY_MIN_BYTES / 5)}\r\n--b--\r\n`),
    ]);
    const failures: unknown[] = [];
    const summary = await summarizeOffThread(large, pool.summarize.bind(pool), (error) => failures.push(error));
    expect(summary).toEqual(headersSummary(large));
    expect(summary).toMatchObject({ subject: 'with attachment', snippet: '', text: '' });
    expect(failures).toEqual([expect.objectContaining({ message: expect.stringMatching(/took over 1 ms/) })]);
    // A full queue, too.
    const busy = createParsePool({ maxQueue: 0 });
    extra.push(busy);
    expect(await summarizeOffThread(large, busy.summarize.bind(busy))).toEqual(headersSummary(large));
    // The next one goes to a new worker and is summarized in full.
    expect(await summarizeOffThread(large, pool.summarize.bind(pool))).toEqual(await summarizeWithMailparser(large));
  });

  it('ends a worker left idle for idleMs, and starts a new one for the next parse', async () => {
    const threads: number[] = [];
    pool = createParsePool({ workers: 1, idleMs: 20, onParsed: (id) => threads.push(id) });
    await pool.readContent(MESSAGE);
    // Each parse restarts the idle time: a parse on another thread shows the first one was ended.
    await expect.poll(async () => (await pool?.readContent(MESSAGE), threads.at(-1)), { interval: 100, timeout: 10_000 }).not.toBe(threads[0]);
  });

  it('keeps a worker that is not idle for idleMs', async () => {
    const threads: number[] = [];
    pool = createParsePool({ workers: 1, idleMs: 600_000, onParsed: (id) => threads.push(id) });
    for (let index = 0; index < 3; index++) await pool.readContent(MESSAGE);
    expect(new Set(threads).size).toBe(1);
  });

  it('runs its workers at the nice value asked for (Linux: a thread’s own)', async () => {
    const nicenessOfThreads = (): number[] =>
      readdirSync('/proc/self/task').map((task) =>
        Number(
          readFileSync(`/proc/self/task/${task}/stat`, 'utf8')
            .replace(/^.*\) /s, '')
            .split(' ')[16],
        ),
      );
    const own = getPriority();
    expect(nicenessOfThreads()).not.toContain(own + 7);
    pool = createParsePool({ workers: 1, niceness: own + 7 });
    await pool.readContent(MESSAGE);
    expect(nicenessOfThreads()).toContain(own + 7);
    // The process's main thread keeps its own.
    expect(getPriority()).toBe(own);
  });
});

describe('worker heap', () => {
  it('gives each worker the young generation it is asked for', async () => {
    const limits: (number | undefined)[] = [];
    const onWorker = (worker: Worker): void => {
      limits.push(worker.resourceLimits?.maxYoungGenerationSizeMb);
    };
    process.on('worker', onWorker);
    const pool = createParsePool({ workers: 1, youngHeapMb: 2 });
    try {
      await pool.summarize(Buffer.from('Subject: young\r\n\r\nhi\r\n'));
    } finally {
      process.off('worker', onWorker);
      await pool.close();
    }
    expect(limits).toEqual([2]);
  });
});

describe('contentReader', () => {
  const simple = (text: string): Buffer =>
    Buffer.from(`From: Ann <ann@example.com>\r\nTo: bob@example.net\r\nSubject: simple\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n`);

  it('parses a small message of a simple shape here, as the worker parses it, and the rest in the pool', async () => {
    pool = createParsePool({ workers: 1 });
    const real = pool;
    const inPool: number[] = [];
    const read = contentReader(
      {
        readContent: (raw) => {
          inPool.push(raw.length);
          return real.readContent(raw);
        },
      },
      () => undefined,
    );
    const small = simple('See https://example.com/a for more.');
    const content = await read(small);
    expect(inPool).toEqual([]);
    expect(content).toEqual(await real.readContent(small));
    expect(content).toMatchObject({ text: 'See https://example.com/a for more.\n', parseError: null });
    expect(JSON.stringify(content)).toBe(JSON.stringify(await real.readContent(small)));
    // Large, or of another shape (an attachment): in the pool.
    const large = simple('word '.repeat(MAIN_THREAD_CONTENT_MAX_BYTES / 5));
    await read(large);
    await read(MESSAGE);
    expect(inPool).toEqual([large.length, MESSAGE.length]);
  });
});

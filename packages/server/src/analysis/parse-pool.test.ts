import { threadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { createParsePool, type ParsePool } from './parse-pool.js';
import { readMessageContent, summarizeOffThread, summarizeWithMailparser, WORKER_SUMMARY_MIN_BYTES } from './parse-message.js';

const MESSAGE = Buffer.from(
  'From: a@app.test\r\nSubject: with attachment\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
    '--b\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>there</b></p>\r\n' +
    '--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="../x.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQF\r\n--b--\r\n',
);

let pool: ParsePool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
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
});

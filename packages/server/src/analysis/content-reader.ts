import { readMessageContent, unparsableContent, type MessageContent } from './parse-message.js';
import { isPoolUnavailable, type ParsePool } from './parse-pool.js';
import type * as FastSummaryModule from './summarize-fast.js';

/** The fast summary's libraries (libmime and its charset tables) wait for the first message read. */
let fastSummary: typeof FastSummaryModule | undefined;

/**
 * Messages smaller than this, of a shape the fast summary reads (one text part, or text and
 * HTML alternatives), are parsed on the calling thread: well under a millisecond, where
 * handing them to a worker and back costs more than the parse, and more still on a busy
 * machine, where the worker waits to be scheduled. Everything else is parsed in the pool.
 */
export const MAIN_THREAD_CONTENT_MAX_BYTES = 64 * 1024;

/**
 * Reads messages' content: small simple messages on this thread, the rest in `pool`. A parse
 * that failed because of its message (it ran out of time or memory in its worker) is shown
 * like any unparsable message, and may be cached; a failure for want of a worker (a full
 * queue, a closed pool, a worker ended under it) is thrown as it is (503), so that nothing
 * caches it and the next read tries again.
 */
export function contentReader(pool: Pick<ParsePool, 'readContent'>, onFailure: (error: unknown) => void): (raw: Buffer) => Promise<MessageContent> {
  const read = async (raw: Buffer): Promise<MessageContent> => {
    if (raw.length >= MAIN_THREAD_CONTENT_MAX_BYTES) return pool.readContent(raw);
    fastSummary ??= await import('./summarize-fast.js');
    return fastSummary.summarizeFast(raw) !== null ? readMessageContent(raw) : pool.readContent(raw);
  };
  return (raw) =>
    read(raw).catch((error: unknown) => {
      if (isPoolUnavailable(error)) throw error;
      onFailure(error);
      return unparsableContent(raw, error instanceof Error ? error.message : String(error));
    });
}

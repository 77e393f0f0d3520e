import { unparsableContent, type MessageContent } from './parse-message.js';
import { isPoolUnavailable, type ParsePool } from './parse-pool.js';

/**
 * Reads messages' content in `pool`. A parse that failed because of its message (it ran out of
 * time or memory in its worker) is shown like any unparsable message, and may be cached; a
 * failure for want of a worker (a full queue, a closed pool, a worker ended under it) is thrown
 * as it is (503), so that nothing caches it and the next read tries again.
 */
export function contentReader(pool: Pick<ParsePool, 'readContent'>, onFailure: (error: unknown) => void): (raw: Buffer) => Promise<MessageContent> {
  return (raw) =>
    pool.readContent(raw).catch((error: unknown) => {
      if (isPoolUnavailable(error)) throw error;
      onFailure(error);
      return unparsableContent(raw, error instanceof Error ? error.message : String(error));
    });
}

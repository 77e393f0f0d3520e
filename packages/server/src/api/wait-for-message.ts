import type { IncomingMessage } from 'node:http';
import { compileFilter, hasVerdictFilter, isEmptyFilter, type CapturedMessage, type FilterSubject, type MessageFilter } from '@mailwright/core';
import type { MessageStore } from '../store/message-store.js';

/**
 * Resolves with the first message matching `filter` with `seq > after`, whether it is
 * already stored or arrives within `timeoutMs`; null on timeout, 'aborted' when the
 * client went away.
 */
export function waitForMessage(
  store: MessageStore,
  filter: MessageFilter,
  after: number,
  timeoutMs: number,
  request: IncomingMessage,
): Promise<CapturedMessage | null | 'aborted'> {
  const matcher = isEmptyFilter(filter) ? null : compileFilter(filter);
  return new Promise((resolve, reject) => {
    let done = false;
    // Until the stored messages have been looked at, a live match may not be the first one: the
    // lookup may still be reading an older message that matches too.
    let looking = true;
    let earliestLive: CapturedMessage | null = null;
    const finish = (result: CapturedMessage | null | 'aborted'): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      store.off('message', onMessage);
      store.off('authentication', onVerdicts);
      store.off('protection', onVerdicts);
      following.close();
      request.off('close', onClose);
      resolve(result);
    };
    const onMessage = (message: CapturedMessage, subject: FilterSubject): void => {
      if (message.seq <= after || (matcher && !matcher(subject))) return;
      if (!looking) finish(message);
      else if (earliestLive === null || message.seq < earliestLive.seq) earliestLive = message;
    };
    // A message matches a verdict filter only once its verdicts are done, after it arrived.
    const onVerdicts = (message: CapturedMessage): void => onMessage(message, { message });
    const onClose = (): void => finish('aborted');
    // Follow first, then look at what is stored: nothing can slip in between.
    const following = store.follow();
    store.on('message', onMessage);
    if (hasVerdictFilter(filter)) {
      store.on('authentication', onVerdicts);
      store.on('protection', onVerdicts);
    }
    request.once('close', onClose);
    const timer = setTimeout(() => finish(null), timeoutMs);
    timer.unref();
    store.messagesAfter(after, filter, 1).then((stored) => {
      looking = false;
      const first = stored[0] ?? earliestLive;
      if (first) finish(first);
    }, reject);
  });
}

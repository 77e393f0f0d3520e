import { ErrorCode, MailwrightError, type ApiClient, type CapturedMessage, type MessageDetail } from '@mailwright/core';
import type { StreamClient } from './stream-client.js';
import { describeFilter, toWireFilter, type MessageFilterInput } from './message-filter-input.js';
import { receiveFrameMessage, type ReceivedMessage } from './received-message.js';

/** Default time to wait for mail. */
export const DEFAULT_WAIT_TIMEOUT_MS = 10_000;
const ARRIVED_SHOWN = 20;

/** A filter plus how long to wait. */
export interface WaitOptions extends MessageFilterInput {
  /** Milliseconds; default 10000. */
  timeout?: number;
  /** Only messages with `seq > since`; default 0 (mail that arrived before the call counts). */
  since?: number;
}

/** Splits wait options into the filter and the rest. */
export function splitWaitOptions(options: WaitOptions): { filter: MessageFilterInput; timeout: number; since: number } {
  const { timeout = DEFAULT_WAIT_TIMEOUT_MS, since = 0, ...filter } = options;
  return { filter, timeout, since };
}

function describeArrived(messages: CapturedMessage[], total: number): string {
  if (messages.length === 0) return 'No message arrived in that scope.';
  const lines = messages.map(
    (message) =>
      `  #${message.seq} "${message.subject}" to ${message.envelope.rcptTo.join(', ')} (${message.tls.mode === 'none' ? 'plaintext' : `${message.tls.mode} ${message.tls.protocol ?? ''}`.trim()})`,
  );
  return `What did arrive (${total}${total > messages.length ? `, newest ${messages.length} shown` : ''}):\n${lines.join('\n')}`;
}

/**
 * Waits for `count` messages matching `filter`, riding the stream with replay: mail that
 * arrived before the call counts, and nothing is polled. On timeout it rejects with a
 * `WAIT_TIMEOUT` error listing what did arrive in `scope` (e.g. the inbox).
 */
export async function waitForMessages(
  http: ApiClient,
  stream: StreamClient,
  count: number,
  options: WaitOptions,
  scope: MessageFilterInput = {},
): Promise<ReceivedMessage[]> {
  const { filter, timeout, since } = splitWaitOptions(options);
  const wire = toWireFilter({ ...scope, ...filter });
  const found: (CapturedMessage | MessageDetail)[] = [];
  let subscription: ReturnType<StreamClient['subscribe']> | undefined;
  const matched = await new Promise<(CapturedMessage | MessageDetail)[] | null>((resolve, reject) => {
    const timer = setTimeout(() => resolve(null), timeout);
    timer.unref();
    subscription = stream.subscribe(
      // The frames carry the detail: the message resolves without a second request.
      { filter: wire, since, detail: true },
      {
        onMessage(message) {
          found.push(message);
          if (found.length === count) {
            clearTimeout(timer);
            resolve(found.slice());
          }
        },
        onError(error) {
          clearTimeout(timer);
          reject(new MailwrightError(error.code as ErrorCode, error.message));
        },
        onClosed() {
          clearTimeout(timer);
          reject(new MailwrightError(ErrorCode.CLIENT_CLOSED, 'The Mailwright client was closed while waiting for mail'));
        },
      },
    );
  }).finally(() => subscription?.close());

  if (matched) return Promise.all(matched.map((message) => receiveFrameMessage(http, message)));

  const arrived = await http
    .json<{ messages: CapturedMessage[]; total: number }>('GET', '/messages', { query: { ...toWireFilter(scope), after: since, limit: ARRIVED_SHOWN } })
    .catch(() => null);
  const streamProblem = stream.lastError ? `\nStream: ${stream.lastError}` : '';
  throw new MailwrightError(
    ErrorCode.WAIT_TIMEOUT,
    `Timed out after ${timeout} ms waiting for ${count === 1 ? 'a message' : `${count} messages (got ${found.length})`} matching ${describeFilter({ ...scope, ...filter })}.\n${
      arrived ? describeArrived(arrived.messages, arrived.total) : 'Could not list what arrived.'
    }${streamProblem}`,
    { details: { matched: found, arrived: arrived?.messages ?? [] } },
  );
}

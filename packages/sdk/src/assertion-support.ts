import { AssertionError } from 'node:assert';
import { ErrorCode, MailwrightError } from '@mailwright/core';

/** How a message is named in assertion messages: `message #12 "Subject"`. */
export function label(message: { seq?: number; subject: string }): string {
  return `message${message.seq === undefined ? '' : ` #${message.seq}`} "${message.subject}"`;
}

/** A value as assertion messages show it: indented JSON, patterns as written. */
export function show(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (item instanceof RegExp ? String(item) : item), 2)
    .split('\n')
    .join('\n    ');
}

/** Throws an AssertionError whose message shows expected and actual side by side. */
export function fail(summary: string, expected: unknown, actual: unknown, operator: string): never {
  throw new AssertionError({
    message: `${summary}\n  expected: ${show(expected)}\n  actual:   ${show(actual)}`,
    expected,
    actual,
    operator,
  });
}

/** A record the server completes after a message's `250` (verdicts, protection), as a message carries it. */
export interface LateRecordSource<R> {
  /** What the message carries: the whole record, its summary, or nothing. */
  record: unknown;
  /** The whole record, done. */
  isComplete(record: unknown): record is R;
  /** Waits (bounded) for the whole record; absent on a message that cannot fetch it. */
  wait?: (options: { timeout?: number }) => Promise<R>;
  /** Why a done summary cannot be judged; why a pending or missing record cannot be waited for. */
  says: { summaryOnly: string; pending: string; missing: string; waits: string };
}

/**
 * The whole record, waiting (bounded) while it is pending. When there is nothing to judge it
 * throws a `MailwrightError`, not an `AssertionError`, so that a negated matcher cannot pass
 * for want of a record.
 */
export async function completeRecordOf<R>(
  message: { seq?: number; subject: string },
  check: string,
  source: LateRecordSource<R>,
  timeout: number | undefined,
): Promise<R> {
  const { record, says } = source;
  if (source.isComplete(record)) return record;
  const cannot = (why: string, code: ErrorCode = ErrorCode.INVALID_REQUEST, cause?: unknown): never => {
    throw new MailwrightError(code, `Cannot check ${check} of ${label(message)}: ${why}.`, { cause });
  };
  if ((record as { status?: string } | null | undefined)?.status === 'done') cannot(`${says.summaryOnly} (use a message from waitForMessage or messages.get)`);
  if (!source.wait) return cannot(`${record ? says.pending : says.missing} (use a message from waitForMessage or messages.get, which ${says.waits})`);
  try {
    return await source.wait({ timeout });
  } catch (error) {
    return cannot((error as Error).message, ErrorCode.WAIT_TIMEOUT, error);
  }
}

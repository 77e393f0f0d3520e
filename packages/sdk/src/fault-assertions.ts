import { AssertionError } from 'node:assert';
import type { CapturedMessage, FaultStage, SmtpSession } from '@mailwright/core';

/** What the retry assertions look at: a received message (from `waitForMessage` or `messages.get`). */
export interface RetriedMessage {
  seq?: number;
  subject: string;
  messageId: string | null;
  failedAttempts(): Promise<SmtpSession[]>;
  copies(): Promise<CapturedMessage[]>;
}

/** Expectations of {@link assertRetried}. */
export interface RetryExpectation {
  /** The stage the failed attempts were failed at (`rcpt`, `data`, …); default any. */
  after?: FaultStage;
  /** Exactly this many failed attempts; default at least one. */
  times?: number;
}

function fail(summary: string, expected: unknown, actual: unknown, operator: string): never {
  throw new AssertionError({
    message: `${summary}\n  expected: ${JSON.stringify(expected)}\n  actual:   ${JSON.stringify(actual)}`,
    expected,
    actual,
    operator,
  });
}

function name(message: RetriedMessage): string {
  return `message${message.seq === undefined ? '' : ` #${message.seq}`} "${message.subject}"`;
}

/**
 * Asserts the message arrived after at least one attempt a fault rule failed (at the stage
 * `after`, when given; exactly `times` of them, when given): the sender retried.
 */
export async function assertRetried(message: RetriedMessage, expected: RetryExpectation = {}): Promise<void> {
  const attempts = await message.failedAttempts();
  const matching = attempts.filter((session) => expected.after === undefined || (session.faults ?? []).some((fault) => fault.at === expected.after));
  const ok = expected.times === undefined ? matching.length > 0 : matching.length === expected.times;
  if (!ok) {
    fail(
      `Expected ${name(message)} to have been retried${expected.after === undefined ? '' : ` after a failure at ${expected.after}`}${
        expected.times === undefined ? '' : ` ${expected.times} time(s)`
      }, but ${matching.length} such failed attempt(s) came before it.`,
      { after: expected.after ?? 'any', times: expected.times ?? 'at least 1' },
      attempts.map((session) => ({
        session: session.id,
        faults: (session.faults ?? []).map((fault) => `${fault.rule}@${fault.at}${fault.code === null ? '' : ` ${fault.code}`}`),
      })),
      'retried',
    );
  }
}

/** Asserts no other stored message to the same recipient carries this message's Message-ID: it arrived once, retries or not. */
export async function assertArrivedOnce(message: RetriedMessage): Promise<void> {
  if (message.messageId === null)
    fail(`Expected ${name(message)} to have a Message-ID to compare copies by, but it has none.`, 'a Message-ID', null, 'arrivedOnce');
  const copies = await message.copies();
  if (copies.length !== 1) {
    fail(
      `Expected ${name(message)} (Message-ID ${message.messageId}) to have arrived once, but ${copies.length} copies were stored.`,
      1,
      copies.map((copy) => ({ seq: copy.seq, id: copy.id, sessionId: copy.sessionId, receivedAt: copy.receivedAt })),
      'arrivedOnce',
    );
  }
}

import { ErrorCode, MailwrightError, type ApiClient, type FaultStage, type SmtpSession } from '@mailwright/core';
import type { StreamClient } from './stream-client.js';
import { DEFAULT_WAIT_TIMEOUT_MS } from './wait-for-messages.js';

/** Which session to wait for. */
export interface SessionWaitOptions {
  /** The listener that accepted it. */
  listener?: string;
  /** Only sessions that have ended. Default true. */
  closed?: boolean;
  /** Only failed sessions (true) or only successful ones (false). */
  failed?: boolean;
  /**
   * Only sessions where a fault rule fired: `true` for any, or the rule's id, its stage, or a
   * recipient it concerned (the failed attempts of a delivery).
   */
  fault?: true | { rule?: string; at?: FaultStage; recipient?: string };
  /** Only sessions opened at or after this time. Default: any. */
  openedSince?: Date;
  /** Milliseconds; default 10000. */
  timeout?: number;
}

function matches(session: SmtpSession, options: SessionWaitOptions): boolean {
  if (options.listener !== undefined && session.listener !== options.listener) return false;
  if ((options.closed ?? true) && session.closedAt === null) return false;
  if (options.failed !== undefined && (session.error !== null) !== options.failed) return false;
  if (options.fault !== undefined && !hasFault(session, options.fault)) return false;
  if (options.openedSince !== undefined && Date.parse(session.openedAt) < options.openedSince.getTime()) return false;
  return true;
}

function hasFault(session: SmtpSession, wanted: NonNullable<SessionWaitOptions['fault']>): boolean {
  const fired = session.faults ?? [];
  if (wanted === true) return fired.length > 0;
  const recipient = wanted.recipient?.toLowerCase();
  return fired.some(
    (fault) =>
      (wanted.rule === undefined || fault.rule === wanted.rule) &&
      (wanted.at === undefined || fault.at === wanted.at) &&
      (recipient === undefined || fault.recipients.some((address) => address.toLowerCase() === recipient)),
  );
}

/** Resolves with the oldest session matching the options, already recorded or still to come. */
export async function waitForSession(http: ApiClient, stream: StreamClient, options: SessionWaitOptions): Promise<SmtpSession> {
  const timeout = options.timeout ?? DEFAULT_WAIT_TIMEOUT_MS;
  let subscription: ReturnType<StreamClient['subscribe']> | undefined;
  const found = await new Promise<SmtpSession | null>((resolve, reject) => {
    const timer = setTimeout(() => resolve(null), timeout);
    timer.unref();
    const done = (session: SmtpSession): void => {
      clearTimeout(timer);
      resolve(session);
    };
    subscription = stream.subscribe(
      { events: ['session'] },
      {
        onSession: (session) => matches(session, options) && done(session),
        onClosed: () => {
          clearTimeout(timer);
          reject(new MailwrightError(ErrorCode.CLIENT_CLOSED, 'The Mailwright client was closed while waiting for a session'));
        },
      },
    );
    // Listen first, then look at what is recorded: nothing slips in between.
    subscription.ready
      .then(() => recentSessions(http, options.listener))
      .then((sessions) => {
        const oldest = sessions.reverse().find((session) => matches(session, options));
        if (oldest) done(oldest);
      }, reject);
  }).finally(() => subscription?.close());
  if (found) return found;
  throw new MailwrightError(
    ErrorCode.WAIT_TIMEOUT,
    `Timed out after ${timeout} ms waiting for a session matching ${JSON.stringify({ ...options, timeout: undefined })}`,
  );
}

const RECENT_SESSIONS = 1000;

/** The newest sessions recorded (up to 1000), newest first, following the pages the server cuts by size. */
async function recentSessions(http: ApiClient, listener: string | undefined): Promise<SmtpSession[]> {
  const sessions: SmtpSession[] = [];
  let cursor: string | undefined;
  do {
    const page = await http.json<{ sessions: SmtpSession[]; nextCursor?: string | null }>('GET', '/sessions', {
      query: { listener, limit: RECENT_SESSIONS - sessions.length, cursor },
    });
    sessions.push(...page.sessions);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && sessions.length < RECENT_SESSIONS);
  return sessions;
}

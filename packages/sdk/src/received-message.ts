import type { ApiClient, Authentication, CapturedMessage, MessageDetail, Protection, SmtpSession } from '@mailwright/core';
import { ErrorCode, MailwrightError } from '@mailwright/core';

/** How long {@link ReceivedMessage.waitForAuthentication} waits by default. */
export const DEFAULT_AUTHENTICATION_TIMEOUT_MS = 5_000;
/** Pause between two reads of a message whose verdicts are still being computed. */
const AUTHENTICATION_POLL_MS = 20;
/**
 * How long {@link ReceivedMessage.waitForProtection} waits by default: longer than the server's
 * own bound on one examination (10 s), since verifying and decrypting is heavier than the verdicts.
 */
export const DEFAULT_PROTECTION_TIMEOUT_MS = 15_000;

/** A captured message with its headers and bodies, and lazy helpers for the rest. */
export interface ReceivedMessage extends Omit<MessageDetail, 'links'> {
  /** The exact bytes received. */
  raw(): Promise<Buffer>;
  /**
   * Every http(s) link in the HTML (href) and text bodies, in order, without duplicates, as the
   * server found them (the detail's `links`).
   */
  links(): string[];
  /** The content of an attachment. */
  attachment(partId: string): Promise<Buffer>;
  /** The SMTP session that carried the message. */
  session(): Promise<SmtpSession>;
  /**
   * The earlier attempts at this delivery that a fault rule failed: sessions (of the newest
   * 1000) opened before this message's, where a fault fired for one of its recipients or its sender. Oldest first.
   */
  failedAttempts(): Promise<SmtpSession[]>;
  /** Every stored message with this one's Message-ID sent to its first recipient (this one included): more than one is a duplicate. */
  copies(): Promise<CapturedMessage[]>;
  /**
   * The message's SPF, DKIM, DMARC and ARC verdicts once computed (they are computed after the
   * `250`): re-reads the message until its `authentication.status` is `done`, at most `timeout`
   * ms (default 5000), then rejects with `WAIT_TIMEOUT`. Also updates this message's
   * `authentication`.
   */
  waitForAuthentication(options?: { timeout?: number }): Promise<Authentication>;
  /**
   * The message's S/MIME or OpenPGP protection once examined (after the `250`): re-reads the
   * message until its `protection.status` is `done`, at most `timeout` ms (default 15000), then
   * rejects with `WAIT_TIMEOUT`. Also updates this message's `protection`.
   */
  waitForProtection(options?: { timeout?: number }): Promise<Protection>;
  /**
   * The decrypted message (`GET /messages/:id?view=decrypted`): its own headers, subject, text,
   * HTML and attachments (`attachment(partId)` reads them from the decrypted message), with the
   * same id, envelope and protection, and `view: 'decrypted'`. `raw()` stays the bytes received.
   * Waits for the examination first; rejects with the server's `NOT_DECRYPTED` error when no
   * registered key decrypted the message.
   */
  decrypted(options?: { timeout?: number }): Promise<ReceivedMessage>;
}

/** Fetches a message's detail and wraps it with the lazy helpers. */
export async function receiveMessage(http: ApiClient, id: string): Promise<ReceivedMessage> {
  return withHelpers(http, await http.json<MessageDetail>('GET', `/messages/${encodeURIComponent(id)}`));
}

/**
 * A stream frame's message as a received message: the detail it carries, or, when the server
 * sent the message alone (its parser was busy), the detail read over REST.
 */
export async function receiveFrameMessage(http: ApiClient, message: CapturedMessage | MessageDetail): Promise<ReceivedMessage> {
  return 'headers' in message ? withHelpers(http, message) : receiveMessage(http, message.id);
}

/** Adds the lazy helpers to a message detail (from the stream or REST). */
export function withHelpers(http: ApiClient, detail: MessageDetail): ReceivedMessage {
  const base = `/messages/${encodeURIComponent(detail.id)}`;
  const { links } = detail;
  const helpers = {
    raw: async () => Buffer.from(await http.arrayBuffer(`${base}/raw`)),
    links: () => [...links],
    attachment: async (partId: string) => Buffer.from(await http.arrayBuffer(`${base}/attachments/${encodeURIComponent(partId)}`)),
    session: () => http.json<SmtpSession>('GET', `${base}/session`),
    failedAttempts: () => failedAttempts(http, detail),
    copies: () => copiesOf(http, detail),
    waitForAuthentication: async (options: { timeout?: number } = {}): Promise<Authentication> => {
      const timeout = options.timeout ?? DEFAULT_AUTHENTICATION_TIMEOUT_MS;
      const authentication = await settled(http, detail, 'authentication', timeout, {
        missing: `Message #${detail.seq} "${detail.subject}" has no authentication record (does the server compute verdicts?)`,
        pending: `The verdicts of message #${detail.seq} "${detail.subject}" were still pending after ${timeout} ms`,
      });
      (detail as { authentication?: Authentication }).authentication = authentication;
      return authentication;
    },
    waitForProtection: async (options: { timeout?: number } = {}): Promise<Protection> => {
      const timeout = options.timeout ?? DEFAULT_PROTECTION_TIMEOUT_MS;
      const protection = await settled(http, detail, 'protection', timeout, {
        missing: `Message #${detail.seq} "${detail.subject}" has no protection record (does the server examine protection?)`,
        pending: `The protection of message #${detail.seq} "${detail.subject}" was still being examined after ${timeout} ms`,
      });
      (detail as { protection?: Protection }).protection = protection;
      return protection;
    },
    decrypted: async (options: { timeout?: number } = {}): Promise<ReceivedMessage> => {
      if (detail.protection?.status !== 'done') await (detail as unknown as ReceivedMessage).waitForProtection(options);
      const view = await http.json<MessageDetail>('GET', base, { query: { view: 'decrypted' } });
      return withDecryptedHelpers(http, view, detail as unknown as ReceivedMessage);
    },
  };
  // The helpers stay out of JSON and of equality checks (`links()` takes the place of the detail's `links`).
  for (const [name, value] of Object.entries(helpers)) Object.defineProperty(detail, name, { value, enumerable: false });
  return detail as unknown as ReceivedMessage;
}

/** The decrypted view with the helpers: attachments come from the decrypted message, the rest from the message received. */
function withDecryptedHelpers(http: ApiClient, view: MessageDetail, received: ReceivedMessage): ReceivedMessage {
  const base = `/messages/${encodeURIComponent(view.id)}`;
  const { links } = view;
  const helpers = {
    raw: received.raw,
    links: () => [...links],
    attachment: async (partId: string) =>
      Buffer.from(await http.arrayBuffer(`${base}/attachments/${encodeURIComponent(partId)}`, { query: { view: 'decrypted' } })),
    session: received.session,
    waitForAuthentication: received.waitForAuthentication,
    waitForProtection: received.waitForProtection,
    decrypted: async () => withDecryptedHelpers(http, view, received),
  };
  for (const [name, value] of Object.entries(helpers)) Object.defineProperty(view, name, { value, enumerable: false });
  return view as unknown as ReceivedMessage;
}

/** What a message carries that the server completes after its `250`: the verdicts, the protection record. */
type LateRecord = { authentication: Authentication; protection: Protection };

/** Re-reads a message (bounded) until its `field` record is done; `says` words the timeout for each case. */
async function settled<K extends keyof LateRecord>(
  http: ApiClient,
  detail: MessageDetail,
  field: K,
  timeout: number,
  says: { missing: string; pending: string },
): Promise<LateRecord[K]> {
  const path = `/messages/${encodeURIComponent(detail.id)}`;
  const deadline = Date.now() + timeout;
  let current = (detail as Partial<Record<K, LateRecord[K] | null>>)[field] ?? null;
  for (;;) {
    if (current?.status === 'done') return current;
    if (Date.now() >= deadline) throw new MailwrightError(ErrorCode.WAIT_TIMEOUT, current === null ? says.missing : says.pending);
    await new Promise((resolve) => setTimeout(resolve, AUTHENTICATION_POLL_MS));
    current = (await http.json<Partial<Record<K, LateRecord[K] | null>>>('GET', path))[field] ?? null;
  }
}

/** Sessions before the message's own where a fault fired for its recipients or sender, oldest first. */
async function failedAttempts(http: ApiClient, detail: MessageDetail): Promise<SmtpSession[]> {
  const { sessions } = await http.json<{ sessions: SmtpSession[] }>('GET', '/sessions', { query: { limit: 1000 } });
  const recipients = new Set(detail.envelope.rcptTo.map((address) => address.toLowerCase()));
  const sender = detail.envelope.mailFrom.toLowerCase();
  return sessions
    .filter(
      (session) =>
        session.id !== detail.sessionId &&
        Date.parse(session.openedAt) <= Date.parse(detail.receivedAt) &&
        (session.faults ?? []).some(
          (fault) =>
            fault.recipients.some((address) => recipients.has(address.toLowerCase())) ||
            (fault.recipients.length === 0 && fault.sender?.toLowerCase() === sender),
        ),
    )
    .reverse();
}

/** Stored messages with the same Message-ID to the same first recipient. */
async function copiesOf(http: ApiClient, detail: MessageDetail): Promise<CapturedMessage[]> {
  const to = detail.envelope.rcptTo[0];
  if (detail.messageId === null || to === undefined) return [detail];
  const { messages } = await http.json<{ messages: CapturedMessage[] }>('GET', '/messages', { query: { to, limit: 1000 } });
  return messages.filter((message) => message.messageId === detail.messageId);
}

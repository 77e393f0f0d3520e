import type { ApiClient, CapturedMessage, MessageDetail, SmtpSession } from '@mailwright/core';

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
  };
  // The helpers stay out of JSON and of equality checks (`links()` takes the place of the detail's `links`).
  for (const [name, value] of Object.entries(helpers)) Object.defineProperty(detail, name, { value, enumerable: false });
  return detail as unknown as ReceivedMessage;
}

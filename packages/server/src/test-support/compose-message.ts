import nodemailer from 'nodemailer';

/** What {@link composeMessage} builds. */
export interface ComposeOptions {
  from?: string;
  to?: string;
  subject?: string;
  text?: string;
  /** nodemailer's `dkim` option: the message is signed by nodemailer's own DKIM signer. */
  dkim?: { domainName: string; keySelector: string; privateKey: string; headerFieldNames?: string; skipFields?: string };
  headers?: Record<string, string>;
}

/** The raw bytes (CRLF) of a message built by nodemailer, signed by it when `dkim` is given. */
export async function composeMessage(options: ComposeOptions = {}): Promise<Buffer> {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows', ...(options.dkim ? { dkim: options.dkim } : {}) });
  const info = await transport.sendMail({
    from: options.from ?? 'Alice <alice@example.com>',
    to: options.to ?? 'bob@example.net',
    subject: options.subject ?? 'Authentication test',
    text: options.text ?? 'Hello,\r\n\r\nthis message is signed.\r\n',
    date: new Date('2026-12-01T12:00:00Z'),
    messageId: '<auth-test@example.com>',
    ...(options.headers ? { headers: options.headers } : {}),
  });
  return info.message as Buffer;
}

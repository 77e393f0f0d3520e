// Inputs the fuzzers of bench/fuzz found troublesome, kept as plain regression tests: each is
// sent over a real SMTP connection and read back through every REST view of the message.
import { createMailwright, type RunningMailwright } from '@mailwright/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendMessages } from '../../bench/fuzz/smtp-driver.mjs';

const CRLF = '\r\n';

/** A multipart message whose second part is an attachment with the given Content-Type header value. */
function withAttachmentContentType(value: string): Buffer {
  return Buffer.from(
    [
      'From: <fuzz@fuzz.test>',
      'To: <mime@example.test>',
      `Subject: attachment Content-Type ${JSON.stringify(value)}`,
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'body',
      '--b',
      `Content-Type: ${value}`,
      'Content-Disposition: attachment; filename="a.txt"',
      '',
      'attached',
      '--b--',
      '',
    ].join(CRLF),
    'latin1',
  );
}

describe('inputs found by the fuzzers', () => {
  let server: RunningMailwright;
  let api: string;

  beforeAll(async () => {
    server = await createMailwright({ host: '127.0.0.1', smtpPort: 0, smtpsPort: 0, httpPort: 0, logger: false });
    api = `${server.url}/api/v1`;
  });
  afterAll(async () => {
    await server.close();
  });

  // mailparser reports `contentType: false` for an empty or parameter-only Content-Type, and
  // control characters cannot go into an HTTP header: none of these may break a view.
  it.each(['', ';;;', 'text/plain\x01', 'application/\x1b[31moctet-stream'])(
    'an attachment with Content-Type %j: the list, the detail and the attachment answer',
    async (contentType) => {
      const { accepted, rejected } = await sendMessages({ host: server.smtp.host, port: server.smtp.port }, [
        { index: 0, raw: withAttachmentContentType(contentType) },
      ]);
      expect(rejected).toEqual([]);
      expect(accepted).toEqual([0]);

      const list = await fetch(`${api}/messages?subject=${encodeURIComponent(JSON.stringify(contentType))}`);
      expect(list.status).toBe(200);
      const { messages } = (await list.json()) as { messages: { id: string; attachments: { partId: string }[] }[] };
      expect(messages).toHaveLength(1);
      const [message] = messages;
      expect(message?.attachments).toHaveLength(1);

      const detail = await fetch(`${api}/messages/${message?.id}`);
      expect(detail.status).toBe(200);
      const attachment = await fetch(`${api}/messages/${message?.id}/attachments/${message?.attachments[0]?.partId}`);
      expect(attachment.status).toBe(200);
      expect(await attachment.text()).toBe('attached');
      // Whatever was declared, what is served is a valid media type.
      expect(attachment.headers.get('content-type')).toMatch(/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+/i);
    },
  );
});

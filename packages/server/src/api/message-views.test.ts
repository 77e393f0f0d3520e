import { threadId } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageDetailSchema, SmtpSessionSchema, type MessageDetail } from '@mailwright/core';
import { RawSmtpClient } from '../test-support/raw-smtp-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { HTML_TEXT_LIMIT } from '../analysis/parse-message.js';

const HOST = '127.0.0.1';
const MIB = 1024 * 1024;

async function sendRaw(t: TestServer, data: Buffer | string): Promise<string> {
  const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
  await client.ehlo();
  const replies = await client.sendMessage({ from: 'sender@app.test', to: ['inbox@receiver.test'], data });
  await client.quit();
  const id = /queued as (\S+)/.exec(replies.final?.lines.join(' ') ?? '')?.[1];
  if (!id) throw new Error(`not delivered: ${replies.final?.raw.join(' | ')}`);
  return id;
}

/** An HTML-only message of about `bytes` bytes. */
function largeHtml(bytes: number, subject: string): Buffer {
  const paragraph = '<p>The quick brown fox jumps over the lazy dog, <b>again</b> and <i>again</i>.</p>\r\n';
  const body = paragraph.repeat(Math.ceil(bytes / paragraph.length));
  return Buffer.from(
    `From: app@app.test\r\nTo: user@inbox.test\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body>${body}</body></html>\r\n`,
  );
}

async function detail(t: TestServer, id: string): Promise<MessageDetail> {
  return MessageDetailSchema.parse(await t.getJson(`/messages/${id}`));
}

describe('message views', () => {
  let t: TestServer;
  /** The threads that parsed message content, as the server logs them. */
  const parsedIn: number[] = [];
  beforeAll(async () => {
    const noop = (): void => undefined;
    t = await startTestServer({
      logger: {
        debug(fields: object, message?: string) {
          if (message === 'message parsed in a worker thread') parsedIn.push((fields as { threadId: number }).threadId);
        },
        info: noop,
        warn: noop,
        error: noop,
      },
    });
  });
  afterAll(() => t?.close());

  it('parses large messages off the event loop: SMTP and /health answer while six views are parsed', async () => {
    const id = await sendRaw(t, largeHtml(12 * MIB, 'large'));
    // The list reads the summary (in a worker too, once); the views below only parse the content.
    expect((await t.messages()).messages[0]?.subject).toBe('large');
    expect(parsedIn).toHaveLength(1);
    expect(parsedIn[0]).not.toBe(threadId);
    parsedIn.length = 0;
    const events: string[] = [];
    const views = Array.from({ length: 6 }, () =>
      t.request(`/messages/${id}`).then(async (response) => {
        expect(response.status).toBe(200);
        await response.arrayBuffer();
        events.push('view');
      }),
    );
    const health = t.request('/health').then((response) => {
      expect(response.status).toBe(200);
      events.push('health');
    });
    const smtp = sendRaw(t, 'From: a@app.test\r\nSubject: small\r\n\r\nhello\r\n').then(() => events.push('smtp'));
    await Promise.all([...views, health, smtp]);
    // Parsing 12 MB of HTML on the event loop would hold /health and the SMTP replies until the first view is done.
    expect(events.slice(0, 2).sort()).toEqual(['health', 'smtp']);
    expect(events.filter((event) => event === 'view')).toHaveLength(6);
    // One parse for six concurrent views, in a worker thread (the main thread's id is 0).
    expect(parsedIn).toHaveLength(1);
    expect(parsedIn[0]).not.toBe(threadId);
    // Twelve megabytes parsed once and served six times: room for a machine under load.
  }, 60_000);

  it('records why a message over the parser limits cannot be shown, and shows its headers', async () => {
    const parts = Array.from({ length: 1100 }, (_, i) => `--b\r\nContent-Type: text/plain\r\n\r\npart ${i}\r\n`).join('');
    const id = await sendRaw(
      t,
      `From: a@app.test\r\nTo: b@inbox.test\r\nSubject: many parts\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n${parts}--b--\r\n`,
    );
    const shown = await detail(t, id);
    expect(shown.parseError).toMatch(/^The message could not be parsed: Max allowed child nodes exceeded/);
    expect(shown.headers.subject).toEqual(['many parts']);
    expect(shown.truncated).toEqual([{ part: 'body', reason: expect.stringMatching(/child nodes/) }]);
    expect(shown.text).toBeNull();
    // The list shows what the headers say.
    expect(shown.subject).toBe('many parts');
    expect((await t.raw(id)).length).toBeGreaterThan(1100 * 20);

    const longLine = await sendRaw(t, `From: a@app.test\r\nSubject: long header\r\nX-Long: ${'a'.repeat(1100 * 1024)}\r\n\r\nbody\r\n`);
    const long = await detail(t, longLine);
    expect(long.parseError).toMatch(/header size/i);
    expect(long.headers.subject).toEqual(['long header']);
    expect(long.headers['x-long']?.[0]).toHaveLength(64 * 1024);
    expect(long.truncated.map((cut) => cut.part).sort()).toEqual(['body', 'headers']);

    const fine = await detail(t, await sendRaw(t, 'From: a@app.test\r\nSubject: fine\r\n\r\nhello\r\n'));
    expect(fine.parseError).toBeNull();
    expect(fine.truncated).toEqual([]);
  });

  it('says so when the text of an HTML body over 16 MiB is cut', async () => {
    const id = await sendRaw(t, largeHtml(HTML_TEXT_LIMIT + MIB, 'huge html'));
    const shown = await detail(t, id);
    expect(shown.html?.length).toBeGreaterThan(HTML_TEXT_LIMIT);
    expect(shown.text?.length).toBeGreaterThan(1000);
    expect(shown.text).toContain('The quick brown fox');
    // Derived from the first 16 MiB of HTML: shorter than the text of the whole body would be.
    expect(shown.text?.length).toBeLessThan(HTML_TEXT_LIMIT);
    expect(shown.truncated).toEqual([{ part: 'text', reason: expect.stringMatching(/the text is derived from the first 16777216/) }]);
    expect(shown.parseError).toBeNull();
  });

  it('serves an attachment whose Content-Type holds a control character as application/octet-stream', async () => {
    const id = await sendRaw(
      t,
      'From: a@app.test\r\nSubject: odd type\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
        '--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n' +
        '--b\r\nContent-Type: application/x\x01evil; name="data.bin"\r\nContent-Disposition: attachment; filename="data.bin"\r\n\r\nbinary\r\n--b--\r\n',
    );
    const [attachment] = (await detail(t, id)).attachments;
    expect(attachment?.contentType).toBe('application/octet-stream');
    const response = await t.request(`/messages/${id}/attachments/${attachment?.partId}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(await response.text()).toBe('binary');
  });

  it.each([
    ['../../etc/passwd', 'passwd'],
    ['..\\\\..\\\\Windows\\\\system32\\\\evil.dll', 'evil.dll'],
    ['..', null],
    ['report\\u202Etxt.exe', 'report_txt.exe'],
    ['con.txt', '_con.txt'],
  ])('gives the attachment named %j a safe file name for downloads', async (filename, safe) => {
    const name = JSON.parse(`"${filename}"`) as string;
    const id = await sendRaw(
      t,
      'From: a@app.test\r\nSubject: names\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
        '--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n' +
        `--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename*=UTF-8''${encodeURIComponent(name)}\r\n\r\ncontent\r\n--b--\r\n`,
    );
    const [attachment] = (await detail(t, id)).attachments;
    expect(attachment?.filename).toBe(name);
    const expected = safe ?? `attachment-${attachment?.partId}`;
    expect(attachment?.safeFilename).toBe(expected);
    const response = await t.request(`/messages/${id}/attachments/${attachment?.partId}`);
    const disposition = response.headers.get('content-disposition') ?? '';
    const encoded = /filename\*=UTF-8''(\S+)$/.exec(disposition)?.[1] ?? '';
    expect(decodeURIComponent(encoded)).toBe(expected);
    expect(disposition).not.toMatch(/[/\\\\]/);
  });

  it('pages the sessions list with a cursor', async () => {
    for (let i = 0; i < 5; i++) await sendRaw(t, `From: a@app.test\r\nSubject: s${i}\r\n\r\nx\r\n`);
    const { total } = await t.getJson<{ total: number }>('/sessions?limit=1');
    const seen: string[] = [];
    let next: string | null = null;
    do {
      const query: string = next === null ? '' : `&cursor=${encodeURIComponent(next)}`;
      const page: { sessions: unknown[]; total: number; nextCursor: string | null } = await t.getJson(`/sessions?limit=2${query}`);
      expect(page.sessions.length).toBeLessThanOrEqual(2);
      seen.push(...page.sessions.map((session) => SmtpSessionSchema.parse(session).id));
      next = page.nextCursor;
    } while (next !== null);
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    const response = await t.request(`/sessions?cursor=${'x'.repeat(100)}`);
    expect(response.status).toBe(400);
  });
});

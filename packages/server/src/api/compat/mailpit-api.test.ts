import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import { MailpitClient } from 'mailpit-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerInfo } from '@mailwright/core';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

const HOST = '127.0.0.1';
const LONG_TEXT = `${'Lorem ipsum dolor sit amet. '.repeat(20)}The word zebracorn appears only here, far past the snippet.`;
const INVOICE = Buffer.from('Invoice 42: 100 EUR\n'.repeat(200));
const PIXEL = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/** Sends one message with nodemailer and returns its Mailwright id. */
async function send(t: TestServer, mail: nodemailer.SendMailOptions, options: { starttls?: boolean } = {}): Promise<string> {
  const transport = nodemailer.createTransport({
    host: HOST,
    port: t.server.smtp.port,
    secure: false,
    ignoreTLS: !options.starttls,
    requireTLS: options.starttls === true,
    tls: { ca: t.server.ca, servername: 'localhost' },
  });
  try {
    const info = await transport.sendMail(mail);
    const id = /queued as (\S+)/.exec(info.response)?.[1];
    if (!id) throw new Error(`unexpected reply ${info.response}`);
    return id;
  } finally {
    transport.close();
  }
}

function clientFor(t: TestServer, token?: string): MailpitClient {
  const base = t.server.info().compatibility.mailpit;
  return new MailpitClient(base, token === undefined ? undefined : { fetchOptions: { headers: { Authorization: `Bearer ${token}` } } });
}

describe('Mailpit API with the mailpit-api client', () => {
  let t: TestServer;
  let mailpit: MailpitClient;
  const ids = { welcome: '', invoice: '', secure: '' };

  beforeAll(async () => {
    t = await startTestServer();
    mailpit = clientFor(t);
    ids.welcome = await send(t, {
      from: 'App <noreply@app.test>',
      to: 'Bea <b@example.test>',
      subject: 'Welcome aboard',
      text: `Hello Bea, confirm at https://app.test/confirm\n${LONG_TEXT}`,
      html: '<p>Hello <b>Bea</b>, <a href="https://app.test/confirm">confirm</a></p>',
      headers: { 'List-Unsubscribe': '<mailto:leave@app.test>, <https://app.test/leave>' },
    });
    ids.invoice = await send(t, {
      from: 'billing@shop.test',
      to: 'ab@example.test',
      cc: 'Carol <carol@example.test>',
      bcc: 'hidden@example.test',
      subject: 'Invoice 42',
      text: 'Your invoice is attached.',
      html: '<p>Your invoice <img src="cid:logo@shop.test"></p>',
      attachments: [
        { filename: 'invoice.txt', content: INVOICE, contentType: 'text/plain' },
        { filename: 'logo.png', content: PIXEL, contentType: 'image/png', cid: 'logo@shop.test' },
      ],
    });
    ids.secure = await send(t, { from: 'noreply@app.test', to: 'b@example.test', subject: 'Over STARTTLS', text: 'Sent over TLS.' }, { starttls: true });
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists its base URL in /api/v1/info, which the client takes unchanged', async () => {
    const info = await t.getJson<ServerInfo>('/info');
    expect(info.compatibility).toEqual({ mailpit: `${t.server.url}/compat/mailpit`, mailhog: `${t.server.url}/compat/mailhog` });
    const mailpitInfo = await clientFor(t).getInfo();
    expect(mailpitInfo.Messages).toBe(3);
    expect(mailpitInfo.Version).toBe(info.version);
  });

  it('getConfiguration', async () => {
    const config = await mailpit.getConfiguration();
    expect(config.Label).toBe('Mailwright');
    expect(config.MessageRelay.SMTPServer).toBe('');
  });

  it('listMessages: newest first, Mailpit fields, the delivery record in Mailwright, pages by start and limit', async () => {
    const list = await mailpit.listMessages();
    expect(list.total).toBe(3);
    expect(list.messages_count).toBe(3);
    expect(list.count).toBe(3);
    expect(list.start).toBe(0);
    expect(list.messages.map((message) => message.ID)).toEqual([ids.secure, ids.invoice, ids.welcome]);
    const invoice = list.messages[1]!;
    expect(invoice.Subject).toBe('Invoice 42');
    expect(invoice.From).toEqual({ Name: '', Address: 'billing@shop.test' });
    expect(invoice.To).toEqual([{ Name: '', Address: 'ab@example.test' }]);
    expect(invoice.Cc).toEqual([{ Name: 'Carol', Address: 'carol@example.test' }]);
    // The Bcc'd recipient is known from the envelope only.
    expect(invoice.Bcc).toEqual([{ Name: '', Address: 'hidden@example.test' }]);
    expect(invoice.Attachments).toBe(1);
    expect(typeof invoice.Created).toBe('string');
    expect(invoice.Snippet).toContain('Your invoice is attached');
    const record = (list.messages[0] as unknown as { Mailwright: { tls: { mode: string; protocol: string }; envelope: { rcptTo: string[] } } }).Mailwright;
    expect(record.tls.mode).toBe('starttls');
    expect(record.tls.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(record.envelope.rcptTo).toEqual(['b@example.test']);

    const second = await mailpit.listMessages(1, 1);
    expect(second.start).toBe(1);
    expect(second.count).toBe(1);
    expect(second.messages_count).toBe(3);
    expect(second.messages[0]?.ID).toBe(ids.invoice);
  });

  it('searchMessages: a full address in to: matches that address exactly, a partial term as a substring', async () => {
    const exact = await mailpit.searchMessages({ query: 'to:b@example.test' });
    expect(exact.messages.map((message) => message.ID).sort()).toEqual([ids.welcome, ids.secure].sort());
    expect(exact.messages_count).toBe(2);
    const partial = await mailpit.searchMessages({ query: 'to:example.test' });
    expect(partial.messages_count).toBe(3);
    // Bcc'd and Cc'd mail is found through the envelope and Cc.
    expect((await mailpit.searchMessages({ query: 'to:hidden@example.test' })).messages.map((message) => message.ID)).toEqual([ids.invoice]);
    expect((await mailpit.searchMessages({ query: 'cc:carol' })).messages.map((message) => message.ID)).toEqual([ids.invoice]);
    expect((await mailpit.searchMessages({ query: 'bcc:hidden@example.test' })).messages.map((message) => message.ID)).toEqual([ids.invoice]);
  });

  it('searchMessages: from:, subject: with a quoted phrase, negation, plain words in the body, has:, larger:', async () => {
    const idsOf = async (query: string): Promise<string[]> => (await mailpit.searchMessages({ query })).messages.map((message) => message.ID);
    expect(await idsOf('from:noreply@app.test')).toEqual([ids.secure, ids.welcome]);
    expect(await idsOf('from:app.test')).toEqual([ids.secure, ids.welcome]);
    expect(await idsOf('from:pp@app.test')).toEqual([]);
    expect(await idsOf('subject:"Welcome aboard"')).toEqual([ids.welcome]);
    expect(await idsOf('subject:"aboard Welcome"')).toEqual([]);
    expect(await idsOf('-subject:invoice')).toEqual([ids.secure, ids.welcome]);
    expect(await idsOf('!subject:invoice from:app.test')).toEqual([ids.secure, ids.welcome]);
    // Past the snippet: the store reads the text body.
    expect(await idsOf('zebracorn')).toEqual([ids.welcome]);
    expect(await idsOf('-zebracorn')).toEqual([ids.secure, ids.invoice]);
    expect(await idsOf('shop.test')).toEqual([ids.invoice]);
    expect(await idsOf('has:attachment')).toEqual([ids.invoice]);
    expect(await idsOf('has:inline')).toEqual([ids.invoice]);
    expect(await idsOf('larger:3kb')).toEqual([ids.invoice]);
    expect(await idsOf('smaller:3kb')).toEqual([ids.secure, ids.welcome]);
    const page = await mailpit.searchMessages({ query: 'to:example.test', start: 1, limit: 1 });
    expect(page.messages.map((message) => message.ID)).toEqual([ids.invoice]);
    expect(page.messages_count).toBe(3);
  });

  it('searchMessages: before: and after: read dates in the tz given', async () => {
    const idsOf = async (query: string, tz?: string): Promise<string[]> =>
      (await mailpit.searchMessages({ query, ...(tz ? { tz } : {}) })).messages.map((message) => message.ID);
    expect(await idsOf('after:2000-01-01')).toHaveLength(3);
    expect(await idsOf('before:2000-01-01')).toEqual([]);
    expect(await idsOf('after:2999-01-01T00:00:00Z')).toEqual([]);
    // A minute before the first message, written as a wall-clock time of Asia/Kolkata (UTC+05:30, no DST):
    // read in that zone it precedes every message, read as UTC it is 5.5 hours later than that.
    const { messages } = await mailpit.listMessages();
    const first = Math.min(...messages.map((message) => Date.parse(message.Created)));
    const kolkata = new Date(first - 60_000 + 5.5 * 3_600_000).toISOString().slice(0, 16).replace('T', ' ');
    expect(await idsOf(`after:"${kolkata}"`, 'Asia/Kolkata')).toHaveLength(3);
    expect(await idsOf(`before:"${kolkata}"`, 'Asia/Kolkata')).toEqual([]);
    expect(await idsOf(`after:"${kolkata}"`, 'UTC')).toEqual([]);
    await expect(mailpit.searchMessages({ query: 'before:yesterdayish' })).rejects.toThrow(/400/);
    await expect(mailpit.searchMessages({ query: 'after:2024-01-01', tz: 'Mars/Olympus' })).rejects.toThrow(/400/);
  });

  it('getMessageSummary: bodies, addresses, attachments with checksums, and the whole delivery record', async () => {
    const message = await mailpit.getMessageSummary(ids.invoice);
    expect(message.ID).toBe(ids.invoice);
    expect(message.Subject).toBe('Invoice 42');
    expect(message.Text).toContain('Your invoice is attached.');
    expect(message.HTML).toContain('cid:logo@shop.test');
    expect(message.ReturnPath).toBe('billing@shop.test');
    expect(message.Attachments).toHaveLength(1);
    const attachment = message.Attachments[0]!;
    expect(attachment.FileName).toBe('invoice.txt');
    expect(attachment.ContentType).toBe('text/plain');
    expect(attachment.Size).toBe(INVOICE.length);
    expect(attachment.Checksums.SHA256).toBe(createHash('sha256').update(INVOICE).digest('hex'));
    expect(message.Inline.map((part) => [part.FileName, part.ContentID])).toEqual([['logo.png', 'logo@shop.test']]);
    const record = (message as unknown as { Mailwright: { session: { transcript: { line: string }[] }; sessionId: string } }).Mailwright;
    expect(record.session.transcript.some((entry) => entry.line.startsWith('MAIL FROM:<billing@shop.test>'))).toBe(true);

    const welcome = await mailpit.getMessageSummary(ids.welcome);
    expect(welcome.ListUnsubscribe.Links).toEqual(['mailto:leave@app.test', 'https://app.test/leave']);
    expect(welcome.From).toEqual({ Name: 'App', Address: 'noreply@app.test' });
    expect((await mailpit.getMessageSummary()).ID).toBe(ids.secure);
    await expect(mailpit.getMessageSummary('no-such-id')).rejects.toThrow(/404/);
  });

  it('getMessageHeaders: names as Mailpit spells them, in order', async () => {
    const headers = await mailpit.getMessageHeaders(ids.welcome);
    expect(headers.Subject).toEqual(['Welcome aboard']);
    expect(headers['Message-Id']).toHaveLength(1);
    expect(headers['List-Unsubscribe']).toEqual(['<mailto:leave@app.test>, <https://app.test/leave>']);
    const names = Object.keys(headers);
    expect(names).toEqual([...names].sort());
  });

  it('getMessageSource: the exact bytes received', async () => {
    const source = await mailpit.getMessageSource(ids.welcome);
    expect(source).toBe((await t.raw(ids.welcome)).toString('utf8'));
  });

  it('getMessageAttachment: the part with its type', async () => {
    const message = await mailpit.getMessageSummary(ids.invoice);
    const blob = await mailpit.getMessageAttachment(ids.invoice, message.Attachments[0]!.PartID);
    expect(blob.type).toBe('text/plain');
    expect(Buffer.from(await blob.arrayBuffer())).toEqual(INVOICE);
    const logo = await mailpit.getMessageAttachment(ids.invoice, message.Inline[0]!.PartID);
    expect(Buffer.from(await logo.arrayBuffer())).toEqual(PIXEL);
    await expect(mailpit.getMessageAttachment(ids.invoice, '99')).rejects.toThrow(/404/);
  });

  it('renderMessageHTML and renderMessageText (/view/{id}.html|.txt)', async () => {
    expect(await mailpit.renderMessageHTML(ids.welcome)).toContain('<a href="https://app.test/confirm">confirm</a>');
    expect(await mailpit.renderMessageText(ids.welcome)).toContain('zebracorn');
    expect(await mailpit.renderMessageText()).toContain('Sent over TLS.');
    await expect(mailpit.renderMessageHTML(ids.secure)).rejects.toThrow(/404/);
    const response = await fetch(`${t.server.info().compatibility.mailpit}/view/${ids.welcome}.html`);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('answers 501 with a JSON reason for what Mailwright cannot do', async () => {
    await expect(mailpit.sendMessage({ From: { Email: 'a@app.test' }, To: [{ Email: 'b@example.test' }], Subject: 'x' })).rejects.toThrow(
      /501.*NOT_IMPLEMENTED/,
    );
    await expect(mailpit.releaseMessage(ids.welcome, { To: ['b@example.test'] })).rejects.toThrow(/501/);
    await expect(mailpit.htmlCheck(ids.welcome)).rejects.toThrow(/501/);
    await expect(mailpit.linkCheck(ids.welcome)).rejects.toThrow(/501/);
    await expect(mailpit.spamAssassinCheck(ids.welcome)).rejects.toThrow(/501/);
    await expect(mailpit.getChaosTriggers()).rejects.toThrow(/501/);
    await expect(mailpit.setChaosTriggers()).rejects.toThrow(/501/);
    await expect(mailpit.getAttachmentThumbnail(ids.invoice, '2')).rejects.toThrow(/501/);
    const response = await fetch(`${t.server.info().compatibility.mailpit}/api/v1/send`, { method: 'POST' });
    expect(response.status).toBe(501);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('NOT_IMPLEMENTED');
    expect(body.error.message).toMatch(/SMTP/);
  });
});

describe('Mailpit read status, tags and deletion', () => {
  let t: TestServer;
  let mailpit: MailpitClient;

  beforeAll(async () => {
    t = await startTestServer();
    mailpit = clientFor(t);
  });
  afterAll(async () => {
    await t.close();
  });

  it('reading a message marks it read; setReadStatus by IDs, by search and for all', async () => {
    const first = await send(t, { from: 'a@app.test', to: 'read1@example.test', subject: 'Read one', text: 'one' });
    const second = await send(t, { from: 'a@app.test', to: 'read2@example.test', subject: 'Read two', text: 'two' });
    const unreadIds = async (): Promise<string[]> => (await mailpit.searchMessages({ query: 'is:unread subject:Read' })).messages.map((message) => message.ID);
    expect(await unreadIds()).toEqual([second, first]);
    await mailpit.getMessageSummary(first);
    expect(await unreadIds()).toEqual([second]);
    expect((await mailpit.searchMessages({ query: 'is:read' })).messages.map((message) => message.ID)).toEqual([first]);
    expect((await mailpit.listMessages()).messages.find((message) => message.ID === first)?.Read).toBe(true);

    expect(await mailpit.setReadStatus({ IDs: [first], Read: false })).toBe('ok');
    expect(await unreadIds()).toEqual([second, first]);
    expect(await mailpit.setReadStatus({ Search: 'to:read2@example.test', Read: true })).toBe('ok');
    expect(await unreadIds()).toEqual([first]);
    expect(await mailpit.setReadStatus({ Read: true })).toBe('ok');
    expect(await unreadIds()).toEqual([]);
    expect((await mailpit.getInfo()).Unread).toBe(0);
    expect(await mailpit.setReadStatus()).toBe('ok');
    expect(await unreadIds()).toEqual([second, first]);
    await expect(mailpit.setReadStatus({ IDs: ['no-such-id'], Read: true })).rejects.toThrow(/404/);
  });

  it('setTags, getTags, search by tag:, renameTag, deleteTag', async () => {
    const one = await send(t, { from: 'a@app.test', to: 'tags@example.test', subject: 'Tag one', text: 'one' });
    const two = await send(t, { from: 'a@app.test', to: 'tags@example.test', subject: 'Tag two', text: 'two' });
    expect(await mailpit.setTags({ IDs: [one, two], Tags: ['signup', 'Beta!'] })).toBe('ok');
    expect(await mailpit.setTags({ IDs: [two], Tags: ['signup', 'urgent'] })).toBe('ok');
    expect(await mailpit.getTags()).toEqual(['Beta', 'signup', 'urgent']);
    expect((await mailpit.getMessageSummary(one)).Tags).toEqual(['Beta', 'signup']);
    expect((await mailpit.searchMessages({ query: 'tag:signup' })).messages.map((message) => message.ID)).toEqual([two, one]);
    expect((await mailpit.searchMessages({ query: 'tag:urgent' })).messages.map((message) => message.ID)).toEqual([two]);
    expect((await mailpit.searchMessages({ query: 'is:tagged subject:Tag' })).messages_count).toBe(2);
    expect((await mailpit.getInfo()).Tags).toEqual({ Beta: 1, signup: 2, urgent: 1 });

    expect(await mailpit.renameTag('signup', 'welcome')).toBe('ok');
    expect(await mailpit.getTags()).toEqual(['Beta', 'urgent', 'welcome']);
    expect(await mailpit.deleteTag('Beta')).toBe('ok');
    expect((await mailpit.getMessageSummary(one)).Tags).toEqual(['welcome']);
    expect(await mailpit.setTags({ IDs: [one] })).toBe('ok');
    expect((await mailpit.searchMessages({ query: '-is:tagged subject:Tag' })).messages.map((message) => message.ID)).toEqual([one]);
  });

  it('waitForMessage and waitForMessages find messages that arrive later', async () => {
    const waiting = mailpit.waitForMessage({ query: 'subject:"Arrives later"' }, { timeout: 10_000, interval: 20 });
    const id = await send(t, { from: 'a@app.test', to: 'later@example.test', subject: 'Arrives later', text: 'late' });
    expect((await waiting).ID).toBe(id);
    const counted = mailpit.waitForMessages({ query: 'subject:"Arrives later"', count: 2 }, { timeout: 10_000, interval: 20 });
    const another = await send(t, { from: 'a@app.test', to: 'later@example.test', subject: 'Arrives later again', text: 'late' });
    expect((await counted).messages.map((message) => message.ID)).toEqual([another, id]);
    const total = (await mailpit.listMessages()).total;
    expect((await mailpit.waitForMessages({ count: total, exact: true }, { timeout: 10_000, interval: 20 })).messages_count).toBe(total);
  });

  it('deleteMessagesBySearch, deleteMessages by IDs, and deleteMessages without IDs deletes everything (only here)', async () => {
    const keep = await send(t, { from: 'a@app.test', to: 'del@example.test', subject: 'Delete keep', text: 'k' });
    const bySearch = await send(t, { from: 'a@app.test', to: 'del@example.test', subject: 'Delete by search', text: 's' });
    const byId = await send(t, { from: 'a@app.test', to: 'del@example.test', subject: 'Delete by id', text: 'i' });
    expect(await mailpit.deleteMessagesBySearch({ query: 'subject:"Delete by search"' })).toBe('ok');
    expect(await t.server.store.getMessage(bySearch)).toBeNull();
    expect(await mailpit.deleteMessages({ IDs: [byId] })).toBe('ok');
    expect(await t.server.store.getMessage(byId)).toBeNull();
    expect(await t.server.store.getMessage(keep)).not.toBeNull();
    await expect(mailpit.deleteMessages({ IDs: ['no-such-id'] })).rejects.toThrow(/404/);
    await expect(mailpit.deleteMessagesBySearch({ query: '' })).rejects.toThrow(/400/);

    // Mailwright's own API still refuses to delete everything without all=true.
    expect((await t.request('/messages', { method: 'DELETE' })).status).toBe(400);
    expect(await mailpit.deleteMessages()).toBe('ok');
    expect((await mailpit.listMessages()).total).toBe(0);
    expect((await t.messages()).total).toBe(0);
  });
});

describe('Mailpit API access', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ apiToken: 'compat-secret' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('needs the API token like /api/v1; the client passes it in fetchOptions.headers', async () => {
    await expect(clientFor(t).listMessages()).rejects.toThrow(/401/);
    await expect(clientFor(t, 'wrong').listMessages()).rejects.toThrow(/401/);
    expect((await clientFor(t, 'compat-secret').listMessages()).total).toBe(0);
    expect((await fetch(`${t.server.info().compatibility.mailpit}/view/latest.txt`)).status).toBe(401);
  });
});

describe('Mailpit API host and origin checks', () => {
  let t: TestServer;

  beforeAll(async () => {
    t = await startTestServer({ allowedOrigins: ['http://app.localhost:3000'] });
  });
  afterAll(async () => {
    await t.close();
  });

  it('refuses a Host the server does not answer to, as /api/v1 does', async () => {
    const { request } = await import('node:http');
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${t.server.info().compatibility.mailpit}/api/v1/messages`, { headers: { Host: 'rebind.evil.test' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it("answers a listed origin's preflight for PUT (read status, tags) and refuses another origin's PUT", async () => {
    const url = `${t.server.info().compatibility.mailpit}/api/v1/messages`;
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: { Origin: 'http://app.localhost:3000', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://app.localhost:3000');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('PUT');
    const foreign = await fetch(url, {
      method: 'PUT',
      headers: { Origin: 'http://evil.localhost:3000', 'Content-Type': 'application/json' },
      body: '{"Read":true}',
    });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN_ORIGIN');
  });
});

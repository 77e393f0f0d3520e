import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CapturedMessageSchema, MessageDetailSchema, SmtpSessionSchema, type CapturedMessage, type ServerInfo } from '@mailwright/core';
import { readFixture } from '../test-support/fixtures.js';
import { RawSmtpClient } from '../test-support/raw-smtp-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

const HOST = '127.0.0.1';

interface ListBody {
  messages: CapturedMessage[];
  total: number;
}

interface ErrorBody {
  error: { code: string; message: string };
}

async function expectJsonError(response: Response, status: number, code: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await response.json()) as ErrorBody;
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.message.length).toBeGreaterThan(0);
}

/** Sends a fixture over a raw connection (optionally after STARTTLS) and returns its id. */
async function sendRaw(t: TestServer, data: Buffer, options: { port?: number; starttls?: boolean; to?: string[] } = {}): Promise<string> {
  const client = await RawSmtpClient.connect({ host: HOST, port: options.port ?? t.server.smtp.port });
  await client.ehlo();
  if (options.starttls) {
    await client.starttls({ ca: t.server.ca, servername: 'localhost' });
    await client.ehlo();
  }
  const replies = await client.sendMessage({ from: 'sender@app.test', to: options.to ?? ['inbox@receiver.test'], data });
  await client.quit();
  const id = /queued as (\S+)/.exec(replies.final?.lines.join(' ') ?? '')?.[1];
  if (!id) throw new Error(`not delivered: ${replies.final?.raw.join(' | ')}`);
  return id;
}

describe('reading messages', () => {
  let t: TestServer;
  const ids: Record<'welcome' | 'invoice' | 'reset' | 'lab' | 'attachment', string> = { welcome: '', invoice: '', reset: '', lab: '', attachment: '' };

  const subjectsOf = (body: ListBody): string[] => body.messages.map((message) => message.subject);

  beforeAll(async () => {
    t = await startTestServer({ listeners: [{ name: 'lab', tls: 'none' }] });
    const send = async (options: object, mail: nodemailer.SendMailOptions): Promise<string> => {
      const transport = nodemailer.createTransport({ host: HOST, ...options });
      try {
        const info = await transport.sendMail(mail);
        const id = /queued as (\S+)/.exec(info.response)?.[1];
        if (!id) throw new Error(`unexpected reply ${info.response}`);
        return id;
      } finally {
        transport.close();
      }
    };
    // Sequential on purpose: arrival order is part of what is tested.
    ids.welcome = await send(
      { port: t.server.smtp.port, ignoreTLS: true },
      {
        from: 'Alice Example <alice@app.test>',
        to: 'bob@inbox.test',
        bcc: 'hidden@inbox.test',
        subject: 'Welcome Bob',
        text: 'Your activation code is 12345.',
      },
    );
    ids.invoice = await sendRaw(t, readFixture('html-with-attachment'), { starttls: true, to: ['carol@receiver.test'] });
    ids.reset = await send(
      { port: t.server.smtps.port, secure: true, tls: { ca: t.server.ca, servername: 'localhost' } },
      {
        from: 'noreply@app.test',
        to: 'bob@inbox.test',
        cc: 'dave@inbox.test',
        subject: 'Reset your password',
        text: 'Click the link to choose a new password.',
      },
    );
    ids.lab = await sendRaw(t, readFixture('plain-text'), { port: t.listenerPort('lab'), to: ['lab-envelope@receiver.test'] });
    ids.attachment = await send(
      { port: t.server.smtp.port, requireTLS: true, tls: { ca: t.server.ca, servername: 'localhost' } },
      {
        from: 'files@app.test',
        to: 'erin@inbox.test',
        subject: 'A file with an awkward name',
        text: 'see attached',
        attachments: [{ filename: 'résumé "final" v2.txt', content: 'attachment body', contentType: 'text/plain' }],
      },
    );
  });

  afterAll(() => t?.close());

  it('lists newest first with the total, every message valid against the schema', async () => {
    const body = await t.getJson<ListBody>('/messages');
    expect(body.total).toBe(5);
    expect(body.messages.map((message) => message.id)).toEqual([ids.attachment, ids.lab, ids.reset, ids.invoice, ids.welcome]);
    for (const message of body.messages) CapturedMessageSchema.parse(message);
    const seqs = body.messages.map((message) => message.seq);
    expect([...seqs].sort((a, b) => b - a)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
    // Ids sort by arrival, like the seqs.
    expect([...body.messages.map((message) => message.id)].sort().reverse()).toEqual(body.messages.map((message) => message.id));
  });

  it.each([
    ['to matches the envelope: a Bcc recipient is found', { to: 'hidden@inbox.test' }, ['Welcome Bob']],
    ['to matches the To header, not only the envelope', { to: 'bob@receiver.test' }, ['Plain text fixture']],
    ['to matches a display name in the To header', { to: 'Bob Receiver' }, ['Plain text fixture']],
    ['to matches envelope and headers of several messages', { to: 'bob@inbox.test' }, ['Reset your password', 'Welcome Bob']],
    ['to matches the Cc header', { to: 'dave@' }, ['Reset your password']],
    ['from matches the address', { from: 'reports@sender.test' }, ['Monthly report']],
    ['from matches the display name, case-insensitively', { from: 'alice example' }, ['Welcome Bob']],
    ['subject is a case-insensitive substring', { subject: 'MONTHLY' }, ['Monthly report']],
    ['subject with re: is a regular expression', { subject: 're:^Re' }, ['Reset your password']],
    ['subject with re:/…/i takes flags', { subject: 're:/^welcome/i' }, ['Welcome Bob']],
    ['text searches the body', { text: 'activation code' }, ['Welcome Bob']],
    ['text with re: searches the body', { text: 're:new\\s+password' }, ['Reset your password']],
    ['tls=none', { tls: 'none' }, ['Plain text fixture', 'Welcome Bob']],
    ['tls=starttls', { tls: 'starttls' }, ['A file with an awkward name', 'Monthly report']],
    ['tls=implicit', { tls: 'implicit' }, ['Reset your password']],
    ['tls=any', { tls: 'any' }, ['A file with an awkward name', 'Reset your password', 'Monthly report']],
    ['listener', { listener: 'lab' }, ['Plain text fixture']],
    ['filters combine with AND', { to: 'bob', tls: 'implicit' }, ['Reset your password']],
    ['no match', { subject: 'nothing like this' }, []],
  ] as const)('filter: %s', async (_name, filter, expected) => {
    const body = await t.getJson<ListBody>(`/messages?${new URLSearchParams(filter).toString()}`);
    expect(subjectsOf(body)).toEqual(expected);
    expect(body.total).toBe(expected.length);
  });

  it('a Bcc recipient is in the envelope but not in the headers', async () => {
    const message = CapturedMessageSchema.parse(await t.getJson(`/messages/${ids.welcome}`));
    expect(message.envelope.rcptTo).toEqual(['bob@inbox.test', 'hidden@inbox.test']);
    expect(message.to).toEqual([{ name: '', address: 'bob@inbox.test' }]);
  });

  it('pages with limit, before and after, keeping the total of all matches', async () => {
    const first = await t.getJson<ListBody>('/messages?limit=2');
    expect(first.total).toBe(5);
    expect(first.messages.map((message) => message.id)).toEqual([ids.attachment, ids.lab]);
    const last = first.messages[1] as CapturedMessage;
    const second = await t.getJson<ListBody>(`/messages?limit=2&before=${last.seq}`);
    expect(second.messages.map((message) => message.id)).toEqual([ids.reset, ids.invoice]);
    const third = await t.getJson<ListBody>(`/messages?limit=2&before=${(second.messages[1] as CapturedMessage).seq}`);
    expect(third.messages.map((message) => message.id)).toEqual([ids.welcome]);
    const welcome = third.messages[0] as CapturedMessage;
    const newer = await t.getJson<ListBody>(`/messages?after=${welcome.seq}`);
    expect(newer.total).toBe(4);
    expect(newer.messages.map((message) => message.id)).toEqual([ids.attachment, ids.lab, ids.reset, ids.invoice]);
    const window = await t.getJson<ListBody>(`/messages?after=${welcome.seq}&before=${last.seq}`);
    expect(window.messages.map((message) => message.id)).toEqual([ids.reset, ids.invoice]);
    const filtered = await t.getJson<ListBody>('/messages?limit=1&to=bob');
    expect(filtered.messages.map((message) => message.id)).toEqual([ids.lab]);
    expect(filtered.total).toBe(3);
  });

  it.each([
    ['/messages?limit=0', 'INVALID_REQUEST'],
    ['/messages?limit=1001', 'INVALID_REQUEST'],
    ['/messages?limit=ten', 'INVALID_REQUEST'],
    ['/messages?before=-1', 'INVALID_REQUEST'],
    ['/messages?subject=re:(', 'INVALID_FILTER'],
    ['/messages?tls=sometimes', 'INVALID_FILTER'],
  ])('GET %s is a 400 JSON error (%s)', async (path, code) => {
    await expectJsonError(await t.request(path), 400, code);
  });

  it('GET /messages/:id returns the message with headers, bodies and analysis', async () => {
    const detail = MessageDetailSchema.parse(await t.getJson(`/messages/${ids.invoice}`));
    expect(detail.subject).toBe('Monthly report');
    expect(detail.headers['subject']).toEqual(['Monthly report']);
    expect(detail.text).toContain('Your report is attached.');
    expect(detail.html).toContain('<b>attached</b>');
    expect(detail.attachments).toEqual([expect.objectContaining({ filename: 'report.pdf', contentType: 'application/pdf' })]);
    expect(detail.tls.mode).toBe('starttls');
  });

  it.each(['', '/raw', '/html', '/text', '/session', '/attachments/2'])('GET /messages/<unknown>%s is a 404 MESSAGE_NOT_FOUND', async (suffix) => {
    await expectJsonError(await t.request(`/messages/01NOSUCHMESSAGE0000000000${suffix}`), 404, 'MESSAGE_NOT_FOUND');
  });

  it('other 404s are JSON errors with their own codes', async () => {
    await expectJsonError(await t.request(`/messages/${ids.invoice}/attachments/99`), 404, 'ATTACHMENT_NOT_FOUND');
    await expectJsonError(await t.request('/sessions/no-such-session'), 404, 'SESSION_NOT_FOUND');
    await expectJsonError(await t.request(`/messages/${ids.welcome}/html`), 404, 'NOT_FOUND');
    await expectJsonError(await t.request('/no-such-route'), 404, 'NOT_FOUND');
  });

  it('/raw serves the exact bytes as message/rfc822', async () => {
    const response = await t.request(`/messages/${ids.invoice}/raw`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^message\/rfc822/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await response.arrayBuffer()).equals(readFixture('html-with-attachment'))).toBe(true);
  });

  it('/html is served with a Content-Security-Policy under which no script runs', async () => {
    const response = await t.request(`/messages/${ids.invoice}/html`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = response.headers.get('content-security-policy') ?? '';
    const directives = new Map(
      csp
        .split(';')
        .map((part) => part.trim().split(/\s+/))
        .filter((parts) => parts[0])
        .map(([name, ...values]) => [name as string, values]),
    );
    // Scripts fall back to default-src, which allows nothing; the sandbox does not allow scripts either.
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.has('script-src')).toBe(false);
    expect(directives.has('script-src-elem')).toBe(false);
    expect(directives.has('script-src-attr')).toBe(false);
    expect(directives.get('sandbox')).toBeDefined();
    expect(directives.get('sandbox')).not.toContain('allow-scripts');
    expect(directives.get('sandbox')).not.toContain('allow-same-origin');
    expect(await response.text()).toContain('<b>attached</b>');
  });

  it('/text serves the text body', async () => {
    const response = await t.request(`/messages/${ids.reset}/text`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toContain('Click the link to choose a new password.');
  });

  it('attachments download with Content-Disposition and nosniff', async () => {
    const detail = MessageDetailSchema.parse(await t.getJson(`/messages/${ids.invoice}`));
    const attachment = detail.attachments[0];
    if (!attachment) throw new Error('no attachment');
    const response = await t.request(`/messages/${ids.invoice}/attachments/${attachment.partId}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="report\.pdf"/);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const body = Buffer.from(await response.arrayBuffer());
    expect(body.equals(Buffer.from('JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PD4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK', 'base64'))).toBe(true);
    expect(body.length).toBe(attachment.size);
  });

  it('an awkward attachment name cannot break out of Content-Disposition', async () => {
    const detail = MessageDetailSchema.parse(await t.getJson(`/messages/${ids.attachment}`));
    const attachment = detail.attachments[0];
    if (!attachment) throw new Error('no attachment');
    expect(attachment.filename).toBe('résumé "final" v2.txt');
    expect(attachment.safeFilename).toBe('résumé _final_ v2.txt');
    const response = await t.request(`/messages/${ids.attachment}/attachments/${attachment.partId}`);
    expect(response.status).toBe(200);
    const disposition = response.headers.get('content-disposition') ?? '';
    const match = /^attachment; filename="([^"\\]*)"; filename\*=UTF-8''(\S+)$/.exec(disposition);
    expect(match, disposition).not.toBeNull();
    expect(match?.[1]).toBe('r_sum_ _final_ v2.txt');
    expect(decodeURIComponent(match?.[2] ?? '')).toBe('résumé _final_ v2.txt');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toBe('attachment body');
  });

  it('/messages/:id/session is the SMTP session that carried the message', async () => {
    const session = SmtpSessionSchema.parse(await t.getJson(`/messages/${ids.reset}/session`));
    const message = CapturedMessageSchema.parse(await t.getJson(`/messages/${ids.reset}`));
    expect(session.id).toBe(message.sessionId);
    expect(session.messageIds).toContain(ids.reset);
    expect(session.listener).toBe('smtps');
    expect(session.tls).toEqual(message.tls);
    const sessions = await t.getJson<{ sessions: unknown[]; total: number }>('/sessions?listener=lab');
    expect(sessions.total).toBe(1);
    expect(SmtpSessionSchema.parse(sessions.sessions[0]).messageIds).toEqual([ids.lab]);
  });

  it('/info lists every listener with its real, connectable port', async () => {
    const info = await t.getJson<ServerInfo>('/info');
    expect(info.http.port).toBe(t.server.httpPort);
    expect(info.http.url).toBe(t.server.url);
    const ports = Object.fromEntries(info.listeners.map((listener) => [listener.name, listener.port]));
    expect(ports).toEqual({ smtp: t.server.smtp.port, smtps: t.server.smtps.port, lab: t.listenerPort('lab') });
    expect(info.listeners.find((listener) => listener.name === 'smtps')).toMatchObject({ tls: 'implicit' });
    expect(info.listeners.find((listener) => listener.name === 'smtp')).toMatchObject({ tls: 'starttls', starttls: 'offer' });
    for (const listener of info.listeners) {
      expect(listener.port).toBeGreaterThan(0);
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect({ host: HOST, port: listener.port }, () => {
          socket.destroy();
          resolve();
        });
        socket.once('error', reject);
      });
    }
    expect(info.limits).toEqual({
      maxMessageSize: 50 * 1024 * 1024,
      maxMessages: 10_000,
      maxRecipients: 1000,
      maxMemory: 512 * 1024 * 1024,
      maxConnections: 2000,
      maxConnectionsPerIp: 1000,
      commandTimeoutMs: 60_000,
      dataTimeoutMs: 600_000,
    });
  });

  it('/health is 200 while every listener accepts connections', async () => {
    const response = await t.request('/health');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok', listeners: { smtp: true, smtps: true, lab: true } });
  });

  it('/tls/ca.pem serves the test CA, and trusting it is enough to verify the server', async () => {
    const response = await t.request('/tls/ca.pem');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-pem-file/);
    const pem = await response.text();
    expect(pem).toBe(t.server.ca);
    const ca = new X509Certificate(pem);
    expect(ca.ca).toBe(true);
    const authorized = await new Promise<boolean>((resolve, reject) => {
      const socket = tls.connect({ host: HOST, port: t.server.smtps.port, ca: pem, servername: 'localhost' }, () => {
        resolve(socket.authorized);
        socket.destroy();
      });
      socket.once('error', reject);
    });
    expect(authorized).toBe(true);
  });
});

describe('deleting messages', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ listeners: [{ name: 'lab', tls: 'none' }] });
  });
  afterAll(() => t?.close());

  async function seed(): Promise<{ smtp: string[]; lab: string }> {
    const smtp = [await sendRaw(t, readFixture('plain-text')), await sendRaw(t, readFixture('html-with-attachment'))];
    const lab = await sendRaw(t, readFixture('plain-text'), { port: t.listenerPort('lab') });
    return { smtp, lab };
  }

  it('DELETE /messages/:id deletes one, then it is gone everywhere', async () => {
    const { smtp } = await seed();
    const [victim, survivor] = smtp as [string, string];
    const response = await t.request(`/messages/${victim}`, { method: 'DELETE' });
    expect(response.status).toBe(204);
    await expectJsonError(await t.request(`/messages/${victim}`), 404, 'MESSAGE_NOT_FOUND');
    await expectJsonError(await t.request(`/messages/${victim}/raw`), 404, 'MESSAGE_NOT_FOUND');
    await expectJsonError(await t.request(`/messages/${victim}`, { method: 'DELETE' }), 404, 'MESSAGE_NOT_FOUND');
    const list = await t.getJson<ListBody>('/messages');
    expect(list.messages.map((message) => message.id)).not.toContain(victim);
    expect(list.messages.map((message) => message.id)).toContain(survivor);
  });

  it('DELETE /messages without a filter is refused unless all=true', async () => {
    await seed();
    const before = await t.getJson<ListBody>('/messages');
    expect(before.total).toBeGreaterThan(0);
    await expectJsonError(await t.request('/messages', { method: 'DELETE' }), 400, 'FILTER_REQUIRED');
    await expectJsonError(await t.request('/messages?all=false', { method: 'DELETE' }), 400, 'FILTER_REQUIRED');
    expect((await t.getJson<ListBody>('/messages')).total).toBe(before.total);

    const byFilter = await t.request('/messages?listener=lab', { method: 'DELETE' });
    expect(byFilter.status).toBe(200);
    const deleted = (await byFilter.json()) as { deleted: number; ids: string[] };
    const labIds = before.messages.filter((message) => message.listener === 'lab').map((message) => message.id);
    expect(deleted.deleted).toBe(labIds.length);
    expect([...deleted.ids].sort()).toEqual([...labIds].sort());
    expect((await t.getJson<ListBody>('/messages?listener=lab')).total).toBe(0);
    expect((await t.getJson<ListBody>('/messages')).total).toBe(before.total - labIds.length);

    const all = await t.request('/messages?all=true', { method: 'DELETE' });
    expect(all.status).toBe(200);
    expect(((await all.json()) as { deleted: number }).deleted).toBe(before.total - labIds.length);
    expect((await t.getJson<ListBody>('/messages')).total).toBe(0);
  });

  it('an invalid filter on DELETE deletes nothing', async () => {
    await seed();
    const total = (await t.getJson<ListBody>('/messages')).total;
    await expectJsonError(await t.request('/messages?subject=re:[', { method: 'DELETE' }), 400, 'INVALID_FILTER');
    expect((await t.getJson<ListBody>('/messages')).total).toBe(total);
  });
});

import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmtpSession } from '@mailwright/core';
import { RawSmtpClient, type SmtpReply } from '../test-support/raw-smtp-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

const HOST = '127.0.0.1';
const USER = { username: 'mallory', password: 'Tr0ub4dor&3' };
const MUST_STARTTLS = '530 5.7.0 Must issue a STARTTLS command first';

function line(reply: SmtpReply): string {
  return reply.raw.join('\n');
}

function message(subject: string): string {
  return `From: app@app.test\r\nTo: user@inbox.test\r\nSubject: ${subject}\r\n\r\nbody\r\n`;
}

/** Runs a raw client to the end and returns its closed session. */
async function sessionOf(t: TestServer, client: RawSmtpClient, sessionIdHint: () => Promise<string>): Promise<SmtpSession> {
  await client.quit();
  return t.closedSession(await sessionIdHint());
}

/** The id of the newest session on a listener. */
async function newestSessionId(t: TestServer, listener = 'smtp'): Promise<string> {
  const { sessions } = await t.getJson<{ sessions: SmtpSession[] }>(`/sessions?listener=${listener}&limit=1`);
  const [session] = sessions;
  if (!session) throw new Error('no session');
  return session.id;
}

describe("starttls: 'require'", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ starttls: 'require', authUsers: [USER] });
  });
  afterAll(() => t?.close());

  it('refuses MAIL and AUTH before STARTTLS with 530 and captures nothing', async () => {
    const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
    await client.ehlo();
    expect(client.capabilities).toContain('STARTTLS');
    expect(line(await client.command('MAIL FROM:<app@app.test>'))).toBe(MUST_STARTTLS);
    // AUTH LOGIN is refused at once, before any 334 prompt invites the password in plaintext.
    expect(line(await client.command('AUTH LOGIN'))).toBe(MUST_STARTTLS);
    expect(line(await client.authPlain(USER.username, USER.password))).toBe(MUST_STARTTLS);
    // Nothing slips through with pipelining either.
    client.write('MAIL FROM:<app@app.test>\r\nRCPT TO:<user@inbox.test>\r\nDATA\r\n');
    expect((await client.readReply()).code).toBe(530);
    expect((await client.readReply()).code).toBe(503);
    expect((await client.readReply()).code).toBe(503);
    const session = await sessionOf(t, client, () => newestSessionId(t));
    expect(session.messageIds).toEqual([]);
    expect(session.auth).toBeNull();
    // The PLAIN initial response carried the password in the clear: that is recorded.
    expect(session.authBeforeTls).toBe(true);
    expect((await t.messages()).total).toBe(0);
  });

  it('nodemailer that skips STARTTLS is refused with 530', async () => {
    const transport = nodemailer.createTransport({ host: HOST, port: t.server.smtp.port, ignoreTLS: true });
    await expect(transport.sendMail({ from: 'app@app.test', to: 'user@inbox.test', subject: 'no tls', text: 'x' })).rejects.toMatchObject({
      responseCode: 530,
    });
    transport.close();
    expect((await t.messages()).total).toBe(0);
  });

  it('accepts the same transaction after STARTTLS, with AUTH', async () => {
    const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
    await client.ehlo();
    await client.starttls({ ca: t.server.ca, servername: 'localhost' });
    await client.ehlo();
    expect((await client.authPlain(USER.username, USER.password)).code).toBe(235);
    const replies = await client.sendMessage({ from: 'app@app.test', to: ['user@inbox.test'], data: message('after starttls') });
    expect(replies.final?.code).toBe(250);
    const session = await sessionOf(t, client, () => newestSessionId(t));
    expect(session.authBeforeTls).toBe(false);
    const { messages } = await t.messages({ subject: 'after starttls' });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.tls.mode).toBe('starttls');
    expect(messages[0]?.auth).toEqual({ mechanism: 'PLAIN', username: USER.username });
  });
});

describe("starttls: 'off'", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ starttls: 'off' });
  });
  afterAll(() => t?.close());

  it('does not advertise STARTTLS and refuses the command with 5xx', async () => {
    const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
    const ehlo = await client.ehlo();
    expect(ehlo.code).toBe(250);
    expect(client.capabilities).not.toContain('STARTTLS');
    const refused = await client.command('STARTTLS');
    expect(refused.code).toBeGreaterThanOrEqual(500);
    expect(refused.code).toBeLessThan(600);
    // Still plaintext SMTP afterwards: no handshake was started.
    const replies = await client.sendMessage({ from: 'app@app.test', to: ['user@inbox.test'], data: message('plaintext only') });
    expect(replies.final?.code).toBe(250);
    const session = await sessionOf(t, client, () => newestSessionId(t));
    expect(session.tls.starttlsOffered).toBe(false);
    expect(session.tls.mode).toBe('none');
    const { messages } = await t.messages({ subject: 'plaintext only' });
    expect(messages[0]?.tls).toMatchObject({ mode: 'none', starttlsOffered: false, protocol: null });
  });

  it('a client that requires TLS cannot deliver', async () => {
    const transport = nodemailer.createTransport({ host: HOST, port: t.server.smtp.port, requireTLS: true, tls: { ca: t.server.ca } });
    await expect(transport.sendMail({ from: 'app@app.test', to: 'user@inbox.test', subject: 'needs tls', text: 'x' })).rejects.toThrow(/STARTTLS/i);
    transport.close();
    expect((await t.messages({ subject: 'needs tls' })).total).toBe(0);
  });
});

describe("auth: 'required' with authUsers", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ auth: 'required', authUsers: [USER] });
  });
  afterAll(() => t?.close());

  it('refuses MAIL without credentials with 530', async () => {
    const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
    await client.ehlo();
    expect((await client.command('MAIL FROM:<app@app.test>')).code).toBe(530);
    await client.quit();
    const transport = nodemailer.createTransport({ host: HOST, port: t.server.smtp.port, ignoreTLS: true });
    await expect(transport.sendMail({ from: 'app@app.test', to: 'user@inbox.test', subject: 'anonymous', text: 'x' })).rejects.toMatchObject({
      responseCode: 530,
    });
    transport.close();
    expect((await t.messages()).total).toBe(0);
  });

  it.each(['PLAIN', 'LOGIN', 'CRAM-MD5'] as const)('answers a wrong password over AUTH %s with 535 and records no identity', async (authMethod) => {
    const transport = nodemailer.createTransport({
      host: HOST,
      port: t.server.smtp.port,
      requireTLS: true,
      tls: { ca: t.server.ca, servername: 'localhost' },
      auth: { user: USER.username, pass: 'not-the-password' },
      authMethod,
    });
    await expect(transport.sendMail({ from: 'app@app.test', to: 'user@inbox.test', subject: `wrong ${authMethod}`, text: 'x' })).rejects.toMatchObject({
      responseCode: 535,
    });
    transport.close();
    const session = await t.closedSession(await newestSessionId(t));
    expect(session.auth).toBeNull();
    expect(session.transcript.some((entry) => entry.dir === 'server' && entry.line.startsWith('535'))).toBe(true);
    expect(JSON.stringify(session)).not.toContain('not-the-password');
    expect((await t.messages()).total).toBe(0);
  });

  it('answers an unknown user with 535', async () => {
    const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
    await client.ehlo();
    expect((await client.authPlain('nobody', USER.password)).code).toBe(535);
    expect((await client.authPlain(USER.username, USER.password)).code).toBe(235);
    await client.quit();
  });
});

describe('authBeforeTls and redaction', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ authUsers: [USER] });
  });
  afterAll(() => t?.close());

  const secrets = {
    plain: Buffer.from(`\0${USER.username}\0${USER.password}`).toString('base64'),
    loginUser: Buffer.from(USER.username).toString('base64'),
    loginPassword: Buffer.from(USER.password).toString('base64'),
  };

  /** AUTH PLAIN, then AUTH LOGIN on a second connection, optionally after STARTTLS; returns both sessions and messages. */
  async function deliverWithAuth(secure: boolean, label: string) {
    const results: { session: SmtpSession; detail: string; raw: Buffer }[] = [];
    for (const mechanism of ['PLAIN', 'LOGIN'] as const) {
      const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
      await client.ehlo();
      if (secure) {
        await client.starttls({ ca: t.server.ca, servername: 'localhost' });
        await client.ehlo();
      }
      if (mechanism === 'PLAIN') {
        expect((await client.command(`AUTH PLAIN ${secrets.plain}`)).code).toBe(235);
      } else {
        expect((await client.command('AUTH LOGIN')).code).toBe(334);
        expect((await client.command(secrets.loginUser)).code).toBe(334);
        expect((await client.command(secrets.loginPassword)).code).toBe(235);
      }
      const subject = `${label} ${mechanism}`;
      expect((await client.sendMessage({ from: 'app@app.test', to: ['user@inbox.test'], data: message(subject) })).final?.code).toBe(250);
      await client.quit();
      const { messages } = await t.messages({ subject });
      const stored = messages[0];
      if (!stored) throw new Error(`message ${subject} not stored`);
      expect(stored.auth).toEqual({ mechanism, username: USER.username });
      const session = await t.closedSession(stored.sessionId);
      const detail = await t.request(`/messages/${stored.id}`).then((response) => response.text());
      results.push({ session, detail, raw: await t.raw(stored.id) });
    }
    return results;
  }

  function expectRedacted(results: { session: SmtpSession; detail: string; raw: Buffer }[]): void {
    for (const { session, detail, raw } of results) {
      const sessionJson = JSON.stringify(session);
      for (const text of [sessionJson, detail, raw.toString('latin1')]) {
        for (const secret of [secrets.plain, secrets.loginUser, secrets.loginPassword, USER.password]) expect(text).not.toContain(secret);
      }
      // The commands are in the transcript, their arguments are not.
      const clientLines = session.transcript.filter((entry) => entry.dir === 'client').map((entry) => entry.line);
      expect(clientLines.some((entry) => /^AUTH (PLAIN|LOGIN)\b/.test(entry))).toBe(true);
      expect(session.transcript.some((entry) => entry.dir === 'server' && entry.line.startsWith('235'))).toBe(true);
    }
  }

  it('is true when credentials are sent in plaintext, and secrets are redacted', async () => {
    const results = await deliverWithAuth(false, 'plaintext auth');
    for (const { session } of results) {
      expect(session.authBeforeTls).toBe(true);
      expect(session.tls.mode).toBe('none');
    }
    expectRedacted(results);
  });

  it('is false when credentials are sent after STARTTLS, and secrets are redacted', async () => {
    const results = await deliverWithAuth(true, 'tls auth');
    for (const { session } of results) {
      expect(session.authBeforeTls).toBe(false);
      expect(session.tls.mode).toBe('starttls');
    }
    expectRedacted(results);
  });

  it('stays true when the client authenticated in plaintext and upgraded afterwards; the identity does not survive STARTTLS', async () => {
    const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
    await client.ehlo();
    expect((await client.authPlain(USER.username, USER.password)).code).toBe(235);
    await client.starttls({ ca: t.server.ca, servername: 'localhost' });
    await client.ehlo();
    expect((await client.sendMessage({ from: 'app@app.test', to: ['user@inbox.test'], data: message('auth then starttls') })).final?.code).toBe(250);
    await client.quit();
    const { messages } = await t.messages({ subject: 'auth then starttls' });
    // RFC 3207 section 4.2: what was learnt before STARTTLS is discarded.
    expect(messages[0]?.auth).toBeNull();
    expect(messages[0]?.tls.mode).toBe('starttls');
    const session = await t.closedSession(messages[0]?.sessionId ?? '');
    expect(session.authBeforeTls).toBe(true);
    expect(session.auth).toBeNull();
    expect(session.transcript.some((entry) => entry.dir === 'client' && entry.line.startsWith('AUTH PLAIN'))).toBe(true);
  });
});

describe("auth: 'off'", () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ auth: 'off' });
  });
  afterAll(() => t?.close());

  it('does not advertise AUTH and refuses it with 5xx, while mail is accepted', async () => {
    const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
    await client.ehlo();
    expect(client.capabilities).not.toContain('AUTH');
    const refused = await client.command('AUTH LOGIN');
    expect(refused.code).toBeGreaterThanOrEqual(500);
    expect((await client.sendMessage({ from: 'app@app.test', to: ['user@inbox.test'], data: message('no auth') })).final?.code).toBe(250);
    await client.quit();
    expect((await t.messages({ subject: 'no auth' })).messages[0]?.auth).toBeNull();
  });
});

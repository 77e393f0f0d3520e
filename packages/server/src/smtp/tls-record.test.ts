import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CapturedMessageSchema, SmtpSessionSchema, type CapturedMessage, type SmtpSession, type TlsInfo } from '@mailwright/core';
import { loadTestAuthority, type CertificateAndKey } from '../tls/test-authority.js';
import { RawSmtpClient, type ClientTlsView } from '../test-support/raw-smtp-client.js';
import { recordTlsConnections, type TlsConnectionRecording } from '../test-support/record-tls-connections.js';
import { pollFor, startTestServer, type TestServer } from '../test-support/test-server.js';
import { uniqueSubject } from '../test-support/unique-subject.js';

const HOST = '127.0.0.1';
const USER = { username: 'alice', password: 'wonderland-7' };
const CLIENT_CN = 'mailwright-test-client';

let t: TestServer;
let clientCert: CertificateAndKey;
let foreignCert: CertificateAndKey;
let foreignDataDir: string;
let recording: TlsConnectionRecording | null = null;

beforeAll(async () => {
  t = await startTestServer({
    authUsers: [USER],
    listeners: [
      { name: 'mtls', tls: 'implicit', clientCertificate: 'request' },
      { name: 'mtls-starttls', tls: 'starttls', clientCertificate: 'request' },
      { name: 'mtls-required', tls: 'implicit', clientCertificate: 'require' },
      { name: 'mtls-required-starttls', tls: 'starttls', clientCertificate: 'require' },
    ],
  });
  // The same data directory as the server: the client certificate chains to the server's CA.
  const authority = await loadTestAuthority({ dataDir: t.dataDir, hostnames: [] });
  expect(authority.caPem).toBe(t.server.ca);
  clientCert = await authority.issueClientCertificate(CLIENT_CN);
  foreignDataDir = await mkdtemp(join(tmpdir(), 'mailwright-foreign-ca-'));
  foreignCert = await (await loadTestAuthority({ dataDir: foreignDataDir, hostnames: [] })).issueClientCertificate('stranger');
});

afterAll(async () => {
  await t?.close();
  if (foreignDataDir) await rm(foreignDataDir, { recursive: true, force: true });
});

afterEach(() => {
  recording?.stop();
  recording = null;
});

/** Sends one mail with nodemailer, recording the TLS connections it opens. */
async function sendWithNodemailer(
  options: SMTPTransport.Options,
  label: string,
): Promise<{ message: CapturedMessage; session: SmtpSession; views: ClientTlsView[] }> {
  const subject = uniqueSubject(label);
  recording = recordTlsConnections();
  const transport = nodemailer.createTransport({ host: HOST, ...options });
  try {
    const info = await transport.sendMail({ from: 'sender@app.test', to: 'rcpt@inbox.test', subject, text: `body of ${subject}` });
    expect(info.accepted).toEqual(['rcpt@inbox.test']);
  } finally {
    transport.close();
    recording.stop();
  }
  const views = recording.views;
  recording = null;
  return { ...(await storedBySubject(subject)), views };
}

async function storedBySubject(subject: string): Promise<{ message: CapturedMessage; session: SmtpSession }> {
  const list = await t.messages({ subject });
  expect(list.total).toBe(1);
  const message = CapturedMessageSchema.parse(list.messages[0]);
  const session = SmtpSessionSchema.parse(await t.closedSession(message.sessionId));
  expect(session.messageIds).toContain(message.id);
  // The per-message record and the session record of the same connection agree.
  expect(message.tls).toEqual(session.tls);
  return { message, session };
}

/** The stored TLS record equals what the client's own socket reported. */
function expectMatchesClientView(stored: TlsInfo, view: ClientTlsView | undefined): void {
  expect(view, 'the client completed a TLS handshake').toBeDefined();
  if (!view) return;
  expect(view.protocol).toMatch(/^TLSv1\.[23]$/);
  expect(stored.protocol).toBe(view.protocol);
  expect(stored.cipher).toEqual(view.cipher);
  expect(stored.servername).toBe(view.servername);
  expect(stored.resumed).toBe(view.resumed);
}

describe('nodemailer as the client', () => {
  it('records a plaintext delivery as mode none, noting that STARTTLS was offered', async () => {
    const { message, session, views } = await sendWithNodemailer({ port: t.server.smtp.port, ignoreTLS: true }, 'plain');
    expect(views).toEqual([]);
    expect(message.tls).toEqual({
      mode: 'none',
      starttlsOffered: true,
      protocol: null,
      cipher: null,
      servername: null,
      alpnProtocol: null,
      resumed: false,
      clientCertificate: null,
    });
    expect(message.listener).toBe('smtp');
    expect(session.greeting).toBe('EHLO');
    expect(session.error).toBeNull();
  });

  it('records STARTTLS with the protocol, cipher and SNI the client negotiated', async () => {
    const { message, views } = await sendWithNodemailer(
      { port: t.server.smtp.port, requireTLS: true, tls: { ca: t.server.ca, servername: 'localhost' } },
      'starttls',
    );
    expect(views).toHaveLength(1);
    expectMatchesClientView(message.tls, views[0]);
    expect(message.tls.mode).toBe('starttls');
    expect(message.tls.starttlsOffered).toBe(true);
    expect(message.tls.servername).toBe('localhost');
    expect(message.tls.clientCertificate).toBeNull();
  });

  it('records TLS 1.2 when the client caps STARTTLS at TLS 1.2', async () => {
    const { message, views } = await sendWithNodemailer(
      { port: t.server.smtp.port, requireTLS: true, tls: { ca: t.server.ca, servername: 'localhost', maxVersion: 'TLSv1.2' } },
      'starttls-tls12',
    );
    expectMatchesClientView(message.tls, views[0]);
    expect(message.tls.protocol).toBe('TLSv1.2');
    expect(message.tls.cipher?.version).toBe('TLSv1.2');
    // A TLS 1.2 suite name, not one of the TLS 1.3 TLS_* suites.
    expect(message.tls.cipher?.standardName).toMatch(/^TLS_ECDHE_ECDSA_WITH_/);
  });

  it('records TLS 1.3 when the client insists on TLS 1.3', async () => {
    const { message, views } = await sendWithNodemailer(
      { port: t.server.smtp.port, requireTLS: true, tls: { ca: t.server.ca, servername: 'localhost', minVersion: 'TLSv1.3' } },
      'starttls-tls13',
    );
    expectMatchesClientView(message.tls, views[0]);
    expect(message.tls.protocol).toBe('TLSv1.3');
    expect(message.tls.cipher?.name).toMatch(/^TLS_(AES|CHACHA20)_/);
  });

  it('records implicit TLS on the smtps listener without a STARTTLS offer', async () => {
    const { message, session, views } = await sendWithNodemailer(
      { port: t.server.smtps.port, secure: true, tls: { ca: t.server.ca, servername: 'localhost' } },
      'implicit',
    );
    expect(views).toHaveLength(1);
    expectMatchesClientView(message.tls, views[0]);
    expect(message.tls.mode).toBe('implicit');
    expect(message.tls.starttlsOffered).toBe(false);
    expect(message.listener).toBe('smtps');
    expect(session.listener).toBe('smtps');
    expect(session.localPort).toBe(t.server.smtps.port);
  });

  it.each(['PLAIN', 'LOGIN', 'CRAM-MD5'] as const)('records AUTH %s with the username and never the password', async (mechanism) => {
    const { message, session, views } = await sendWithNodemailer(
      {
        port: t.server.smtp.port,
        requireTLS: true,
        tls: { ca: t.server.ca, servername: 'localhost' },
        auth: { user: USER.username, pass: USER.password },
        authMethod: mechanism,
      },
      `auth-${mechanism}`,
    );
    expectMatchesClientView(message.tls, views[0]);
    expect(message.auth).toEqual({ mechanism, username: USER.username });
    expect(session.auth).toEqual({ mechanism, username: USER.username });
    expect(session.authBeforeTls).toBe(false);
    expect(session.transcript.some((line) => line.dir === 'client' && line.line.toUpperCase().startsWith(`AUTH ${mechanism}`))).toBe(true);
    expect(session.transcript.some((line) => line.dir === 'server' && line.line.startsWith('235'))).toBe(true);
    const detail = await t.request(`/messages/${message.id}`).then((response) => response.text());
    for (const text of [JSON.stringify(session), detail]) {
      expect(text).not.toContain(USER.password);
      expect(text).not.toContain(Buffer.from(USER.password).toString('base64'));
      expect(text).not.toContain(Buffer.from(`\0${USER.username}\0${USER.password}`).toString('base64'));
    }
  });

  it('records the client certificate presented on a listener that requests one', async () => {
    const { message, views } = await sendWithNodemailer(
      { port: t.listenerPort('mtls'), secure: true, tls: { ca: t.server.ca, servername: 'localhost', cert: clientCert.cert, key: clientCert.key } },
      'mtls',
    );
    expectMatchesClientView(message.tls, views[0]);
    const issued = new X509Certificate(clientCert.cert);
    const ca = new X509Certificate(t.server.ca);
    expect(message.listener).toBe('mtls');
    expect(message.tls.clientCertificate).toEqual({
      subject: `CN=${CLIENT_CN}`,
      issuer: ca.subject.split('\n').join(', '),
      serialNumber: issued.serialNumber,
      fingerprint256: issued.fingerprint256,
      validFrom: new Date(issued.validFrom).toISOString(),
      validTo: new Date(issued.validTo).toISOString(),
      authorized: true,
      authorizationError: null,
    });
    // What the client says it presented is what the server recorded.
    expect(message.tls.clientCertificate?.fingerprint256).toBe(views[0]?.localCertificateFingerprint256);
  });

  it('records no client certificate when the client has none to offer', async () => {
    const { message } = await sendWithNodemailer(
      { port: t.listenerPort('mtls'), secure: true, tls: { ca: t.server.ca, servername: 'localhost' } },
      'mtls-none',
    );
    expect(message.tls.mode).toBe('implicit');
    expect(message.tls.clientCertificate).toBeNull();
  });

  it('records a client certificate from an unknown CA as presented but not authorized', async () => {
    const { message, views } = await sendWithNodemailer(
      { port: t.listenerPort('mtls'), secure: true, tls: { ca: t.server.ca, servername: 'localhost', cert: foreignCert.cert, key: foreignCert.key } },
      'mtls-foreign',
    );
    const foreign = new X509Certificate(foreignCert.cert);
    expect(message.tls.clientCertificate).toMatchObject({ subject: 'CN=stranger', fingerprint256: foreign.fingerprint256, authorized: false });
    expect(message.tls.clientCertificate?.authorizationError).toMatch(/^[A-Z_]+$/);
    expect(message.tls.clientCertificate?.fingerprint256).toBe(views[0]?.localCertificateFingerprint256);
  });
});

describe('a raw SMTP client reading its own TLS socket', () => {
  async function rawDelivery(client: RawSmtpClient, subject: string): Promise<{ message: CapturedMessage; session: SmtpSession }> {
    const replies = await client.sendMessage({
      from: 'raw@app.test',
      to: ['raw@inbox.test'],
      data: `From: raw@app.test\r\nTo: raw@inbox.test\r\nSubject: ${subject}\r\n\r\nraw body\r\n`,
    });
    expect(replies.final?.code).toBe(250);
    await client.quit();
    return storedBySubject(subject);
  }

  it.each([
    ['TLSv1.2', { maxVersion: 'TLSv1.2' }],
    ['TLSv1.3', { minVersion: 'TLSv1.3' }],
  ] as const)('STARTTLS with %s: protocol, cipher and SNI equal the client view', async (protocol, versions) => {
    const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
    const ehlo = await client.ehlo();
    expect(ehlo.code).toBe(250);
    expect(client.capabilities).toContain('STARTTLS');
    const view = await client.starttls({ ca: t.server.ca, servername: 'localhost', ...versions });
    expect(view.authorized).toBe(true);
    expect(view.protocol).toBe(protocol);
    expect((await client.ehlo()).code).toBe(250);
    // STARTTLS is not offered again inside TLS.
    expect(client.capabilities).not.toContain('STARTTLS');
    const { message, session } = await rawDelivery(client, uniqueSubject(`raw-${protocol}`));
    expectMatchesClientView(message.tls, view);
    expect(message.tls).toMatchObject({ mode: 'starttls', starttlsOffered: true, servername: 'localhost', alpnProtocol: null, clientCertificate: null });
    expect(session.transcript.filter((line) => line.dir === 'client').map((line) => line.line.split(' ')[0])).toEqual([
      'EHLO',
      'STARTTLS',
      'EHLO',
      'MAIL',
      'RCPT',
      'DATA',
      'QUIT',
    ]);
  });

  it('records a custom SNI name exactly as the client sent it', async () => {
    const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
    await client.ehlo();
    // The test certificate does not cover this name; this client checks only the chain.
    const view = await client.starttls({ ca: t.server.ca, servername: 'mx.customer.example', checkServerIdentity: () => undefined });
    await client.ehlo();
    const { message } = await rawDelivery(client, uniqueSubject('raw-sni'));
    expectMatchesClientView(message.tls, view);
    expect(message.tls.servername).toBe('mx.customer.example');
  });

  it('records no SNI when the client sent none', async () => {
    const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
    await client.ehlo();
    // Connecting by IP address: Node.js sends no server_name extension.
    const view = await client.starttls({ ca: t.server.ca, checkServerIdentity: () => undefined });
    expect(view.servername).toBeNull();
    await client.ehlo();
    const { message } = await rawDelivery(client, uniqueSubject('raw-no-sni'));
    expectMatchesClientView(message.tls, view);
    expect(message.tls.servername).toBeNull();
  });

  it('implicit TLS: protocol and cipher equal the client view', async () => {
    const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtps.port, implicitTls: { ca: t.server.ca, servername: 'localhost' } });
    expect(client.greeting.code).toBe(220);
    await client.ehlo();
    expect(client.capabilities).not.toContain('STARTTLS');
    const view = client.tls;
    const { message } = await rawDelivery(client, uniqueSubject('raw-implicit'));
    expectMatchesClientView(message.tls, view ?? undefined);
    expect(message.tls.mode).toBe('implicit');
  });

  it('STARTTLS with a client certificate on a listener that requests one', async () => {
    const client = await RawSmtpClient.connect({ host: HOST, port: t.listenerPort('mtls-starttls') });
    await client.ehlo();
    const view = await client.starttls({ ca: t.server.ca, servername: 'localhost', cert: clientCert.cert, key: clientCert.key });
    await client.ehlo();
    const { message } = await rawDelivery(client, uniqueSubject('raw-mtls'));
    expectMatchesClientView(message.tls, view);
    expect(message.tls.mode).toBe('starttls');
    expect(message.tls.clientCertificate).toMatchObject({
      subject: `CN=${CLIENT_CN}`,
      fingerprint256: view.localCertificateFingerprint256,
      authorized: true,
      authorizationError: null,
    });
  });

  it('names a failed STARTTLS handshake after a transcript that is already full', async () => {
    const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
    const port = client.localPort;
    await client.ehlo();
    // 300 commands and their replies: past the 500 lines a transcript keeps.
    for (let i = 0; i < 300; i++) expect((await client.command('NOOP')).code).toBe(250);
    // The client does not trust the certificate: its handshake fails.
    await expect(client.starttls({ servername: 'localhost' })).rejects.toThrow();
    const session = await pollFor(async () => {
      const { sessions } = await t.getJson<{ sessions: SmtpSession[] }>('/sessions?limit=1000');
      return sessions.find((candidate) => candidate.remotePort === port && candidate.closedAt !== null);
    }, 'the closed session');
    expect(session.transcript.at(-1)?.line).toMatch(/transcript truncated/);
    expect(session.error).toMatchObject({ stage: 'tls' });
  });

  it('keeps one TLS record per connection: a second message on the same connection carries the same record', async () => {
    const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
    await client.ehlo();
    const view = await client.starttls({ ca: t.server.ca, servername: 'localhost' });
    await client.ehlo();
    const subjects = [uniqueSubject('same-conn-1'), uniqueSubject('same-conn-2')];
    for (const subject of subjects) {
      const replies = await client.sendMessage({ from: 'a@app.test', to: ['b@inbox.test'], data: `Subject: ${subject}\r\n\r\nx\r\n` });
      expect(replies.final?.code).toBe(250);
    }
    await client.quit();
    const [first, second] = await Promise.all(subjects.map((subject) => storedBySubject(subject)));
    expectMatchesClientView(first!.message.tls, view);
    expect(second!.message.tls).toEqual(first!.message.tls);
    expect(second!.message.sessionId).toBe(first!.message.sessionId);
    expect(second!.session.messageIds).toEqual([first!.message.id, second!.message.id]);
  });
});

describe("clientCertificate 'require'", () => {
  async function onlySession(listener: string): Promise<SmtpSession> {
    return pollFor(async () => {
      const { sessions } = await t.getJson<{ sessions: SmtpSession[] }>(`/sessions?listener=${listener}`);
      const [session] = sessions;
      return sessions.length === 1 && session?.closedAt ? session : undefined;
    }, `the closed session of ${listener}`);
  }

  it.each([
    ['mtls-required', true],
    ['mtls-required-starttls', false],
  ] as const)('%s refuses a certificate from an unknown CA, stores nothing and records why', async (listener, secure) => {
    const transport = nodemailer.createTransport({
      host: HOST,
      port: t.listenerPort(listener),
      secure,
      requireTLS: !secure,
      tls: { ca: t.server.ca, servername: 'localhost', cert: foreignCert.cert, key: foreignCert.key },
    });
    const subject = uniqueSubject(`refused-${listener}`);
    await expect(transport.sendMail({ from: 'a@app.test', to: 'b@inbox.test', subject, text: 'x' })).rejects.toThrow();
    transport.close();
    const session = await onlySession(listener);
    expect(session.error).toMatchObject({ stage: 'tls', code: 'unable_to_verify_leaf_signature' });
    expect(session.messageIds).toEqual([]);
    expect((await t.messages({ listener })).total).toBe(0);
  });

  it.each([
    ['mtls-required', true],
    ['mtls-required-starttls', false],
  ] as const)('%s accepts a certificate issued by the test CA', async (listener, secure) => {
    const { message } = await sendWithNodemailer(
      {
        port: t.listenerPort(listener),
        secure,
        requireTLS: !secure,
        tls: { ca: t.server.ca, servername: 'localhost', cert: clientCert.cert, key: clientCert.key },
      },
      `accepted-${listener}`,
    );
    expect(message.listener).toBe(listener);
    expect(message.tls.clientCertificate).toMatchObject({ subject: `CN=${CLIENT_CN}`, authorized: true, authorizationError: null });
  });
});

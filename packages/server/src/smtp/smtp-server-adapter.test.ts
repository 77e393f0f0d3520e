import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPConnection, verifyPeerCertificate } from 'smtp-server/lib/smtp-connection.js';
import { RawSmtpClient } from '../test-support/raw-smtp-client.js';
import { loadTestAuthority, type CertificateAndKey } from '../tls/test-authority.js';
import {
  createSmtpServer,
  openSmtpConnection,
  REDACTED_CREDENTIALS,
  SMTP_SERVER_VERSION,
  type SmtpConnection,
  type SmtpConnectionHooks,
} from './smtp-server-adapter.js';

// Canaries: every smtp-server internal smtp-server-adapter.ts relies on, each checked by name.
// When one of these fails after an upgrade of smtp-server, revisit smtp-server-adapter.ts (and
// docs/internals.md) before moving the exact pin in package.json.
const REVISIT = 'smtp-server changed an internal smtp-server-adapter.ts relies on: revisit the adapter when upgrading smtp-server';
const require = createRequire(import.meta.url);

function canary(internal: string): string {
  return `${REVISIT} (${internal})`;
}

describe('the smtp-server version the adapter was written for', () => {
  it(`is installed, ${SMTP_SERVER_VERSION}`, () => {
    const { version } = require('smtp-server/package.json') as { version: string };
    expect(version, canary(`installed smtp-server ${version}, adapter written for ${SMTP_SERVER_VERSION}`)).toBe(SMTP_SERVER_VERSION);
  });

  it('is pinned exactly in package.json', () => {
    const manifest = require('../../package.json') as { dependencies: Record<string, string> };
    expect(manifest.dependencies['smtp-server'], 'smtp-server must be pinned to the exact version the adapter was written for').toBe(SMTP_SERVER_VERSION);
  });
});

describe('the smtp-server internals the adapter uses', () => {
  const prototype = SMTPConnection.prototype as unknown as Record<string, unknown>;

  it('exports SMTPConnection from smtp-server/lib/smtp-connection.js', () => {
    expect(typeof SMTPConnection, canary('SMTPConnection export of smtp-server/lib/smtp-connection.js')).toBe('function');
  });

  it('exports verifyPeerCertificate (client certificates after an implicit TLS handshake)', () => {
    expect(typeof verifyPeerCertificate, canary('verifyPeerCertificate export')).toBe('function');
  });

  it.each([
    ['_setListeners', "starts reading the socket (the start without smtp-server's 100 ms greeting wait)"],
    ['connectionReady', 'sends the greeting'],
    ['send', 'writes a reply'],
    ['close', 'ends a connection'],
    ['upgrade', 'runs the STARTTLS handshake (onStarttls)'],
    ['handler_STARTTLS', 'handles STARTTLS (intercept.STARTTLS)'],
    ['handler_AUTH', 'handles AUTH (intercept.AUTH)'],
  ])('SMTPConnection.prototype.%s is a method (%s)', (name) => {
    expect(typeof prototype[name], canary(`SMTPConnection.prototype.${name}`)).toBe('function');
  });

  it('a connection built on a socket keeps it as _socket, its command parser as _parser, and the id it was given', async () => {
    const server = createSmtpServer({}, { command() {}, reply() {}, error() {} });
    const [left, right] = await socketPair();
    try {
      const connection = new SMTPConnection(server, left, { id: 'canary' });
      const internals = connection as unknown as { _socket: unknown; _parser: unknown; id: unknown; session: { id?: unknown } };
      expect(internals.id, canary('SMTPConnection options.id')).toBe('canary');
      expect(internals.session.id, canary('SMTPConnection session.id')).toBe('canary');
      expect(internals._socket, canary('SMTPConnection._socket')).toBe(left);
      expect(internals._parser, canary('SMTPConnection._parser')).toBeInstanceOf(Writable);
    } finally {
      left.destroy();
      right.destroy();
    }
  });
});

describe('the adapter on a real connection', () => {
  let dataDir: string;
  let certificate: CertificateAndKey;
  const listeners: net.Server[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'mailwright-adapter-'));
    certificate = await (await loadTestAuthority({ dataDir, hostnames: [] })).serverCertificate('self-signed');
  });

  afterAll(async () => {
    for (const listener of listeners) listener.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A listener whose connections go through the adapter; what the transcript sink saw, by connection. */
  async function listen(hooks: SmtpConnectionHooks = {}) {
    const transcript: { dir: 'C' | 'S'; line: string }[] = [];
    const errors: unknown[] = [];
    const connections: SmtpConnection[] = [];
    const greetingWrittenDuringStart: boolean[] = [];
    const smtp = createSmtpServer(
      {
        name: 'adapter.test',
        key: certificate.key,
        cert: certificate.cert,
        authOptional: true,
        allowInsecureAuth: true,
        disableReverseLookup: true,
        // smtp-server's default onConnect answers on the next turn of the event loop.
        onConnect: (_session, callback) => callback(),
      },
      {
        command: (_id, line) => transcript.push({ dir: 'C', line }),
        reply: (_id, payload) => transcript.push({ dir: 'S', line: payload }),
        error: (_id, error) => errors.push(error),
      },
    );
    smtp.on('error', () => undefined);
    let sequence = 0;
    const server = net.createServer((socket) => {
      const connection = openSmtpConnection(smtp, socket, `adapter-${++sequence}`, hooks);
      connections.push(connection);
      const before = transcript.length;
      connection.start();
      greetingWrittenDuringStart.push(transcript.slice(before).some((entry) => entry.dir === 'S' && entry.line.startsWith('220 ')));
    });
    listeners.push(server);
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = (server.address() as net.AddressInfo).port;
    return { port, transcript, errors, connections, greetingWrittenDuringStart };
  }

  it('greets during start(), with the session id it was given (no early-talker wait)', async () => {
    const { port, connections, greetingWrittenDuringStart } = await listen();
    const client = await RawSmtpClient.connect({ host: '127.0.0.1', port });
    expect(client.greeting?.code).toBe(220);
    expect(greetingWrittenDuringStart, canary('start(): _setListeners(() => connectionReady()) writes the greeting synchronously')).toEqual([true]);
    expect(connections[0]?.id).toBe('adapter-1');
    await client.quit();
  });

  it('hands commands and replies to the transcript sink, with credentials redacted as REDACTED_CREDENTIALS', async () => {
    const { port, transcript } = await listen();
    const client = await RawSmtpClient.connect({ host: '127.0.0.1', port });
    await client.ehlo('canary.test');
    await client.command(`AUTH PLAIN ${Buffer.from('\0user\0secret').toString('base64')}`);
    await client.quit();
    expect(transcript, canary("logger.debug(fields, 'C:' | 'S:', line) with fields.cid and fields.tnx 'command' | 'send'")).toEqual(
      expect.arrayContaining([
        { dir: 'S', line: expect.stringMatching(/^220 adapter\.test ESMTP/) },
        { dir: 'C', line: 'EHLO canary.test' },
        { dir: 'S', line: expect.stringMatching(/^250-adapter\.test.*\r\n250[ -]/s) },
        { dir: 'C', line: 'QUIT' },
      ]),
    );
    expect(transcript, canary(`the ${REDACTED_CREDENTIALS} marker of a redacted AUTH argument`)).toContainEqual({
      dir: 'C',
      line: `AUTH PLAIN ${REDACTED_CREDENTIALS}`,
    });
  });

  it('hands a connection error that smtp-server only logs to the sink', async () => {
    const { port, errors } = await listen();
    const client = await RawSmtpClient.connect({ host: '127.0.0.1', port });
    await client.ehlo();
    // A reset outside a transaction is logged as (fields, '%s %s %s', id, address, message) and not emitted.
    client.currentSocket.resetAndDestroy();
    await expect.poll(() => errors.length, { message: canary("logger.error({ tnx: 'error', err }, '%s %s %s', connectionId, …)") }).toBeGreaterThan(0);
    expect((errors[0] as { code?: string }).code).toBe('ECONNRESET');
  });

  it('tells whether a transaction is open, and reply(421) closes the connection', async () => {
    const { port, connections } = await listen();
    const client = await RawSmtpClient.connect({ host: '127.0.0.1', port });
    await client.ehlo();
    const connection = connections[0] as SmtpConnection;
    expect(connection.inTransaction).toBe(false);
    expect((await client.command('MAIL FROM:<a@example.test>')).code).toBe(250);
    expect(connection.inTransaction, canary('SMTPConnection.session.envelope.mailFrom')).toBe(true);
    const reply = client.readReply();
    connection.reply(421, 'adapter.test closing');
    expect(await reply).toMatchObject({ code: 421, lines: ['adapter.test closing'] });
    await client.closed;
  });

  it('lets an interceptor answer STARTTLS itself, and AUTH be left to smtp-server', async () => {
    const seen: string[] = [];
    const { port } = await listen({
      intercept: {
        STARTTLS: (line, connection) => {
          seen.push(line);
          connection.reply(454, '4.7.0 not now');
          return true;
        },
        AUTH: (line) => {
          seen.push(line);
          return false;
        },
      },
    });
    const client = await RawSmtpClient.connect({ host: '127.0.0.1', port });
    await client.ehlo();
    expect(await client.command('STARTTLS'), canary('handler_STARTTLS replaced per connection')).toMatchObject({ code: 454, lines: ['4.7.0 not now'] });
    // smtp-server's own AUTH answers: 334 for a password prompt.
    expect((await client.command('AUTH LOGIN')).code, canary('handler_AUTH wrapped per connection')).toBe(334);
    expect(seen).toEqual(['STARTTLS', 'AUTH LOGIN']);
    // Still plaintext, still answering.
    client.write('*\r\n');
    await client.readReply();
    expect((await client.command('NOOP')).code).toBe(250);
    await client.quit();
  });

  it('gives onStarttls the plaintext socket after the 220, and the handshake waits for proceed()', async () => {
    const held: { socket: net.Socket | null; proceed: (() => void) | null } = { socket: null, proceed: null };
    const { port, connections } = await listen({
      onStarttls(socket, proceed) {
        held.socket = socket;
        held.proceed = proceed;
      },
    });
    const client = await RawSmtpClient.connect({ host: '127.0.0.1', port });
    await client.ehlo();
    const upgraded = client.starttls({ rejectUnauthorized: false });
    await expect.poll(() => held.proceed, { message: canary('SMTPConnection.upgrade(callback, secureCallback), _socket, _parser') }).not.toBeNull();
    expect(held.socket).toBeInstanceOf(net.Socket);
    expect(connections[0]?.secure).toBe(false);
    held.proceed?.();
    expect((await upgraded).protocol).toMatch(/^TLSv1\.[23]$/);
    expect((await client.ehlo()).code).toBe(250);
    expect(connections[0]?.secure, canary('SMTPConnection.secure after STARTTLS')).toBe(true);
    await client.quit();
  });
});

async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const listener = net.createServer();
  await new Promise<void>((resolve) => listener.listen({ host: '127.0.0.1', port: 0 }, resolve));
  try {
    const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
    const client = net.connect((listener.address() as net.AddressInfo).port, '127.0.0.1');
    return [await accepted, client];
  } finally {
    listener.close();
  }
}

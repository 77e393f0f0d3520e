import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CapturedMessageSchema, MessageDetailSchema, type SmtpSession } from '@mailwright/core';
import { readFixture, type FixtureName } from '../test-support/fixtures.js';
import { dotStuff, RawSmtpClient, type SmtpReply } from '../test-support/raw-smtp-client.js';
import { pollFor, startTestServer, type TestServer } from '../test-support/test-server.js';

const HOST = '127.0.0.1';
const MAX_MESSAGE_SIZE = 64 * 1024;
const MAX_RECIPIENTS = 3;

let t: TestServer;
/** id → sha256 of every message stored so far, to prove nothing stored is ever altered. */
let known: Map<string, string>;
const openClients = new Set<RawSmtpClient>();

beforeAll(async () => {
  t = await startTestServer({ maxMessageSize: MAX_MESSAGE_SIZE, maxRecipients: MAX_RECIPIENTS });
  known = new Map();
});

afterAll(() => t?.close());

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function connect(): Promise<RawSmtpClient> {
  const client = await RawSmtpClient.connect({ host: HOST, port: t.server.smtp.port });
  openClients.add(client);
  return client;
}

/** A deterministic byte stream (mulberry32), so a failure can be replayed. */
function pseudoRandomBytes(length: number, seed: number): Buffer {
  const bytes = Buffer.alloc(length);
  let state = seed >>> 0;
  for (let i = 0; i < length; i++) {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    bytes[i] = ((value ^ (value >>> 14)) >>> 0) & 0xff;
  }
  return bytes;
}

function queuedId(reply: SmtpReply | null): string {
  const id = /queued as (\S+)/.exec(reply?.lines.join(' ') ?? '')?.[1];
  if (!id) throw new Error(`not a queued reply: ${reply?.raw.join(' | ')}`);
  return id;
}

/** Sends a message on the client and proves it is stored byte for byte. */
async function deliverExactly(client: RawSmtpClient, data: Buffer, to: string[] = ['inbox@receiver.test'], mailParams?: string): Promise<string> {
  const replies = await client.sendMessage({ from: 'sender@app.test', to, data, mailParams });
  expect(replies.final?.code, replies.final?.raw.join(' | ')).toBe(250);
  const id = queuedId(replies.final);
  const stored = await t.raw(id);
  expect(stored.length).toBe(data.length);
  expect(stored.equals(data), 'stored bytes equal the bytes sent (after dot-unstuffing)').toBe(true);
  const message = CapturedMessageSchema.parse(await t.getJson(`/messages/${id}`));
  expect(message.size).toBe(data.length);
  known.set(id, sha256(stored));
  return id;
}

function normalMessage(label: string): Buffer {
  const base = readFixture('plain-text').toString('latin1');
  return Buffer.from(base.replace('Subject: Plain text fixture', `Subject: normal after ${label} ${Date.now()}`), 'latin1');
}

/** A fresh connection still delivers a normal message, and nothing stored before has changed. */
async function expectServerStillHealthy(label: string): Promise<void> {
  const client = await connect();
  expect(client.greeting.code).toBe(220);
  expect((await client.ehlo()).code).toBe(250);
  await deliverExactly(client, normalMessage(label));
  await client.quit();
  expect((await t.request('/health')).status).toBe(200);
  for (const [id, digest] of known) expect(sha256(await t.raw(id)), `message ${id} unchanged`).toBe(digest);
  const { total } = await t.messages({ limit: '1' });
  expect(total).toBe(known.size);
}

beforeEach(async () => {
  // Every case starts from a server that demonstrably works.
  await expectServerStillHealthy('previous case');
});

afterEach(() => {
  for (const client of openClients) client.destroy();
  openClients.clear();
});

describe('hostile input never crashes the server nor alters what is stored', () => {
  it('random bytes before EHLO are refused; the connection stores nothing', async () => {
    const countBefore = known.size;
    const client = await connect();
    const clientPort = client.currentSocket.localPort;
    client.write(pseudoRandomBytes(8 * 1024, 0x5eed));
    client.write('\r\nQUIT\r\n');
    const replies: SmtpReply[] = [];
    for (;;) {
      try {
        replies.push(await client.readReply());
      } catch {
        break; // the server closed the connection
      }
    }
    await client.closed;
    expect(replies.length).toBeGreaterThan(0);
    // Garbage gets errors (5xx, or 421 and a hang-up), never a success.
    for (const reply of replies) expect([221, 421, 500, 501, 502, 503, 504]).toContain(reply.code);
    const { total } = await t.messages({ limit: '1' });
    expect(total).toBe(countBefore);
    const session = await pollFor(async () => {
      const { sessions } = await t.getJson<{ sessions: SmtpSession[] }>('/sessions?listener=smtp&limit=10');
      return sessions.find((candidate) => candidate.remotePort === clientPort && candidate.closedAt !== null);
    }, 'the closed session of the garbage connection');
    expect(session.messageIds).toEqual([]);
    expect(session.greeting).toBeNull();
  });

  it('random bytes instead of a TLS handshake on the implicit TLS port are recorded as a failed TLS session', async () => {
    const raw = await new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({ host: HOST, port: t.server.smtps.port }, () => resolve(socket));
      socket.once('error', reject);
    });
    const clientPort = raw.localPort;
    raw.write(pseudoRandomBytes(4 * 1024, 0xbad));
    await new Promise<void>((resolve) => {
      raw.once('close', () => resolve());
      raw.on('error', () => undefined);
      raw.resume();
    });
    const session = await pollFor(async () => {
      const { sessions } = await t.getJson<{ sessions: SmtpSession[] }>('/sessions?listener=smtps&limit=10');
      return sessions.find((candidate) => candidate.remotePort === clientPort && candidate.closedAt !== null);
    }, 'the failed smtps session');
    expect(session.error?.stage).toBe('tls');
    expect(session.messageIds).toEqual([]);
  });

  it('a 100 KB command line gets 421 and the connection is closed', async () => {
    const client = await connect();
    await client.ehlo();
    const reply = await client.command(`MAIL FROM:<${'a'.repeat(100 * 1024)}@app.test>`);
    expect(reply.code).toBe(421);
    expect(reply.lines.join(' ')).toMatch(/too long/i);
    await client.closed;
  });

  it('a 100 KB line without any line break gets 421 as well', async () => {
    const client = await connect();
    await client.ehlo();
    client.write(Buffer.alloc(100 * 1024, 'x'));
    const reply = await client.readReply();
    expect(reply.code).toBe(421);
    await client.closed;
  });

  it.each<[string, FixtureName]>([
    ['8-bit header bytes (raw UTF-8 and Latin-1)', 'eight-bit-headers'],
    ['broken MIME (bad base64, unclosed boundary, unknown charset)', 'broken-mime'],
  ])('%s are stored byte-exact and every view of them answers without a server error', async (_label, fixture) => {
    const data = readFixture(fixture);
    const client = await connect();
    await client.ehlo();
    const id = await deliverExactly(client, data, ['inbox@receiver.test'], 'BODY=8BITMIME');
    await client.quit();
    const detail = MessageDetailSchema.parse(await t.getJson(`/messages/${id}`));
    if (fixture === 'eight-bit-headers') {
      expect(detail.subject).toBe('Grüße aus Köln — ünïcödé ✉');
      expect(detail.from).toEqual({ name: 'José', address: 'jose@sender.test' });
      expect(detail.envelope.body).toBe('8bitmime');
    }
    for (const view of ['html', 'text', 'session', ...detail.attachments.map((attachment) => `attachments/${attachment.partId}`)]) {
      const response = await t.request(`/messages/${id}/${view}`);
      expect([200, 404], `GET ${view}`).toContain(response.status);
      await response.arrayBuffer();
    }
  });

  it('a 5,000-byte line in a header and in the body is stored byte-exact', async () => {
    const long = 'x'.repeat(5_000);
    const data = Buffer.from(
      `From: long@app.test\r\nTo: inbox@receiver.test\r\nSubject: long lines\r\nX-Long: ${long}\r\n\r\n${long}\r\n${'y'.repeat(5_000)}\r\n`,
    );
    const client = await connect();
    await client.ehlo();
    await deliverExactly(client, data);
    await client.quit();
  });

  it('dot-stuffed lines are unstuffed: ".." at the start of a line is stored as "."', async () => {
    const data = readFixture('dot-stuffing');
    const wire = dotStuff(data);
    // The fixture has lines that start with dots, and the wire form doubles each of them.
    expect(wire.toString('latin1')).toContain('\r\n...\r\n');
    expect(wire.toString('latin1')).toContain('\r\n..\r\n');
    const client = await connect();
    await client.ehlo();
    const id = await deliverExactly(client, data);
    await client.quit();
    const stored = (await t.raw(id)).toString('latin1');
    expect(stored).toContain('\r\n.\r\n..\r\n...\r\n.leading dot\r\n');
    expect(stored).toContain('\r\n..two dots\r\n.\r\n\r\nlast line\r\n');
  });

  it('dot-stuffing survives a message that arrives one byte per write', async () => {
    const data = readFixture('dot-stuffing');
    const client = await connect();
    await client.ehlo();
    expect((await client.command('MAIL FROM:<slow@app.test>')).code).toBe(250);
    expect((await client.command('RCPT TO:<inbox@receiver.test>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    const wire = dotStuff(data);
    const socket = client.currentSocket;
    for (const byte of wire) await new Promise<void>((resolve, reject) => socket.write(Buffer.of(byte), (error) => (error ? reject(error) : resolve())));
    const final = await client.readReply();
    expect(final.code).toBe(250);
    const id = queuedId(final);
    expect((await t.raw(id)).equals(data)).toBe(true);
    known.set(id, sha256(data));
    await client.quit();
  });

  it('a message over maxMessageSize gets 552, is not stored, and the same connection then delivers', async () => {
    const client = await connect();
    await client.ehlo();
    expect(client.capabilities).toContain('SIZE');
    const countBefore = known.size;
    const oversized = Buffer.from(`Subject: too big\r\n\r\n${`${'z'.repeat(998)}\r\n`.repeat(Math.ceil(MAX_MESSAGE_SIZE / 1000) + 1)}`);
    expect(oversized.length).toBeGreaterThan(MAX_MESSAGE_SIZE);
    const replies = await client.sendMessage({ from: 'big@app.test', to: ['inbox@receiver.test'], data: oversized });
    expect(replies.data?.code).toBe(354);
    expect(replies.final?.code).toBe(552);
    expect((await t.messages({ limit: '1' })).total).toBe(countBefore);
    // Announced with SIZE, it is refused before any data is sent.
    expect((await client.command(`MAIL FROM:<big@app.test> SIZE=${MAX_MESSAGE_SIZE + 1}`)).code).toBe(552);
    // The connection is still usable.
    await deliverExactly(client, normalMessage('552 on the same connection'));
    await client.quit();
    expect((await t.messages({ subject: 'too big' })).total).toBe(0);
  });

  it('recipients beyond maxRecipients get 452; the message goes to the accepted ones', async () => {
    const client = await connect();
    await client.ehlo();
    const recipients = Array.from({ length: MAX_RECIPIENTS + 2 }, (_, index) => `rcpt${index}@receiver.test`);
    const data = Buffer.from('From: many@app.test\r\nSubject: many recipients\r\n\r\nhello\r\n');
    const replies = await client.sendMessage({ from: 'many@app.test', to: recipients, data });
    expect(replies.rcpt.map((reply) => reply.code)).toEqual([...Array(MAX_RECIPIENTS).fill(250), 452, 452]);
    expect(replies.final?.code).toBe(250);
    const id = queuedId(replies.final);
    expect((await t.raw(id)).equals(data)).toBe(true);
    known.set(id, sha256(data));
    const message = CapturedMessageSchema.parse(await t.getJson(`/messages/${id}`));
    expect(message.envelope.rcptTo).toEqual(recipients.slice(0, MAX_RECIPIENTS));
    await client.quit();
  });

  it('a client that vanishes in the middle of DATA leaves nothing behind', async () => {
    const countBefore = known.size;
    const client = await connect();
    await client.ehlo();
    expect((await client.command('MAIL FROM:<gone@app.test>')).code).toBe(250);
    expect((await client.command('RCPT TO:<inbox@receiver.test>')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    client.write('Subject: half a message\r\n\r\nthe rest never comes');
    client.destroy();
    await client.closed;
    const sessions = await t.getJson<{ sessions: SmtpSession[] }>('/sessions?limit=5');
    const session = sessions.sessions.find((candidate) => candidate.transcript.some((entry) => entry.line === 'MAIL FROM:<gone@app.test>'));
    expect(session).toBeDefined();
    await t.closedSession(session?.id ?? '');
    expect((await t.messages({ limit: '1' })).total).toBe(countBefore);
  });
});

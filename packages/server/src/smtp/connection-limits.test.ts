import net from 'node:net';
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SmtpSession } from '@mailwright/core';
import { RawSmtpClient } from '../test-support/raw-smtp-client.js';
import { ConnectionLimits } from './connection-limits.js';
import { pollFor, startTestServer, type TestServer } from '../test-support/test-server.js';

const DRIP_GAP_MS = 20;

/** A raw client socket that collects whatever the server says. */
interface Peer {
  socket: net.Socket;
  /** Every byte received so far, as text. */
  received(): string;
  /** Resolves with the first complete line. */
  firstLine: Promise<string>;
  /** Resolves when the server closed the connection. */
  closed: Promise<void>;
  /** The client's port, once connected (a closed socket forgets it). */
  localPort(): number | undefined;
}

const peers = new Set<net.Socket>();

function connect(port: number, localAddress = '127.0.0.1'): Peer {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  peers.add(socket);
  let text = '';
  socket.on('error', () => undefined);
  const firstLine = new Promise<string>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n');
      if (end >= 0) resolve(text.slice(0, end));
    });
    socket.once('close', () => reject(new Error(`closed before a line; got ${JSON.stringify(text)}`)));
  });
  firstLine.catch(() => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let localPort: number | undefined;
  socket.once('connect', () => (localPort = socket.localPort));
  return { socket, received: () => text, firstLine, closed, localPort: () => localPort };
}

/** Writes `bytes` one at a time with small gaps until the server closes the connection. */
async function drip(peer: Peer, bytes: string): Promise<void> {
  let open = true;
  void peer.closed.then(() => (open = false));
  for (let i = 0; open; i = (i + 1) % bytes.length) {
    peer.socket.write(bytes[i] as string);
    await new Promise((resolve) => setTimeout(resolve, DRIP_GAP_MS));
  }
}

async function sessionsWithError(t: TestServer, code: string): Promise<SmtpSession[]> {
  const { sessions } = await t.getJson<{ sessions: SmtpSession[] }>('/sessions?limit=1000');
  return sessions.filter((session) => session.error?.code === code);
}

/** The session of `peer`'s connection once it has failed with `code` and closed (the error is saved first). */
async function failedSessionOf(t: TestServer, peer: Peer, code: string): Promise<SmtpSession> {
  const port = peer.localPort();
  return pollFor(
    async () => (await sessionsWithError(t, code)).find((session) => session.remotePort === port && session.closedAt !== null),
    `the closed ${code} session`,
  );
}

/** Closes every client and waits until the server has seen every session close, so that none counts against the next test. */
async function closeAll(t: TestServer): Promise<void> {
  for (const socket of peers) socket.destroy();
  peers.clear();
  await pollFor(async () => {
    const { sessions } = await t.getJson<{ sessions: SmtpSession[] }>('/sessions?limit=1000');
    return sessions.every((session) => session.closedAt !== null) ? true : undefined;
  }, 'every session to close');
}

describe('ConnectionLimits', () => {
  it('counts an IPv4 client the same over IPv4 and IPv6 sockets, and frees places', () => {
    const limits = new ConnectionLimits({ maxConnections: 3, maxConnectionsPerIp: 2 });
    expect(limits.admit('127.0.0.1')).toBeNull();
    expect(limits.admit('::ffff:127.0.0.1')).toBeNull();
    expect(limits.admit('127.0.0.1')).toBe('too_many_connections_from_address');
    expect(limits.admit('::1')).toBeNull();
    expect(limits.admit('::2')).toBe('too_many_connections');
    expect(limits.open).toBe(3);
    limits.release('::ffff:127.0.0.1');
    // Releasing an address that holds no place changes nothing.
    limits.release('192.0.2.9');
    expect(limits.open).toBe(2);
    expect(limits.admit('127.0.0.1')).toBeNull();
  });
});

describe('connection limits', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ maxConnections: 3, maxConnectionsPerIp: 2 });
  });
  afterEach(() => closeAll(t));
  afterAll(() => t?.close());

  it('refuses a connection over the per-address cap with 421, admits another address, and then the total cap', async () => {
    const port = t.server.smtp.port;
    const first = connect(port);
    const second = connect(port);
    expect(await first.firstLine).toMatch(/^220 /);
    expect(await second.firstLine).toMatch(/^220 /);

    const third = connect(port);
    expect(await third.firstLine).toMatch(/^421 4\.7\.0 .*too many connections from your address/);
    await third.closed;

    // Another client address is not affected by the cap of the first one.
    const other = connect(port, '127.0.0.2');
    expect(await other.firstLine).toMatch(/^220 /);

    // Now 3 are open: the total cap applies to everyone, on every listener.
    const fourth = connect(port, '127.0.0.3');
    expect(await fourth.firstLine).toMatch(/^421 4\.7\.0 .*too many connections/);
    const implicit = connect(t.server.smtps.port, '127.0.0.3');
    await implicit.closed;
    expect(implicit.received()).toBe('');

    // The HTTP API keeps answering at the limit.
    expect((await t.request('/health')).status).toBe(200);
    expect(await pollFor(async () => ((await sessionsWithError(t, 'too_many_connections_from_address')).length === 1 ? true : undefined), 'refusal'));
    expect(await pollFor(async () => ((await sessionsWithError(t, 'too_many_connections')).length === 2 ? true : undefined), 'refusals'));

    // A closed connection frees its place.
    first.socket.end('QUIT\r\n');
    await first.closed;
    const again = await pollFor(async () => {
      const peer = connect(port);
      const line = await peer.firstLine;
      if (line.startsWith('220 ')) return peer;
      peer.socket.destroy();
      return undefined;
    }, 'a free place');
    expect(again.received()).toMatch(/^220 /);
  });

  it('destroys a refused connection whose client never closes its side', async () => {
    const port = t.server.smtp.port;
    const open = [connect(port, '127.0.0.6'), connect(port, '127.0.0.6')];
    for (const peer of open) expect(await peer.firstLine).toMatch(/^220 /);
    // allowHalfOpen: the client does not answer the server's FIN with its own.
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.6', allowHalfOpen: true });
    peers.add(socket);
    let text = '';
    let closed = false;
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.once('close', () => (closed = true));
    await new Promise<void>((resolve) => socket.once('end', () => resolve()));
    expect(text).toMatch(/^421 4\.7\.0 .*too many connections from your address/);
    // A socket the server still holds takes these lines in silently; a destroyed one answers with a reset.
    await pollFor(() => {
      if (!closed && socket.writable) socket.write('NOOP\r\n');
      return closed ? true : undefined;
    }, 'the server to destroy the refused socket');
  });

  it('counts implicit-TLS connections, whose refusal is a close without a handshake', async () => {
    const { port } = t.server.smtps;
    const open = [connect(port, '127.0.0.4'), connect(port, '127.0.0.4')];
    // Without a handshake the server says nothing; the third from that address is closed at once.
    const refused = connect(port, '127.0.0.4');
    await refused.closed;
    expect(refused.received()).toBe('');
    const plain = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.5' });
    peers.add(plain);
    const client = tls.connect({ socket: plain, rejectUnauthorized: false });
    peers.add(client);
    const greeting = await new Promise<string>((resolve, reject) => {
      client.once('data', (chunk: Buffer) => resolve(chunk.toString()));
      client.once('error', reject);
    });
    // The two open plain sockets of .4 plus this one make 3: within the total cap.
    expect(greeting).toMatch(/^220 /);
    for (const peer of open) peer.socket.destroy();
  });
});

describe('connection limits at shutdown', () => {
  it('closing the server does not wait for a refused client that never closes its side', async () => {
    const t = await startTestServer({ maxConnectionsPerIp: 1 });
    try {
      const admitted = connect(t.server.smtp.port, '127.0.0.7');
      expect(await admitted.firstLine).toMatch(/^220 /);
      const socket = net.connect({ host: '127.0.0.1', port: t.server.smtp.port, localAddress: '127.0.0.7', allowHalfOpen: true });
      peers.add(socket);
      socket.on('error', () => undefined);
      socket.resume();
      await new Promise<void>((resolve) => socket.once('end', () => resolve()));
      admitted.socket.destroy();
    } finally {
      await t.close();
    }
  });
});

describe('connection limits after STARTTLS', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ maxConnections: 2 });
  });
  afterAll(() => t?.close());

  it('frees the place of a connection that upgraded with STARTTLS and closed', async () => {
    // Twice the cap, one after the other: a place kept after close would refuse the third.
    for (let i = 0; i < 4; i++) {
      const client = await RawSmtpClient.connect({ host: '127.0.0.1', port: t.server.smtp.port });
      await client.ehlo();
      await client.starttls({ rejectUnauthorized: false });
      expect((await client.ehlo()).code).toBe(250);
      await client.quit();
      await closeAll(t);
    }
  });
});

describe('command and DATA deadlines', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ commandTimeoutMs: 200, dataTimeoutMs: 300 });
  });
  afterEach(() => closeAll(t));
  afterAll(() => t?.close());

  it('cuts a client that trickles a command line one byte at a time', async () => {
    const peer = connect(t.server.smtp.port);
    expect(await peer.firstLine).toMatch(/^220 /);
    await drip(peer, 'EHLO slow.example.test');
    expect(peer.received()).toMatch(/\r\n421 4\.4\.2 .*a command line was not completed within 200 ms/);
    const session = await failedSessionOf(t, peer, 'command_timeout');
    expect(session.error?.stage).toBe('smtp');
  });

  it('cuts a STARTTLS handshake that trickles in', async () => {
    const peer = connect(t.server.smtp.port);
    await peer.firstLine;
    peer.socket.write('EHLO slow.example.test\r\n');
    await pollFor(() => (/^250 /m.test(peer.received()) ? true : undefined), 'the EHLO reply');
    peer.socket.write('STARTTLS\r\n');
    await pollFor(() => (/^220 /m.test(peer.received().split('\r\n').slice(1).join('\n')) ? true : undefined), 'the 220 to STARTTLS');
    // The first bytes of a TLS record, one at a time: the handshake never completes.
    let open = true;
    void peer.closed.then(() => (open = false));
    for (const byte of [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]) {
      if (!open) break;
      peer.socket.write(Buffer.from([byte]));
      await new Promise((resolve) => setTimeout(resolve, DRIP_GAP_MS));
    }
    await drip(peer, '\x00');
    const session = await failedSessionOf(t, peer, 'handshake_timeout');
    expect(session.error).toMatchObject({ stage: 'tls', message: expect.stringMatching(/not completed within 200 ms/) });
  });

  it('cuts a STARTTLS handshake that never starts, after EHLO and STARTTLS sent in one long write', async () => {
    const peer = connect(t.server.smtp.port);
    await peer.firstLine;
    peer.socket.write(`EHLO ${'a'.repeat(100)}.example.test\r\nSTARTTLS\r\n`);
    const session = await failedSessionOf(t, peer, 'handshake_timeout');
    expect(session.error).toMatchObject({ stage: 'tls', message: expect.stringMatching(/not completed within 200 ms/) });
    await peer.closed;
    expect(peer.received()).toMatch(/\r\n220 /);
  });

  it('cuts a STARTTLS handshake whose record header ends in a line feed and whose rest trickles in', async () => {
    const peer = connect(t.server.smtp.port);
    await peer.firstLine;
    peer.socket.write('EHLO slow.example.test\r\n');
    await pollFor(() => (/^250 /m.test(peer.received()) ? true : undefined), 'the EHLO reply');
    peer.socket.write('STARTTLS\r\n');
    await pollFor(() => (/^220 /m.test(peer.received().split('\r\n').slice(1).join('\n')) ? true : undefined), 'the 220 to STARTTLS');
    // A handshake record of 0x020a bytes: its header ends in 0x0a, like a command line.
    peer.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x0a]));
    const dripping = drip(peer, '\x01');
    const session = await failedSessionOf(t, peer, 'handshake_timeout');
    await dripping;
    expect(session.error).toMatchObject({ stage: 'tls', message: expect.stringMatching(/not completed within 200 ms/) });
  });

  it('gives each complete command line its own deadline', async () => {
    const peer = connect(t.server.smtp.port);
    await peer.firstLine;
    // Ten lines, each sent whole, spread over more time than one deadline.
    for (let i = 0; i < 10; i++) {
      peer.socket.write('NOOP\r\n');
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    await pollFor(() => ((peer.received().match(/^250 /gm) ?? []).length === 10 ? true : undefined), 'ten replies');
    expect(peer.received()).not.toMatch(/^421/m);
  });

  it('cuts a DATA phase that does not end in time with 451', async () => {
    const peer = connect(t.server.smtp.port);
    await peer.firstLine;
    peer.socket.write('EHLO data.example.test\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n');
    await pollFor(() => (/^354 /m.test(peer.received()) ? true : undefined), 'the 354');
    // Whole lines, but the message never ends.
    let open = true;
    void peer.closed.then(() => (open = false));
    while (open) {
      peer.socket.write('Subject: slow\r\n');
      await new Promise((resolve) => setTimeout(resolve, DRIP_GAP_MS));
    }
    expect(peer.received()).toMatch(/\r\n451 4\.4\.2 .*the message was not completed within 300 ms/);
    await pollFor(async () => (await sessionsWithError(t, 'data_timeout'))[0], 'the session');
    expect((await t.messages()).total).toBe(0);
  });
});

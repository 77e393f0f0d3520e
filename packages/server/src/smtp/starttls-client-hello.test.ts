import net from 'node:net';
import { Writable } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection, verifyPeerCertificate } from 'smtp-server/lib/smtp-connection.js';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// Canary: captureStarttlsClientHello relies on these private parts of smtp-server's connection.
// If this fails after an upgrade of smtp-server, the SNI of failed STARTTLS handshakes (and of
// resumed TLS 1.2 sessions) is no longer read from the ClientHello: adapt starttls-client-hello.ts.
describe('the smtp-server internals the STARTTLS ClientHello capture uses', () => {
  it('a connection has upgrade(callback), its plaintext socket as _socket and its command parser as _parser', async () => {
    expect(typeof (SMTPConnection.prototype as unknown as { upgrade?: unknown }).upgrade).toBe('function');
    expect((SMTPConnection.prototype as unknown as { upgrade: (...args: unknown[]) => unknown }).upgrade.length).toBeGreaterThanOrEqual(1);
    const server = new SMTPServer({ logger: false });
    const [left, right] = await socketPair();
    try {
      const connection = new SMTPConnection(server, left, { id: 'canary' } as never);
      connection._setListeners(() => undefined);
      const internals = connection as unknown as { _socket: unknown; _parser: unknown };
      expect(internals._socket).toBe(left);
      expect(internals._parser).toBeInstanceOf(Writable);
    } finally {
      left.destroy();
      right.destroy();
    }
  });
});

// Canary: the capture listener, the connection policy and implicit TLS rely on these private
// parts of smtp-server, which is pinned to the exact version they were written for. If this
// fails after an upgrade, adapt capture-listener.ts, connection-policy.ts and implicit-tls.ts.
describe('the smtp-server internals the listeners use', () => {
  const INTERNALS_WRITTEN_FOR = '3.21.6';
  const prototype = SMTPConnection.prototype as unknown as Record<string, unknown>;

  it(`is smtp-server ${INTERNALS_WRITTEN_FOR}, the version they were written for`, () => {
    const { version } = createRequire(import.meta.url)('smtp-server/package.json') as { version: string };
    expect(version, `smtp-server moved from ${INTERNALS_WRITTEN_FOR}: re-check every internal this file lists, then update the pin`).toBe(
      INTERNALS_WRITTEN_FOR,
    );
  });

  it.each([
    ['_setListeners', "capture-listener.ts starts a session without smtp-server's 100 ms greeting wait"],
    ['connectionReady', 'capture-listener.ts sends the greeting'],
    ['send', 'capture-listener.ts answers 421 on shutdown and on deadlines'],
    ['handler_STARTTLS', 'connection-policy.ts answers 454 for starttls "fail"'],
    ['handler_AUTH', 'connection-policy.ts refuses AUTH before STARTTLS when it is required'],
  ])('a connection has %s (%s)', (name) => {
    expect(typeof prototype[name], `SMTPConnection.prototype.${name}`).toBe('function');
  });

  it('exports verifyPeerCertificate (implicit-tls.ts checks client certificates with it)', () => {
    expect(typeof verifyPeerCertificate).toBe('function');
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

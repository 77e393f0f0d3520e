import net from 'node:net';
import { Writable } from 'node:stream';
import { SMTPServer } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
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

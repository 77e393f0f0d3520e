import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { readClientHelloServername } from './client-hello.js';

/** The first bytes a real Node.js TLS client sends, captured on a plain TCP server. */
async function captureClientHello(options: tls.ConnectionOptions): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  try {
    const { port } = server.address() as net.AddressInfo;
    const received = new Promise<Buffer>((resolve) =>
      server.once('connection', (socket) => socket.once('data', (chunk: Buffer) => (resolve(chunk), socket.destroy()))),
    );
    const client = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    client.on('error', () => undefined);
    const hello = await received;
    client.destroy();
    return hello;
  } finally {
    server.close();
  }
}

describe('readClientHelloServername', () => {
  it.each(['TLSv1.2', 'TLSv1.3'] as const)('reads the SNI of a real %s ClientHello', async (maxVersion) => {
    const hello = await captureClientHello({ servername: 'mx.customer.example', maxVersion });
    expect(readClientHelloServername(hello)).toBe('mx.customer.example');
  });

  it('is null when the client sent no SNI', async () => {
    // Node.js sends no SNI to an IP address.
    const hello = await captureClientHello({});
    expect(readClientHelloServername(hello)).toBeNull();
  });

  it('is null, never a throw, for every truncation of a ClientHello and for bytes that are not one', async () => {
    const hello = await captureClientHello({ servername: 'mx.customer.example' });
    const sniAt = hello.indexOf('mx.customer.example');
    for (let length = 0; length < sniAt + 'mx.customer.example'.length; length += 1) {
      expect(readClientHelloServername(hello.subarray(0, length))).toBeNull();
    }
    expect(readClientHelloServername(Buffer.from('EHLO client.example\r\n'))).toBeNull();
    const corrupt = Buffer.from(hello);
    corrupt.writeUInt16BE(0xffff, 5 + 4 + 2 + 32 + 1 + (hello[5 + 4 + 2 + 32] ?? 0)); // cipher_suites length past the end
    expect(readClientHelloServername(corrupt)).toBeNull();
  });
});

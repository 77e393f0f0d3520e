import net from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

/** Opens a raw TCP connection to the HTTP port and waits until it is established. */
async function openSocket(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  return socket;
}

/** Everything the server sends on a socket until it closes it. */
async function readUntilClosed(socket: net.Socket): Promise<string> {
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  await once(socket, 'close');
  return Buffer.concat(chunks).toString();
}

describe('HTTP connection limits', () => {
  let t: TestServer | undefined;
  const sockets: net.Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await t?.close();
    t = undefined;
  });

  it('answers a connection beyond the cap with a 503 JSON error, and admits again once one closes', async () => {
    t = await startTestServer({ maxConnections: 3, maxConnectionsPerIp: 3 });
    const port = Number(new URL(t.server.info().http.url).port);
    for (let i = 0; i < 3; i += 1) sockets.push(await openSocket(port));

    const refused = await openSocket(port);
    const reply = await readUntilClosed(refused);
    expect(reply).toMatch(/^HTTP\/1\.1 503 /);
    expect(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4))).toEqual({
      error: { code: 'TOO_MANY_CONNECTIONS', message: expect.stringContaining('too many HTTP connections') },
    });

    // SMTP has a budget of its own: idle HTTP clients do not take it.
    const smtp = await openSocket(t.server.info().listeners.find((l) => l.name === 'smtp')!.port);
    sockets.push(smtp);
    const [banner] = (await once(smtp, 'data')) as [Buffer];
    expect(banner.toString()).toMatch(/^220 /);

    const idle = sockets.shift()!;
    idle.destroy();
    await once(idle, 'close');
    await expect.poll(async () => (await t!.request('/health')).status).toBe(200);
  });

  it('counts connections per client address', async () => {
    t = await startTestServer({ maxConnections: 10, maxConnectionsPerIp: 1 });
    const port = Number(new URL(t.server.info().http.url).port);
    sockets.push(await openSocket(port));
    const reply = await readUntilClosed(await openSocket(port));
    expect(reply).toContain('"code":"TOO_MANY_CONNECTIONS_FROM_ADDRESS"');
  });
});

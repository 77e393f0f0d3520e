import net from 'node:net';

export const LOOPBACK = '127.0.0.1';

/**
 * A port that was free a moment ago: bind port 0, read it, close. Only for peers that
 * need a port number on their command line (smtp-sink); there is a small race, which
 * the caller covers by retrying when the peer cannot bind.
 */
export function freePort(host = LOOPBACK) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Connects until the server sends its 220 greeting, or fails after `timeoutMs`. */
export async function waitForGreeting(host, port, timeoutMs, isAlive = () => true) {
  const deadline = Date.now() + timeoutMs;
  let lastError = null;
  while (Date.now() < deadline && isAlive()) {
    try {
      await new Promise((resolve, reject) => {
        const socket = net.connect({ host, port });
        socket.setTimeout(1_000, () => {
          socket.destroy();
          reject(new Error('no greeting'));
        });
        socket.once('error', reject);
        socket.once('data', (data) => {
          socket.end('QUIT\r\n');
          socket.destroy();
          if (data.toString('latin1').startsWith('220')) resolve();
          else reject(new Error(`unexpected greeting: ${data.toString('latin1').trim()}`));
        });
      });
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error(`no SMTP greeting from ${host}:${port} within ${timeoutMs} ms${lastError ? ` (${lastError.message})` : ''}`);
}

import type { Server } from 'node:http';
import { ErrorCode } from '@mailwright/core';
import type { Socket } from 'node:net';
import { ConnectionLimits, type ConnectionLimitsOptions } from '../smtp/connection-limits.js';

const REFUSED_LINGER_MS = 1_000;

const REFUSALS = {
  too_many_connections: { code: ErrorCode.TOO_MANY_CONNECTIONS, message: 'too many HTTP connections are open; try again later' },
  too_many_connections_from_address: {
    code: ErrorCode.TOO_MANY_CONNECTIONS_FROM_ADDRESS,
    message: 'too many HTTP connections are open from your address; try again later',
  },
} as const;

/**
 * Bounds the HTTP connections (requests and WebSocket streams alike) open at once, in total and
 * per client address, with the same numbers as SMTP but a budget of their own: a crowd of idle
 * HTTP clients cannot take the file descriptors SMTP needs, nor the other way round. A refused
 * connection is answered `503` with a JSON error before it is closed, never dropped silently.
 */
export function limitHttpConnections(server: Server, options: ConnectionLimitsOptions): void {
  const limits = new ConnectionLimits(options);
  // The HTTP server's own handling of a connection runs only for admitted ones.
  const serve = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    const refusal = limits.admit(address);
    if (refusal === null) {
      socket.once('close', () => limits.release(address));
      for (const listener of serve) listener.call(server, socket);
      return;
    }
    const body = JSON.stringify({ error: REFUSALS[refusal] });
    // The HTTP server lets a client half-close: the socket is closed here once the client has
    // read the answer and closed its side, or after a second.
    socket.on('error', () => {});
    socket.on('end', () => socket.destroy());
    socket.setTimeout(REFUSED_LINGER_MS, () => socket.destroy());
    socket.end(
      `HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

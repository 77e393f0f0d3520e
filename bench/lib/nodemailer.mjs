// nodemailer as the client of the scenarios. nodemailer leaves Nagle's algorithm on and
// writes the end-of-data ".\r\n" separately from the message, so that small write waits
// for the server's delayed ACK (40 ms on Linux) whatever the server is. Handing it a
// socket with TCP_NODELAY through its getSocket option measures the server instead.
import net from 'node:net';
import nodemailer from 'nodemailer';

export const SEND_TIMEOUT_MS = 10_000;

/** nodemailer's getSocket hook: an already connected socket with TCP_NODELAY. */
export function noDelaySocket(host, port) {
  return (options, callback) => {
    const socket = net.connect({ host, port, noDelay: true });
    socket.setTimeout(SEND_TIMEOUT_MS, () => socket.destroy(new Error('connect timeout')));
    socket.once('error', callback);
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.off('error', callback);
      callback(null, { connection: socket });
    });
  };
}

/**
 * A plaintext transport; `pool: true` keeps one connection open for every message (as a
 * test suite's mailer usually does), otherwise a new connection per message.
 */
export function createTransport(host, port, { tls = null, noDelay = true, pool = false } = {}) {
  return nodemailer.createTransport({
    host,
    port,
    secure: false,
    name: 'localhost',
    ...(pool ? { pool: true, maxConnections: 1, maxMessages: Infinity } : {}),
    ...(noDelay ? { getSocket: noDelaySocket(host, port) } : {}),
    // Without ignoreTLS nodemailer upgrades with STARTTLS whenever it is offered.
    ...(tls ? { requireTLS: true, tls: { ca: [tls.ca] } } : { ignoreTLS: true }),
    connectionTimeout: SEND_TIMEOUT_MS,
    greetingTimeout: SEND_TIMEOUT_MS,
    socketTimeout: SEND_TIMEOUT_MS,
  });
}

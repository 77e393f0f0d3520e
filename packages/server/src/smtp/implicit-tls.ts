import type net from 'node:net';
import tls from 'node:tls';
import { verifyPeerCertificate } from 'smtp-server/lib/smtp-connection.js';

/** How to run the server side of an implicit TLS handshake. */
export interface ImplicitTlsOptions {
  secureContext: tls.SecureContext;
  requestCert: boolean;
  rejectUnauthorized: boolean;
  handshakeTimeoutMs: number;
}

/**
 * Runs the TLS handshake on a freshly accepted socket (SMTPS): `onSecure` with the TLS
 * socket once it is up, or `onFailure` once with what ended it (an error, or null when
 * the client just hung up). Doing it here rather than in a tls.Server gives every failed
 * handshake to the caller, with the socket it belongs to.
 */
export function acceptImplicitTls(
  socket: net.Socket,
  options: ImplicitTlsOptions,
  onSecure: (socket: tls.TLSSocket) => void,
  onFailure: (error: unknown) => void,
): void {
  const tlsSocket = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext: options.secureContext,
    requestCert: options.requestCert,
    rejectUnauthorized: options.rejectUnauthorized,
  });
  let settled = false;
  const fail = (error: unknown): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    tlsSocket.destroy();
    socket.destroy();
    onFailure(error);
  };
  const timer = setTimeout(() => fail(Object.assign(new Error('TLS handshake timeout'), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' })), options.handshakeTimeoutMs);
  timer.unref();
  tlsSocket.once('error', fail);
  tlsSocket.once('close', () => fail(null));
  socket.once('error', fail);
  tlsSocket.once('secure', () => {
    if (settled) return;
    // Only tls.Server checks a client certificate after the handshake; on a bare
    // TLSSocket `authorized` stays false and `rejectUnauthorized` is not enforced.
    // Do what it does (and what smtp-server does after STARTTLS).
    const verifyError = verifyPeerCertificate(tlsSocket, options);
    if (verifyError) return fail(verifyError);
    settled = true;
    clearTimeout(timer);
    tlsSocket.removeListener('error', fail);
    socket.removeListener('error', fail);
    tlsSocket.removeAllListeners('close');
    onSecure(tlsSocket);
  });
}

import type net from 'node:net';
import tls from 'node:tls';
import { peekClientHello, type ClientHelloInfo } from './client-hello.js';
import { verifyClientCertificate } from './smtp-engine.js';

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
 * handshake to the caller, with the socket it belongs to. Both also get what the client's
 * ClientHello said (its SNI), which OpenSSL does not always report.
 */
export function acceptImplicitTls(
  socket: net.Socket,
  options: ImplicitTlsOptions,
  onSecure: (socket: tls.TLSSocket, hello: ClientHelloInfo) => void,
  onFailure: (error: unknown, hello: ClientHelloInfo) => void,
): void {
  let hello: ClientHelloInfo = { servername: null };
  let tlsSocket: tls.TLSSocket | null = null;
  let settled = false;
  const fail = (error: unknown): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    tlsSocket?.destroy();
    socket.destroy();
    onFailure(error, hello);
  };
  const timer = setTimeout(() => fail(Object.assign(new Error('TLS handshake timeout'), { code: 'ERR_TLS_HANDSHAKE_TIMEOUT' })), options.handshakeTimeoutMs);
  timer.unref();
  const closedBeforeHello = (): void => fail(null);
  socket.once('error', fail);
  socket.once('close', closedBeforeHello);
  peekClientHello(socket, (seen) => {
    socket.removeListener('close', closedBeforeHello);
    if (settled) return;
    hello = seen;
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: options.secureContext,
      requestCert: options.requestCert,
      rejectUnauthorized: options.rejectUnauthorized,
    });
    tlsSocket = secure;
    secure.once('error', fail);
    secure.once('close', () => fail(null));
    secure.once('secure', () => {
      if (settled) return;
      // Only tls.Server checks a client certificate after the handshake.
      const verifyError = verifyClientCertificate(secure, options);
      if (verifyError) return fail(verifyError);
      settled = true;
      clearTimeout(timer);
      secure.removeListener('error', fail);
      socket.removeListener('error', fail);
      secure.removeAllListeners('close');
      onSecure(secure, hello);
    });
  });
}

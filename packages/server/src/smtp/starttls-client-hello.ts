import type net from 'node:net';
import type { Writable } from 'node:stream';
import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { peekClientHello, type ClientHelloInfo } from './client-hello.js';

/**
 * The parts of an smtp-server 3.x connection (3.21.6 when written) the STARTTLS upgrade goes
 * through: private, so `starttls-client-hello.test.ts` checks they are still there.
 */
interface UpgradableConnection {
  _socket: net.Socket;
  _parser: Writable;
  upgrade(callback: () => void, secureCallback?: () => void): void;
}

/**
 * Lets `onHello` see the ClientHello that follows an accepted STARTTLS, before smtp-server
 * hands the socket to OpenSSL: the upgrade starts once the client's first TLS bytes are in
 * (they are put back for it). The plaintext parser is unpiped first, as the upgrade itself
 * does, so nothing sent after STARTTLS reaches it. `onUpgrade` is called first, as soon as the
 * server has answered 220 to STARTTLS: the handshake starts there, whatever the client sends.
 */
export function captureStarttlsClientHello(
  connection: SMTPConnection,
  onHello: (hello: ClientHelloInfo) => void,
  onUpgrade: () => void = () => undefined,
): void {
  const upgradable = connection as unknown as UpgradableConnection;
  if (typeof upgradable.upgrade !== 'function') return;
  const upgrade = upgradable.upgrade.bind(connection);
  upgradable.upgrade = (callback, secureCallback) => {
    onUpgrade();
    const socket = upgradable._socket;
    // Whatever changed inside smtp-server, STARTTLS keeps working (without the SNI of failures).
    if (typeof socket?.unpipe !== 'function' || upgradable._parser === undefined) return upgrade(callback, secureCallback);
    socket.unpipe(upgradable._parser);
    peekClientHello(socket, (hello) => {
      onHello(hello);
      upgrade(callback, secureCallback);
    });
  };
}

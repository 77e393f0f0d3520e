import tls from 'node:tls';
import { clientTlsViewOf, type ClientTlsView } from './raw-smtp-client.js';

/** The TLS connections a client library opened while recording. */
export interface TlsConnectionRecording {
  /** One view per completed handshake, in order, read at `secureConnect`. */
  readonly views: ClientTlsView[];
  /** Stops recording and restores `tls.connect`. */
  stop(): void;
}

/**
 * Records the client side of every TLS connection opened through `tls.connect` — which
 * is how nodemailer secures both implicit TLS and STARTTLS — so that a test can compare
 * what the client negotiated with what the server stored. Only one recording at a time.
 */
export function recordTlsConnections(): TlsConnectionRecording {
  const original = tls.connect;
  if ((original as { recording?: boolean }).recording) throw new Error('tls.connect is already being recorded');
  const views: ClientTlsView[] = [];
  const recordingConnect = function (this: unknown, ...args: unknown[]): tls.TLSSocket {
    const socket = (original as (...connectArgs: unknown[]) => tls.TLSSocket).apply(this, args);
    const options = args.find((arg): arg is tls.ConnectionOptions => typeof arg === 'object' && arg !== null);
    const servername = typeof options?.servername === 'string' ? options.servername : null;
    socket.once('secureConnect', () => views.push(clientTlsViewOf(socket, servername)));
    return socket;
  };
  Object.assign(recordingConnect, { recording: true });
  tls.connect = recordingConnect as typeof tls.connect;
  return {
    views,
    stop() {
      tls.connect = original;
    },
  };
}

import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { ClientCertificate, TlsInfo } from '@mailwright/core';

function distinguishedName(multiline: string): string {
  return multiline.split('\n').filter(Boolean).join(', ');
}

function clientCertificateOf(socket: TLSSocket): ClientCertificate | null {
  const peer = socket.getPeerCertificate();
  if (!peer || !peer.raw) return null;
  const cert = new X509Certificate(peer.raw);
  const authorizationError = socket.authorizationError as unknown;
  return {
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    serialNumber: cert.serialNumber,
    fingerprint256: cert.fingerprint256,
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    authorized: socket.authorized,
    authorizationError:
      socket.authorized || authorizationError === undefined || authorizationError === null
        ? null
        : authorizationError instanceof Error
          ? ((authorizationError as NodeJS.ErrnoException).code ?? authorizationError.message)
          : String(authorizationError),
  };
}

/** Reads the TLS record of an established TLS socket. */
export function readTlsInfo(socket: TLSSocket, mode: 'starttls' | 'implicit', starttlsOffered: boolean): TlsInfo {
  const cipher = socket.getCipher();
  const alpn = socket.alpnProtocol;
  const servername = (socket as TLSSocket & { servername?: string | false | null }).servername;
  return {
    mode,
    starttlsOffered,
    protocol: socket.getProtocol() ?? null,
    cipher: cipher ? { name: cipher.name, standardName: cipher.standardName, version: cipher.version } : null,
    servername: typeof servername === 'string' && servername !== '' ? servername : null,
    alpnProtocol: typeof alpn === 'string' ? alpn : null,
    resumed: socket.isSessionReused(),
    clientCertificate: clientCertificateOf(socket),
  };
}

/**
 * Names what ended a TLS handshake: the alert the client sent (`certificate_expired`,
 * `unknown_ca`, `protocol_version`, …) or what the server itself objected to.
 */
export function tlsFailureCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  const reason = typeof code === 'string' ? code : '';
  // OpenSSL alerts surface as ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED, ERR_SSL_TLSV1_ALERT_UNKNOWN_CA, …
  // (OpenSSL 3.2 and later, as in Node.js 22 and 24: ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE).
  const alert = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13|SSL\/TLS)_ALERT_(.+)$/.exec(reason);
  if (alert?.[1]) return alert[1].toLowerCase();
  switch (reason) {
    case 'ERR_SSL_UNSUPPORTED_PROTOCOL':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_VERSION_TOO_LOW':
    case 'ERR_SSL_NO_PROTOCOLS_AVAILABLE':
      return 'protocol_version';
    case 'ERR_SSL_NO_SHARED_CIPHER':
      return 'handshake_failure';
    case 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE':
      return 'certificate_required';
    case 'ERR_TLS_HANDSHAKE_TIMEOUT':
      return 'handshake_timeout';
    case 'ECONNRESET':
    case 'SocketError':
    case '':
      return 'closed_during_handshake';
    default:
      return reason.replace(/^ERR_SSL_/, '').toLowerCase();
  }
}

import type net from 'node:net';

/** What the server learns from a client's first TLS message, before OpenSSL sees it. */
export interface ClientHelloInfo {
  /** The SNI host name, or null when the client sent none (or the bytes are not a ClientHello). */
  servername: string | null;
}

const HANDSHAKE_RECORD = 0x16;
const CLIENT_HELLO = 0x01;
const SERVER_NAME_EXTENSION = 0x0000;
const HOST_NAME = 0x00;

/**
 * Reads the SNI host name (RFC 6066 section 3) from the start of a TLS ClientHello record.
 * Works on a partial record: whatever is cut off or malformed gives null, never a throw.
 * OpenSSL keeps this name from the application in two cases — a resumed TLS 1.2 session and
 * a handshake that fails before the server-name callback — so the lab reads it itself.
 */
export function readClientHelloServername(bytes: Buffer): string | null {
  let offset = 0;
  const need = (length: number): boolean => offset + length <= bytes.length;
  // Skips a vector whose length prefix is read first (`offset += u8()` would add to the old offset).
  const skip = (length: number): void => {
    offset += length;
  };
  const u8 = (): number => bytes.readUInt8(offset++);
  const u16 = (): number => {
    const value = bytes.readUInt16BE(offset);
    offset += 2;
    return value;
  };
  // TLS record header: type, legacy version, length.
  if (!need(5) || u8() !== HANDSHAKE_RECORD) return null;
  offset += 4;
  // Handshake header: type, 24-bit length; then legacy_version and random.
  if (!need(4) || u8() !== CLIENT_HELLO) return null;
  offset += 3 + 2 + 32;
  if (!need(1)) return null;
  skip(u8()); // legacy_session_id
  if (!need(2)) return null;
  skip(u16()); // cipher_suites
  if (!need(1)) return null;
  skip(u8()); // legacy_compression_methods
  if (!need(2)) return null;
  const extensionsLength = u16();
  const extensionsEnd = Math.min(bytes.length, offset + extensionsLength);
  while (offset + 4 <= extensionsEnd) {
    const type = u16();
    const length = u16();
    const end = offset + length;
    if (end > extensionsEnd) return null;
    if (type === SERVER_NAME_EXTENSION) {
      if (!need(2)) return null;
      offset += 2; // server_name_list length
      while (offset + 3 <= end) {
        const nameType = u8();
        const nameLength = u16();
        if (offset + nameLength > end) return null;
        if (nameType === HOST_NAME) {
          const name = bytes.toString('latin1', offset, offset + nameLength);
          // A host name is printable ASCII; anything else is not recorded as one.
          return /^[\x21-\x7e]{1,255}$/.test(name) ? name : null;
        }
        offset += nameLength;
      }
      return null;
    }
    offset = end;
  }
  return null;
}

/**
 * Waits for the first bytes a client sends on `socket` (its ClientHello), reads them without
 * consuming them — they are put back for the TLS socket that wraps `socket` next — and calls
 * `onHello`. Nothing happens if the socket closes first; the caller's own close handling sees that.
 */
export function peekClientHello(socket: net.Socket, onHello: (hello: ClientHelloInfo) => void): void {
  socket.once('data', (chunk: Buffer) => {
    socket.pause();
    socket.unshift(chunk);
    onHello({ servername: readClientHelloServername(chunk) });
  });
  // A socket that was piped somewhere is paused once it is unpiped.
  socket.resume();
}

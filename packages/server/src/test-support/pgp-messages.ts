import type { LayerLimits, PgpKeyMaterial, ProtectionKeys } from '../analysis/protection/protection-layer.js';

/*
 * Builds real MIME messages around OpenPGP data (RFC 3156 PGP/MIME and inline PGP), the way mail
 * clients lay them out, for the OpenPGP layer's tests.
 */

const HEADERS = 'From: Sender <sender@example.test>\r\nTo: Alice <alice@example.test>\r\nSubject: protected\r\nMIME-Version: 1.0\r\n';

/** `\n` → `\r\n` (armored output of gpg and openpgp.js has bare line feeds). */
export function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

/** A small MIME entity to protect: the inner message of PGP/MIME. */
export function innerEntity(text: string): string {
  return crlf(`Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 7bit\n\n${text}\n`);
}

/** RFC 3156 4: multipart/encrypted with the version part and the armored data. */
export function pgpMimeEncrypted(armored: string): Buffer {
  return Buffer.from(
    HEADERS +
      'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted";\r\n\tboundary="enc-b0undary"\r\n\r\n' +
      'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n' +
      '--enc-b0undary\r\nContent-Type: application/pgp-encrypted\r\nContent-Description: PGP/MIME version identification\r\n\r\nVersion: 1\r\n\r\n' +
      '--enc-b0undary\r\nContent-Type: application/octet-stream; name="encrypted.asc"\r\nContent-Disposition: inline; filename="encrypted.asc"\r\n\r\n' +
      crlf(armored) +
      '\r\n--enc-b0undary--\r\n',
  );
}

/** RFC 3156 5: multipart/signed whose first part is `signedPart` exactly, then the armored detached signature. */
export function pgpMimeSigned(signedPart: string, armoredSignature: string, micalg = 'pgp-sha256'): Buffer {
  return Buffer.from(
    HEADERS +
      `Content-Type: multipart/signed; micalg=${micalg};\r\n protocol="application/pgp-signature"; boundary="sig-b0undary"\r\n\r\n` +
      'This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n' +
      `--sig-b0undary\r\n${signedPart}\r\n` +
      '--sig-b0undary\r\nContent-Type: application/pgp-signature; name="signature.asc"\r\nContent-Description: OpenPGP digital signature\r\nContent-Disposition: attachment; filename="signature.asc"\r\n\r\n' +
      crlf(armoredSignature) +
      '\r\n--sig-b0undary--\r\n',
  );
}

/** A text/plain message whose body is `text` (inline PGP at the top level). */
export function plainMessage(text: string, transferEncoding = '7bit'): Buffer {
  const body = transferEncoding === 'base64' ? `${Buffer.from(crlf(text)).toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n` : crlf(text);
  return Buffer.from(`${HEADERS}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: ${transferEncoding}\r\n\r\n${body}`);
}

/** multipart/mixed: a text/plain part with `text` (inline PGP one level down), then an attachment. */
export function mixedMessage(text: string): Buffer {
  return Buffer.from(
    HEADERS +
      'Content-Type: multipart/mixed; boundary="mix-b0undary"\r\n\r\n' +
      '--mix-b0undary\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n' +
      crlf(text).replace(/=/g, '=3D') +
      '\r\n--mix-b0undary\r\nContent-Type: application/octet-stream; name="data.bin"\r\nContent-Disposition: attachment; filename="data.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n' +
      '--mix-b0undary--\r\n',
  );
}

/** Limits for a test: a fresh signal and `maxRecipients` (default 20). */
export function testLimits(overrides: Partial<LayerLimits> = {}): LayerLimits {
  return { signal: new AbortController().signal, maxRecipients: 20, ...overrides };
}

/** Registered keys holding OpenPGP keys only. */
export function pgpKeys(...pgp: PgpKeyMaterial[]): ProtectionKeys {
  return { smime: [], smimeTrustAnchors: [], pgp };
}

/** A registered OpenPGP key: `privateKey` (and `passphrase`) to decrypt, the public key to trust. */
export function pgpKey(address: string | null, publicKey: string, privateKey: string | null = null, passphrase: string | null = null): PgpKeyMaterial {
  return { address, publicKey, privateKey, passphrase };
}

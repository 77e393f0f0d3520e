import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  crlf,
  innerEntity,
  mixedMessage,
  pgpKey,
  pgpKeys,
  pgpMimeEncrypted,
  pgpMimeSigned,
  plainMessage,
  testLimits,
} from '../../test-support/pgp-messages.js';
import { generatePgpKey, type GeneratedPgpKey } from './generate-pgp-key.js';
import { readMimeEntity } from './mime-entity.js';
import { readPgpLayer } from './pgp-layer.js';
import type { LayerResult, ProtectionKeys } from './protection-layer.js';

/* Bad input: every damaged OpenPGP layer is a result with a reason, never an exception; mail that is not OpenPGP is null. */

async function read(message: Buffer, keys: ProtectionKeys = pgpKeys()): Promise<LayerResult> {
  const result = await readPgpLayer(readMimeEntity(message), keys, testLimits());
  if (!result) throw new Error('readPgpLayer found no OpenPGP layer');
  return result;
}

const GARBAGE_ARMOR = '-----BEGIN PGP MESSAGE-----\n\nThis is not base64 at all!!\n-----END PGP MESSAGE-----\n';

describe('readPgpLayer with damaged input', () => {
  let alice: GeneratedPgpKey;
  let keys: ProtectionKeys;
  let encrypted: string;

  beforeAll(async () => {
    alice = await generatePgpKey('alice@example.test');
    keys = pgpKeys(pgpKey('alice@example.test', alice.publicKey, alice.privateKey));
    encrypted = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: Buffer.from(innerEntity('hello')) }),
      encryptionKeys: await openpgp.readKey({ armoredKey: alice.publicKey }),
    });
  });

  it('gives garbage armor in multipart/encrypted a reason', async () => {
    const result = await read(pgpMimeEncrypted(GARBAGE_ARMOR), keys);
    expect(result.kind).toBe('pgp-mime');
    expect(result.reason).toMatch(/^damaged OpenPGP message: /);
    expect(result.encryption).toMatchObject({ algorithm: 'unknown', decrypted: false, reason: result.reason });
    expect(result.inner).toBeNull();
  });

  it('gives a truncated message, random bytes and a corrupted ciphertext a reason', async () => {
    const truncated = encrypted.slice(0, Math.floor(encrypted.length / 2)) + '\n-----END PGP MESSAGE-----\n';
    const random = `-----BEGIN PGP MESSAGE-----\n\n${Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7919) % 256)).toString('base64')}\n-----END PGP MESSAGE-----\n`;
    for (const armored of [truncated, random]) {
      const result = await read(pgpMimeEncrypted(armored), keys);
      expect(result.encryption?.decrypted).toBe(false);
      expect(result.reason).not.toBeNull();
    }
    // Flip bytes inside the encrypted data (after the key packet): the MDC or the CFB padding catches it.
    const base64 = encrypted
      .split('\n')
      .filter((line) => /^[A-Za-z0-9+/]+=*$/.test(line))
      .join('');
    const flipped = Buffer.from(base64, 'base64');
    for (let i = flipped.length - 40; i < flipped.length - 30; i += 1) flipped[i]! ^= 0xff;
    const result = await read(pgpMimeEncrypted(openpgp.armor(openpgp.enums.armor.message, flipped)), keys);
    expect(result.encryption?.decrypted).toBe(false);
    expect(result.encryption?.reason).toMatch(/^damaged: the encrypted data does not decrypt/);
    expect(result.reason).toBe(result.encryption?.reason);
  });

  it('gives a malformed multipart/encrypted a reason', async () => {
    const noBoundary = Buffer.from('Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"\r\n\r\nbody\r\n');
    expect((await read(noBoundary)).reason).toBe('damaged PGP/MIME: multipart/encrypted without a boundary');
    const versionOnly = Buffer.from(
      'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=b\r\n\r\n--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--b--\r\n',
    );
    expect((await read(versionOnly)).reason).toBe('damaged PGP/MIME: no application/octet-stream part with the encrypted data');
  });

  it('gives a garbage or missing signature in multipart/signed an invalid verdict', async () => {
    const signedPart = crlf('Content-Type: text/plain\n\nsigned text');
    const garbage = await read(pgpMimeSigned(signedPart, '-----BEGIN PGP SIGNATURE-----\n\nbm90IGEgc2lnbmF0dXJl\n-----END PGP SIGNATURE-----\n'), keys);
    expect(garbage.signatures).toEqual([expect.objectContaining({ valid: false, trusted: false, reason: expect.stringMatching(/^damaged signature: /) })]);
    expect(garbage.reason).toMatch(/^damaged signature: /);
    expect(garbage.inner?.toString()).toBe(signedPart);

    const onePart = Buffer.from(
      'Content-Type: multipart/signed; protocol="application/pgp-signature"; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n',
    );
    expect((await read(onePart)).reason).toBe('damaged PGP/MIME: multipart/signed needs two parts, the content and the signature');
  });

  it('gives garbage inline armor and a clearsigned text without its signature a reason', async () => {
    const garbage = await read(plainMessage(`Hello,\n${GARBAGE_ARMOR}`));
    expect(garbage.kind).toBe('pgp-inline');
    expect(garbage.reason).toMatch(/^damaged OpenPGP message: /);
    expect(garbage.signatures).toEqual([]);
    expect(garbage.encryption).toBeNull();

    const unsigned = await read(mixedMessage('-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nno signature follows\n'));
    expect(unsigned.reason).toMatch(/^damaged clearsigned message: /);
    expect(unsigned.signatures[0]?.valid).toBe(false);
  });

  it('bounds a compression bomb', async () => {
    const bomb = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: new Uint8Array(80 * 1024 * 1024) }),
      encryptionKeys: await openpgp.readKey({ armoredKey: alice.publicKey }),
      config: { preferredCompressionAlgorithm: openpgp.enums.compression.zlib },
    });
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const result = await read(pgpMimeEncrypted(bomb), keys);
    expect(result.encryption?.decrypted).toBe(false);
    expect(result.encryption?.reason).toMatch(/decompressed message size/i);
    expect(result.inner).toBeNull();
  });
});

describe('readPgpLayer on mail that is not OpenPGP', () => {
  it('returns null', async () => {
    const notPgp = [
      plainMessage('Hello, no OpenPGP here.'),
      plainMessage('A key for you:\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxjMEZ\n-----END PGP PUBLIC KEY BLOCK-----\n'),
      plainMessage('quoted inside a line: see -----BEGIN PGP MESSAGE----- above'),
      mixedMessage('Just text.'),
      Buffer.from('Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n'),
      Buffer.from(
        'Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQA=\r\n',
      ),
      // A text/plain attachment holding armor is an attachment, not the message's text.
      Buffer.from(
        `Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="m.asc"\r\n\r\n${crlf(GARBAGE_ARMOR)}--b--\r\n`,
      ),
    ];
    for (const message of notPgp) expect(await readPgpLayer(readMimeEntity(message), pgpKeys(), testLimits())).toBeNull();
  });
});

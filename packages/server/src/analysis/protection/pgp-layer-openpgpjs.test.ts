import * as openpgp from 'openpgp';
import { beforeAll, describe, expect, it } from 'vitest';
import { crlf, innerEntity, pgpKey, pgpKeys, pgpMimeEncrypted, pgpMimeSigned, plainMessage, testLimits } from '../../test-support/pgp-messages.js';
import { generatePgpKey, type GeneratedPgpKey } from './generate-pgp-key.js';
import { readMimeEntity } from './mime-entity.js';
import { readPgpLayer } from './pgp-layer.js';
import type { LayerResult, PgpKeyMaterial, ProtectionKeys } from './protection-layer.js';

/* OpenPGP produced by openpgp.js (the library apps in JavaScript use), read back with readPgpLayer. */

async function read(message: Buffer, keys: ProtectionKeys): Promise<LayerResult> {
  const result = await readPgpLayer(readMimeEntity(message), keys, testLimits());
  if (!result) throw new Error('readPgpLayer found no OpenPGP layer');
  return result;
}

function registered(key: GeneratedPgpKey, address: string, withPrivate = true, passphrase: string | null = null): PgpKeyMaterial {
  return pgpKey(address, key.publicKey, withPrivate ? key.privateKey : null, passphrase);
}

describe('readPgpLayer with messages from openpgp.js', () => {
  let alice: GeneratedPgpKey;
  let billing: GeneratedPgpKey;
  let stranger: GeneratedPgpKey;
  let alicePublic: openpgp.Key;
  let billingPrivate: openpgp.PrivateKey;
  let strangerPrivate: openpgp.PrivateKey;
  const inner = innerEntity('Your statement is attached.');

  beforeAll(async () => {
    [alice, billing, stranger] = await Promise.all([
      generatePgpKey('alice@example.test', { name: 'Alice' }),
      generatePgpKey('billing@example.test', { name: 'Billing' }),
      generatePgpKey('stranger@example.test'),
    ]);
    alicePublic = await openpgp.readKey({ armoredKey: alice.publicKey });
    billingPrivate = await openpgp.readPrivateKey({ armoredKey: billing.privateKey });
    strangerPrivate = await openpgp.readPrivateKey({ armoredKey: stranger.privateKey });
  });

  const keys = (): ProtectionKeys => pgpKeys(registered(alice, 'alice@example.test'), registered(billing, 'billing@example.test', false));

  it('decrypts a signed and encrypted PGP/MIME message, with one registered and one unknown signer', async () => {
    const armored = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: Buffer.from(inner) }),
      encryptionKeys: alicePublic,
      signingKeys: [billingPrivate, strangerPrivate],
    });
    const result = await read(pgpMimeEncrypted(armored), keys());
    expect(result.encryption).toMatchObject({ algorithm: 'AES-256 (SEIPD v1)', decrypted: true, reason: null });
    expect(result.encryption?.recipients).toEqual([
      { id: (await alicePublic.getEncryptionKey()).getKeyID().toHex(), keyTransport: 'ECDH (Curve25519)', address: 'alice@example.test' },
    ]);
    expect(result.inner?.toString()).toBe(inner);
    expect(result.signedInside).toBe(true);
    const byKey = new Map(result.signatures.map((signature) => [signature.fingerprint, signature]));
    expect(byKey.get(billing.fingerprint)).toMatchObject({
      valid: true,
      trusted: true,
      signer: 'Billing <billing@example.test>',
      algorithm: 'EdDSA',
      reason: null,
    });
    expect(byKey.get(stranger.fingerprint)).toMatchObject({
      valid: false,
      trusted: false,
      reason: `signer key ${strangerPrivate.getKeyID().toHex()} not registered`,
    });
  });

  it('decrypts binary (unarmored) data in a base64 application/octet-stream part', async () => {
    const binary = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: Buffer.from(inner) }),
      encryptionKeys: alicePublic,
      format: 'binary',
    });
    const base64 = Buffer.from(binary).toString('base64').replace(/.{76}/g, '$&\r\n');
    const message = Buffer.from(
      'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=b\r\n\r\n' +
        '--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n' +
        `--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${base64}\r\n--b--\r\n`,
    );
    const result = await read(message, keys());
    expect(result.encryption).toMatchObject({ algorithm: 'AES-256 (SEIPD v1)', decrypted: true });
    expect(result.inner?.toString()).toBe(inner);
  });

  it('names SEIPD v2 with its AEAD mode, and X25519 key transport of an RFC 9580 key', async () => {
    const aeadKey = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ email: 'aead@example.test' }],
      config: { aeadProtect: true },
    });
    const v2 = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: Buffer.from(inner) }),
      encryptionKeys: await openpgp.readKey({ armoredKey: aeadKey.publicKey }),
      config: { aeadProtect: true, preferredAEADAlgorithm: openpgp.enums.aead.ocb },
    });
    const withKey = await read(pgpMimeEncrypted(v2), pgpKeys(pgpKey('aead@example.test', aeadKey.publicKey, aeadKey.privateKey)));
    expect(withKey.encryption).toMatchObject({ algorithm: 'AES-256 (SEIPD v2, OCB)', decrypted: true });
    expect(withKey.inner?.toString()).toBe(inner);
    // SEIPD v2 names its cipher in the clear: known without a key.
    expect((await read(pgpMimeEncrypted(v2), pgpKeys())).encryption).toMatchObject({ algorithm: 'AES-256 (SEIPD v2, OCB)', decrypted: false });

    const modern = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ email: 'modern@example.test' }], config: { v6Keys: true } });
    const x25519 = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: Buffer.from(inner) }),
      encryptionKeys: await openpgp.readKey({ armoredKey: modern.publicKey }),
    });
    const result = await read(pgpMimeEncrypted(x25519), pgpKeys(pgpKey('modern@example.test', modern.publicKey, modern.privateKey)));
    expect(result.encryption?.recipients[0]).toMatchObject({ keyTransport: 'X25519', address: 'modern@example.test' });
    expect(result.encryption?.decrypted).toBe(true);
  });

  it('decrypts for an anonymous (wildcard) recipient by trying the registered keys', async () => {
    const armored = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: Buffer.from(inner) }),
      encryptionKeys: alicePublic,
      wildcard: true,
    });
    const result = await read(pgpMimeEncrypted(armored), keys());
    expect(result.encryption?.recipients).toEqual([{ id: 'anonymous (wildcard key id)', keyTransport: 'ECDH', address: null }]);
    expect(result.encryption?.decrypted).toBe(true);
  });

  it('lists a passphrase recipient and says Mailwright decrypts with keys only', async () => {
    const armored = await openpgp.encrypt({ message: await openpgp.createMessage({ binary: Buffer.from(inner) }), passwords: ['hunter2'] });
    const result = await read(pgpMimeEncrypted(armored), keys());
    expect(result.encryption?.recipients).toEqual([{ id: 'passphrase', keyTransport: 'passphrase', address: null }]);
    expect(result.encryption?.algorithm).toBe('unknown cipher (SEIPD v1)');
    expect(result.encryption?.decrypted).toBe(false);
    expect(result.encryption?.reason).toBe('encrypted to a passphrase only; Mailwright decrypts with registered keys');
  });

  it('decrypts with a generated key protected by a passphrase', async () => {
    const protectedKey = await generatePgpKey('locked@example.test', { passphrase: 'open sesame' });
    expect((await openpgp.readPrivateKey({ armoredKey: protectedKey.privateKey })).isDecrypted()).toBe(false);
    const armored = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: Buffer.from(inner) }),
      encryptionKeys: await openpgp.readKey({ armoredKey: protectedKey.publicKey }),
    });
    const result = await read(pgpMimeEncrypted(armored), pgpKeys(registered(protectedKey, 'locked@example.test', true, 'open sesame')));
    expect(result.encryption?.decrypted).toBe(true);
  });

  it('verifies a detached signature as PGP/MIME and a clearsigned text inline', async () => {
    const signedPart = crlf('Content-Type: text/plain; charset=utf-8\n\nSigned by the billing system.');
    const signature = await openpgp.sign({
      message: await openpgp.createMessage({ binary: Buffer.from(signedPart) }),
      signingKeys: billingPrivate,
      detached: true,
    });
    const mime = await read(pgpMimeSigned(signedPart, signature), keys());
    expect(mime.signatures).toEqual([expect.objectContaining({ valid: true, trusted: true, fingerprint: billing.fingerprint, digestAlgorithm: 'SHA-512' })]);
    expect(mime.inner?.toString()).toBe(signedPart);

    const clearsigned = await openpgp.sign({
      message: await openpgp.createCleartextMessage({ text: 'Grüße aus der Buchhaltung' }),
      signingKeys: billingPrivate,
    });
    const inline = await read(plainMessage(clearsigned), keys());
    expect(inline.kind).toBe('pgp-inline');
    expect(inline.signatures[0]).toMatchObject({ valid: true, trusted: true });
    expect(readMimeEntity(inline.inner!).body.toString('utf8')).toBe('Grüße aus der Buchhaltung');
  });
});

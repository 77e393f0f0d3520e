import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import { encryptedDataFields, passphrasePacketCipher, recipientPacketFields } from './openpgp-packet-fields.js';

/*
 * Canary for the openpgp packet fields its type definitions leave out: when an upgrade moves one,
 * the failing expectation names it.
 */

async function encryptedPackets(options: Omit<openpgp.EncryptOptions, 'message' | 'format'>): Promise<openpgp.AnyPacket[]> {
  const armored = await openpgp.encrypt({ ...options, message: await openpgp.createMessage({ text: 'canary' }) });
  return [...(await openpgp.readMessage({ armoredMessage: armored })).packets];
}

describe('openpgp packet fields', () => {
  it('PublicKeyEncryptedSessionKeyPacket: publicKeyID (a KeyID with isWildcard) and publicKeyAlgorithm', async () => {
    const { publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'canary@example.test' }] });
    const key = await openpgp.readKey({ armoredKey: publicKey });
    const [pkesk] = await encryptedPackets({ encryptionKeys: key });
    expect(pkesk).toBeInstanceOf(openpgp.PublicKeyEncryptedSessionKeyPacket);
    const fields = recipientPacketFields(pkesk!);
    expect(fields.keyId.toHex()).toBe((await key.getEncryptionKey()).getKeyID().toHex());
    expect(fields.wildcard).toBe(false);
    expect(fields.publicKeyAlgorithm).toBe(openpgp.enums.publicKey.ecdh);
    const [anonymous] = await encryptedPackets({ encryptionKeys: key, wildcard: true });
    expect(recipientPacketFields(anonymous!).wildcard).toBe(true);
    expect(() => recipientPacketFields({})).toThrow(/publicKeyID/);
  });

  it('SymEncryptedIntegrityProtectedDataPacket: version, and cipherAlgorithm and aeadAlgorithm for v2 (chosen for a key that advertises it)', async () => {
    const { publicKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ email: 'canary@example.test' }],
      config: { aeadProtect: true },
    });
    const key = await openpgp.readKey({ armoredKey: publicKey });
    const v4Only = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: 'canary@example.test' }] });
    const v1 = (await encryptedPackets({ encryptionKeys: await openpgp.readKey({ armoredKey: v4Only.publicKey }) })).find(
      (packet) => packet instanceof openpgp.SymEncryptedIntegrityProtectedDataPacket,
    );
    expect(encryptedDataFields(v1!)).toEqual({ version: 1, cipherAlgorithm: null, aeadAlgorithm: null });
    const v2 = (await encryptedPackets({ encryptionKeys: key, config: { aeadProtect: true, preferredAEADAlgorithm: openpgp.enums.aead.gcm } })).find(
      (packet) => packet instanceof openpgp.SymEncryptedIntegrityProtectedDataPacket,
    );
    expect(encryptedDataFields(v2!)).toEqual({ version: 2, cipherAlgorithm: openpgp.enums.symmetric.aes256, aeadAlgorithm: openpgp.enums.aead.gcm });
  });

  it('SymEncryptedSessionKeyPacket: sessionKeyAlgorithm only when the packet carries no encrypted session key', async () => {
    const [skesk] = await encryptedPackets({ passwords: ['canary'] });
    expect(skesk).toBeInstanceOf(openpgp.SymEncryptedSessionKeyPacket);
    // openpgp.js encrypts a random session key with the passphrase: the packet does not name the message's cipher.
    expect(passphrasePacketCipher(skesk!)).toBeNull();
    expect(passphrasePacketCipher({ sessionKeyAlgorithm: openpgp.enums.symmetric.aes128 })).toBe(openpgp.enums.symmetric.aes128);
  });
});

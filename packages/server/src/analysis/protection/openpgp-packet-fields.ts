import type { KeyID } from 'openpgp';

/*
 * The one place that reads fields of openpgp's packet objects that its type definitions leave
 * out (they are plain properties of the packet classes in openpgp 6, pinned in package.json).
 * openpgp-packet-fields.test.ts is the canary: after an upgrade it names the field that moved.
 */

/** What a Public-Key Encrypted Session Key packet says about its recipient, readable without decrypting. */
export interface RecipientPacketFields {
  /** The recipient (sub)key's id; a wildcard id (all zeros) for an anonymous recipient. */
  keyId: KeyID;
  wildcard: boolean;
  /** The public-key algorithm the session key is encrypted with (openpgp's `enums.publicKey`). */
  publicKeyAlgorithm: number;
}

/** What an encrypted data packet says about its cipher without decrypting (SEIPD v2 and AEAD packets only). */
export interface EncryptedDataFields {
  /** 1 or 2 for SEIPD; null for the others. */
  version: number | null;
  /** `enums.symmetric`, or null when the packet does not name it (SEIPD v1, SED: the session key does). */
  cipherAlgorithm: number | null;
  /** `enums.aead`, or null. */
  aeadAlgorithm: number | null;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

/** Reads a PKESK packet's recipient fields; throws when the packet does not have them (a changed openpgp). */
export function recipientPacketFields(packet: object): RecipientPacketFields {
  const fields = packet as { publicKeyID?: unknown; publicKeyAlgorithm?: unknown; publicKeyFingerprint?: unknown };
  const keyId = fields.publicKeyID as (KeyID & { isWildcard?: () => boolean }) | undefined;
  if (!keyId || typeof keyId.toHex !== 'function' || typeof keyId.isWildcard !== 'function') {
    throw new TypeError('openpgp PublicKeyEncryptedSessionKeyPacket has no publicKeyID KeyID');
  }
  if (typeof fields.publicKeyAlgorithm !== 'number') throw new TypeError('openpgp PublicKeyEncryptedSessionKeyPacket has no numeric publicKeyAlgorithm');
  return { keyId, wildcard: keyId.isWildcard(), publicKeyAlgorithm: fields.publicKeyAlgorithm };
}

/** Reads what an encrypted data packet (SEIPD, AEAD, SED) says about its cipher. */
export function encryptedDataFields(packet: object): EncryptedDataFields {
  const fields = packet as { version?: unknown; cipherAlgorithm?: unknown; aeadAlgorithm?: unknown };
  return { version: numberOrNull(fields.version), cipherAlgorithm: numberOrNull(fields.cipherAlgorithm), aeadAlgorithm: numberOrNull(fields.aeadAlgorithm) };
}

/** The session key algorithm a v4 SKESK packet names (`enums.symmetric`), or null. */
export function passphrasePacketCipher(packet: object): number | null {
  return numberOrNull((packet as { sessionKeyAlgorithm?: unknown }).sessionKeyAlgorithm);
}

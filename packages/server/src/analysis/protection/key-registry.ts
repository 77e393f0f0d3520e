import { createPrivateKey, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { ErrorCode, MailwrightError, type KeyRegistration, type RegisteredKey } from '@mailwright/core';
import type { PgpKeyMaterial, ProtectionKeys, SmimeKeyMaterial } from './protection-layer.js';

/** The most keys registered at once. */
export const MAX_REGISTERED_KEYS = 1_000;

/**
 * Keys and certificates for end-to-end protection, in memory only: S/MIME recipients (their
 * certificate and private key) and signers to trust, CA certificates to trust, OpenPGP keys.
 * Private halves are kept for decryption and never listed.
 */
export interface KeyRegistry {
  /** Registers a key; throws `INVALID_KEY` (400) naming what cannot be read. */
  register(registration: KeyRegistration): Promise<RegisteredKey>;
  /** Every registered key, oldest first, public halves only. */
  list(): RegisteredKey[];
  /** Removes a key; false when there was none. */
  delete(id: string): boolean;
  /** The key material an examination uses: the registered keys with the test CA as a trust anchor. Rebuilt when keys change. */
  material(): ProtectionKeys;
}

interface Stored {
  key: RegisteredKey;
  smime?: SmimeKeyMaterial;
  /** A CA certificate to trust (PEM). */
  anchor?: string;
  pgp?: PgpKeyMaterial;
}

function invalidKey(message: string, cause?: unknown): MailwrightError {
  return new MailwrightError(ErrorCode.INVALID_KEY, message, { statusCode: 400, cause });
}

/** The e-mail address a certificate names: its first rfc822Name, else an emailAddress attribute of its subject. */
export function certificateAddress(certificate: X509Certificate): string | null {
  const san = certificate.subjectAltName ?? '';
  const fromSan = /(?:^|, )email:([^,\s]+)/i.exec(san)?.[1];
  if (fromSan) return fromSan.toLowerCase();
  const fromSubject = /(?:^|\n)emailAddress=([^\n]+)/.exec(certificate.subject)?.[1];
  return fromSubject ? fromSubject.trim().toLowerCase() : null;
}

/** A PEM private key (PKCS #8, PKCS #1 or SEC 1) as PKCS #8 PEM. */
function readPrivateKey(pem: string): KeyObject {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    throw invalidKey(`"privateKey" is not a PEM private key (PKCS #8, PKCS #1 or SEC 1): ${(error as Error).message}`, error);
  }
}

function readCertificate(pem: string): X509Certificate {
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw invalidKey('"certificate" must be a PEM certificate (-----BEGIN CERTIFICATE-----)');
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw invalidKey(`"certificate" cannot be read: ${(error as Error).message}`, error);
  }
}

const hex = (fingerprint: string): string => fingerprint.replaceAll(':', '').toLowerCase();

/** Creates a registry; `caPem` (the test CA) is always a trust anchor. */
export function createKeyRegistry(options: { caPem: string }): KeyRegistry {
  const keys = new Map<string, Stored>();
  let material: ProtectionKeys | null = null;

  function add(stored: Stored): RegisteredKey {
    if (keys.size >= MAX_REGISTERED_KEYS) throw invalidKey(`At most ${MAX_REGISTERED_KEYS} keys are registered at once; delete some first`);
    keys.set(stored.key.id, stored);
    material = null;
    return stored.key;
  }

  async function registerSmime(registration: Extract<KeyRegistration, { type: 'smime' }>): Promise<RegisteredKey> {
    const certificate = readCertificate(registration.certificate);
    const privateKey = registration.privateKey === undefined ? null : readPrivateKey(registration.privateKey);
    if (privateKey && !certificate.checkPrivateKey(privateKey)) throw invalidKey('"privateKey" does not belong to "certificate"');
    const address = registration.address?.toLowerCase() ?? certificateAddress(certificate);
    const pem = certificate.toString();
    const isAnchor = certificate.ca && !privateKey;
    const key: RegisteredKey = {
      id: randomUUID(),
      type: 'smime',
      address: isAnchor ? (registration.address ?? null) : address,
      fingerprint: hex(certificate.fingerprint256),
      canDecrypt: privateKey !== null,
      publicKey: pem,
      createdAt: new Date().toISOString(),
    };
    return add({
      key,
      ...(isAnchor
        ? { anchor: pem }
        : { smime: { address, certificate: pem, privateKey: privateKey ? (privateKey.export({ type: 'pkcs8', format: 'pem' }) as string) : null } }),
    });
  }

  async function registerPgp(registration: Extract<KeyRegistration, { type: 'pgp' }>): Promise<RegisteredKey> {
    const openpgp = await import('openpgp');
    const armored = registration.privateKey ?? registration.publicKey;
    if (armored === undefined) throw invalidKey('Give "privateKey" (armored, to decrypt) or "publicKey" (armored, a signer to trust)');
    let publicKey: string;
    let fingerprint: string;
    let userIds: string[];
    let privateArmored: string | null = null;
    try {
      if (registration.privateKey !== undefined) {
        const key = await openpgp.readPrivateKey({ armoredKey: registration.privateKey });
        if (!key.isDecrypted() && registration.passphrase === undefined) throw invalidKey('"privateKey" is protected by a passphrase: give "passphrase"');
        if (!key.isDecrypted()) {
          try {
            await openpgp.decryptKey({ privateKey: key, passphrase: registration.passphrase as string });
          } catch (error) {
            throw invalidKey('"passphrase" does not unlock "privateKey"', error);
          }
        }
        publicKey = key.toPublic().armor();
        fingerprint = key.getFingerprint();
        userIds = key.getUserIDs();
        privateArmored = registration.privateKey;
      } else {
        const key = await openpgp.readKey({ armoredKey: armored });
        publicKey = key.toPublic().armor();
        fingerprint = key.getFingerprint();
        userIds = key.getUserIDs();
      }
    } catch (error) {
      if (error instanceof MailwrightError) throw error;
      throw invalidKey(`The OpenPGP key cannot be read: ${(error as Error).message}`, error);
    }
    const address = registration.address?.toLowerCase() ?? (/<([^>]+)>/.exec(userIds[0] ?? '')?.[1] ?? userIds[0] ?? null)?.toLowerCase() ?? null;
    const key: RegisteredKey = {
      id: randomUUID(),
      type: 'pgp',
      address,
      fingerprint: fingerprint.toLowerCase(),
      canDecrypt: privateArmored !== null,
      publicKey,
      createdAt: new Date().toISOString(),
    };
    return add({ key, pgp: { address, publicKey, privateKey: privateArmored, passphrase: registration.passphrase ?? null } });
  }

  return {
    register: (registration) => (registration.type === 'smime' ? registerSmime(registration) : registerPgp(registration)),
    list: () => [...keys.values()].map((stored) => stored.key),
    delete(id) {
      const deleted = keys.delete(id);
      if (deleted) material = null;
      return deleted;
    },
    material() {
      if (material) return material;
      const all = [...keys.values()];
      material = Object.freeze({
        smime: all.flatMap((stored) => (stored.smime ? [stored.smime] : [])),
        smimeTrustAnchors: [options.caPem, ...all.flatMap((stored) => (stored.anchor ? [stored.anchor] : []))],
        pgp: all.flatMap((stored) => (stored.pgp ? [stored.pgp] : [])),
      });
      return material;
    },
  };
}

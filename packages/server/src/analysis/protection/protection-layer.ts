import type { EncryptionVerdict, SignatureVerdict } from '@mailwright/core';
import type { MimeEntity } from './mime-entity.js';

/** An S/MIME certificate registered for an address, with its private key when messages to it are to be decrypted. */
export interface SmimeKeyMaterial {
  address: string | null;
  /** PEM. */
  certificate: string;
  /** PEM (PKCS#8 or PKCS#1), or null for a certificate trusted for signatures only. */
  privateKey: string | null;
}

/** An OpenPGP key registered for an address. */
export interface PgpKeyMaterial {
  address: string | null;
  /** Armored public key: trusted for signatures. */
  publicKey: string;
  /** Armored private key, or null: with it, messages to the key are decrypted. */
  privateKey: string | null;
  passphrase: string | null;
}

/** Every key a message's protection is examined with; nothing here is ever logged or served. */
export interface ProtectionKeys {
  smime: readonly SmimeKeyMaterial[];
  /** CA certificates (PEM) a signer must chain to to be trusted: the test CA and registered CAs. */
  smimeTrustAnchors: readonly string[];
  pgp: readonly PgpKeyMaterial[];
}

/** What one layer of protection (one signature wrapper, one encryption envelope) holds. */
export interface LayerResult {
  kind: 'smime' | 'pgp-mime' | 'pgp-inline';
  /** The signatures of this layer (an encrypted OpenPGP message may carry its signature inside). */
  signatures: SignatureVerdict[];
  /** Set when this layer is encrypted. */
  encryption: EncryptionVerdict | null;
  /** Set when this layer is both encrypted and signed in one (OpenPGP): the signature was inside the encryption. */
  signedInside: boolean;
  /** Weak choices of this layer. */
  warnings: string[];
  /**
   * The MIME entity this layer protects, as bytes: the signed content of a signature, the
   * decrypted content of an encryption; null when it cannot be reached (not decrypted, damaged).
   */
  inner: Buffer | null;
  /** Why the layer could not be read in full, or null. */
  reason: string | null;
}

/** Limits every layer reader honours. */
export interface LayerLimits {
  /** Stops work (a reader checks it between expensive steps, and passes it on where it can). */
  signal: AbortSignal;
  /** The most recipients of an encrypted layer examined; the rest are counted, not tried. */
  maxRecipients: number;
}

/**
 * Reads one layer of protection off an entity: null when the entity is not protected in the
 * way this reader knows. Never throws for bad input: damage is a result with a reason.
 */
export type ProtectionLayerReader = (entity: MimeEntity, keys: ProtectionKeys, limits: LayerLimits) => Promise<LayerResult | null>;

/** A signature that could not be read (damaged, truncated, unknown structure): one verdict that says why. */
export function unreadableSignature(reason: string): SignatureVerdict {
  return {
    valid: false,
    trusted: false,
    signer: null,
    subject: null,
    fingerprint: null,
    keyId: null,
    signedAt: null,
    digestAlgorithm: 'unknown',
    algorithm: 'unknown',
    reason,
  };
}

import { z } from 'zod';

/** How a message is protected end to end: S/MIME (CMS), PGP/MIME (RFC 3156), inline PGP, or not at all. */
export const ProtectionKindSchema = z.enum(['none', 'smime', 'pgp-mime', 'pgp-inline']);
export type ProtectionKind = z.infer<typeof ProtectionKindSchema>;

/** One signature found on a message (a CMS SignerInfo, or an OpenPGP signature packet). */
export const SignatureVerdictSchema = z.object({
  /** The signature verifies over the content it covers, with the signer's key. */
  valid: z.boolean(),
  /** The signer chains to a configured CA (S/MIME) or is a registered key (OpenPGP). */
  trusted: z.boolean(),
  /** Who signed: the certificate's e-mail address or subject (S/MIME), the key's user id (OpenPGP); null when unknown. */
  signer: z.string().nullable(),
  /** The signer certificate's subject (S/MIME), or null. */
  subject: z.string().nullable(),
  /** SHA-256 fingerprint of the signer's certificate (S/MIME) or the signing key's fingerprint (OpenPGP), hex; null when unknown. */
  fingerprint: z.string().nullable(),
  /** The OpenPGP key id that made the signature (hex), or null for S/MIME. */
  keyId: z.string().nullable(),
  /** When the signer says it signed (CMS signingTime, OpenPGP creation time), ISO 8601, or null. */
  signedAt: z.string().nullable(),
  /** The digest algorithm, e.g. `SHA-256`, `SHA-1`. */
  digestAlgorithm: z.string(),
  /** The signature algorithm, e.g. `RSA`, `RSA-PSS`, `ECDSA`, `EdDSA`. */
  algorithm: z.string(),
  /** Why the signature is not valid or not trusted, in words; null when it is both. */
  reason: z.string().nullable(),
});
export type SignatureVerdict = z.infer<typeof SignatureVerdictSchema>;

/** One recipient an encrypted message was encrypted to. */
export const EncryptionRecipientSchema = z.object({
  /** The recipient's identifier: `issuer=…; serial=…` or a subject key identifier (S/MIME), a key id (OpenPGP). */
  id: z.string(),
  /** How the content key reached this recipient: `RSA PKCS#1 v1.5`, `RSA-OAEP`, `ECDH`, `ElGamal`, `X25519`… */
  keyTransport: z.string(),
  /** The registered key that matches this recipient (its address), or null. */
  address: z.string().nullable(),
});
export type EncryptionRecipient = z.infer<typeof EncryptionRecipientSchema>;

/** How the content of an encrypted message is encrypted. */
export const EncryptionVerdictSchema = z.object({
  /** The content encryption algorithm: `AES-256-CBC`, `AES-256-GCM`, `3DES-CBC`, `AES-256 (OpenPGP SEIPD)`… */
  algorithm: z.string(),
  recipients: z.array(EncryptionRecipientSchema),
  /** A registered key decrypted it: the inner message is served by `?view=decrypted`. */
  decrypted: z.boolean(),
  /** Why it was not decrypted, in words; null when it was. */
  reason: z.string().nullable(),
});
export type EncryptionVerdict = z.infer<typeof EncryptionVerdictSchema>;

/** End-to-end protection of a message: computed after the `250`, once per message. */
export const ProtectionSchema = z.object({
  /** `pending` until the message has been examined (after the `250`). */
  status: z.enum(['pending', 'done']),
  kind: ProtectionKindSchema,
  signed: z.boolean(),
  encrypted: z.boolean(),
  /** With both: which came first, from the outside in. */
  order: z.enum(['sign-then-encrypt', 'encrypt-then-sign']).nullable(),
  /** Every signature found, outermost layer first. */
  signatures: z.array(SignatureVerdictSchema),
  /** The outermost encryption layer, or null when the message is not encrypted. */
  encryption: EncryptionVerdictSchema.nullable(),
  /** Weak choices found: `3DES`, `RC2`, `RSA-1024`, `SHA-1`, `RSA PKCS#1 v1.5 key transport`… */
  warnings: z.array(z.string()),
  /** Why examination stopped short (a truncated structure, too deep, too large, out of time), or null. */
  reason: z.string().nullable(),
  /** When it was examined (ISO 8601), or null while pending. */
  computedAt: z.string().nullable(),
});
export type Protection = z.infer<typeof ProtectionSchema>;

/** What a message list carries of its protection; the whole record comes with `GET /messages/:id`. */
export const ProtectionSummarySchema = z.object({
  status: z.enum(['pending', 'done']),
  kind: ProtectionKindSchema,
  signed: z.boolean(),
  encrypted: z.boolean(),
  decrypted: z.boolean(),
});
export type ProtectionSummary = z.infer<typeof ProtectionSummarySchema>;

/** The summary of a record (a summary is returned as it is). */
export function summarizeProtection(protection: Protection | ProtectionSummary): ProtectionSummary {
  if (!('signatures' in protection)) return protection;
  const { status, kind, signed, encrypted } = protection;
  return { status, kind, signed, encrypted, decrypted: protection.encryption?.decrypted ?? false };
}

/** A key registered for decryption or trust, as `GET /keys` lists it (never its private half). */
export const RegisteredKeySchema = z.object({
  id: z.string(),
  type: z.enum(['smime', 'pgp']),
  /** The address the key belongs to, or null for a trust anchor (an S/MIME CA certificate). */
  address: z.string().nullable(),
  /** SHA-256 of the certificate (S/MIME) or the OpenPGP key fingerprint, hex. */
  fingerprint: z.string(),
  /** A private key was registered: messages to this address can be decrypted. */
  canDecrypt: z.boolean(),
  /** The public half: the certificate (S/MIME) or the armored public key (OpenPGP). */
  publicKey: z.string(),
  createdAt: z.string(),
});
export type RegisteredKey = z.infer<typeof RegisteredKeySchema>;

/** `POST /keys`: a recipient's key pair, a signer's public key or certificate, or a CA to trust. */
export const KeyRegistrationSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('smime'),
    /** Defaults to the certificate's e-mail address. */
    address: z.string().optional(),
    /** PEM; a CA certificate without a private key makes the CA a trust anchor for signatures. */
    certificate: z.string().min(1),
    /** PEM (PKCS#8 or PKCS#1); without it the certificate is trusted for signatures only. */
    privateKey: z.string().min(1).optional(),
  }),
  z.object({
    type: z.literal('pgp'),
    /** Defaults to the key's first user id's e-mail address. */
    address: z.string().optional(),
    /** Armored private key: decrypts messages to it, and its public half is trusted for signatures. */
    privateKey: z.string().min(1).optional(),
    passphrase: z.string().optional(),
    /** Armored public key: a signer to trust. */
    publicKey: z.string().min(1).optional(),
  }),
]);
export type KeyRegistration = z.infer<typeof KeyRegistrationSchema>;

/** `POST /keys/smime` and `POST /keys/pgp`: generated for an address and registered; the private half is returned once, to hand to the app. */
export const IssuedKeySchema = z.object({
  key: RegisteredKeySchema,
  /** PEM certificate (S/MIME) or armored public key (OpenPGP). */
  publicKey: z.string(),
  /** PEM PKCS#8 (S/MIME) or armored private key (OpenPGP). */
  privateKey: z.string(),
  /** S/MIME: the test CA's certificate (PEM), to trust or to chain with; null for OpenPGP. */
  caCertificate: z.string().nullable(),
});
export type IssuedKey = z.infer<typeof IssuedKeySchema>;

/** An OpenPGP key pair generated for a test recipient or signer. */
export interface GeneratedPgpKey {
  /** Armored public key: what the app under test encrypts to or verifies with. */
  publicKey: string;
  /** Armored private key (protected by the passphrase when one is given). */
  privateKey: string;
  /** The primary key's fingerprint, lower-case hex (as `readPgpLayer` reports it). */
  fingerprint: string;
}

/** Options of {@link generatePgpKey}. */
export interface GeneratePgpKeyOptions {
  /** The user id's name, e.g. `Alice` → `Alice <alice@example.test>`; default: the address alone. */
  name?: string;
  /** Protects the private key; default: none. */
  passphrase?: string;
}

/**
 * Generates an OpenPGP key for `address`: an Ed25519 primary key that signs and a Curve25519
 * (ECDH) subkey that encrypts, v4 keys that GnuPG 2.2 and later read. Throws for an address
 * openpgp does not accept as a user id's e-mail.
 */
export async function generatePgpKey(address: string, options: GeneratePgpKeyOptions = {}): Promise<GeneratedPgpKey> {
  const openpgp = await import('openpgp');
  const { publicKey, privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [options.name ? { name: options.name, email: address } : { email: address }],
    ...(options.passphrase ? { passphrase: options.passphrase } : {}),
    format: 'armored',
  });
  const key = await openpgp.readKey({ armoredKey: publicKey });
  return { publicKey, privateKey, fingerprint: key.getFingerprint() };
}

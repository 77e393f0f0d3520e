import type { EncryptionRecipient, EncryptionVerdict, SignatureVerdict } from '@mailwright/core';
import type * as OpenPgp from 'openpgp';
import { decodeBody, readMimeEntity, splitMultipart, type MimeEntity } from './mime-entity.js';
import { encryptedDataFields, passphrasePacketCipher, recipientPacketFields } from './openpgp-packet-fields.js';
import {
  unreadableSignature,
  type LayerLimits,
  type LayerResult,
  type PgpKeyMaterial,
  type ProtectionKeys,
  type ProtectionLayerReader,
} from './protection-layer.js';

type Openpgp = typeof OpenPgp;
/** One signature's verification, as openpgp's decrypt and verify return it (the type is not exported). */
type VerificationResult = OpenPgp.VerifyMessageResult['signatures'][number];

/** The most a compressed OpenPGP message may inflate to before it is called damaged (a compression bomb). */
const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;
/** Parsed keys kept between messages (by their armored text), so that a passphrase is not re-derived per message. */
const KEY_CACHE_ENTRIES = 64;

const MESSAGE_BEGIN = '-----BEGIN PGP MESSAGE-----';
const MESSAGE_END = '-----END PGP MESSAGE-----';
const SIGNED_BEGIN = '-----BEGIN PGP SIGNED MESSAGE-----';
const SIGNATURE_END = '-----END PGP SIGNATURE-----';

let loading: Promise<Openpgp> | null = null;

/** openpgp is loaded on first use: plain mail (and a server that never sees OpenPGP) does not pay for it. */
function loadOpenpgp(): Promise<Openpgp> {
  loading ??= import('openpgp');
  return loading;
}

/**
 * Examination reads what it is given and reports weak choices as warnings rather than refusing
 * them (a test wants to see that an app used SHA-1 or a 1024-bit key, not an error).
 */
function examinationConfig(): OpenPgp.PartialConfig {
  return {
    minRSABits: 0,
    rejectHashAlgorithms: new Set(),
    rejectMessageHashAlgorithms: new Set(),
    rejectPublicKeyAlgorithms: new Set(),
    rejectCurves: new Set(),
    allowUnauthenticatedMessages: true,
    allowMissingKeyFlags: true,
    maxDecompressedMessageSize: MAX_DECOMPRESSED_BYTES,
  };
}

class ExaminationStopped extends Error {}

function checkSignal(signal: AbortSignal): void {
  if (signal.aborted) throw new ExaminationStopped(signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'aborted'));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

const CIPHER_NAMES: Record<string, string> = {
  idea: 'IDEA',
  tripledes: '3DES',
  cast5: 'CAST5',
  blowfish: 'Blowfish',
  aes128: 'AES-128',
  aes192: 'AES-192',
  aes256: 'AES-256',
  twofish: 'Twofish',
};
/** Ciphers listed as warnings: 64-bit blocks (3DES, CAST5, IDEA, Blowfish). */
const WEAK_CIPHERS = new Set(['3DES', 'CAST5', 'IDEA', 'Blowfish']);

const HASH_NAMES: Record<string, string> = {
  md5: 'MD5',
  sha1: 'SHA-1',
  ripemd: 'RIPEMD-160',
  sha256: 'SHA-256',
  sha384: 'SHA-384',
  sha512: 'SHA-512',
  sha224: 'SHA-224',
  sha3_256: 'SHA3-256',
  sha3_512: 'SHA3-512',
};
const WEAK_HASHES = new Set(['MD5', 'SHA-1', 'RIPEMD-160']);

const SIGNATURE_ALGORITHM_NAMES: Record<string, string> = {
  rsaEncryptSign: 'RSA',
  rsaSign: 'RSA',
  dsa: 'DSA',
  ecdsa: 'ECDSA',
  eddsaLegacy: 'EdDSA',
  ed25519: 'Ed25519',
  ed448: 'Ed448',
};

const KEY_TRANSPORT_NAMES: Record<string, string> = {
  rsaEncryptSign: 'RSA',
  rsaEncrypt: 'RSA',
  elgamal: 'ElGamal',
  ecdh: 'ECDH',
  x25519: 'X25519',
  x448: 'X448',
  pqc_mlkem_x25519: 'ML-KEM-768+X25519',
};

const CURVE_NAMES: Record<string, string> = {
  curve25519Legacy: 'Curve25519',
  nistP256: 'P-256',
  nistP384: 'P-384',
  nistP521: 'P-521',
  brainpoolP256r1: 'brainpoolP256r1',
  brainpoolP384r1: 'brainpoolP384r1',
  brainpoolP512r1: 'brainpoolP512r1',
  secp256k1: 'secp256k1',
};

const AEAD_NAMES: Record<string, string> = { eax: 'EAX', ocb: 'OCB', gcm: 'GCM' };

function enumName(table: Record<string, string | number>, value: number | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  for (const [name, number] of Object.entries(table)) if (number === value) return name;
  return null;
}

function cipherName(openpgp: Openpgp, value: number | string | null): string | null {
  const name = typeof value === 'string' ? value : enumName(openpgp.enums.symmetric as unknown as Record<string, number>, value);
  if (name === null) return null;
  return CIPHER_NAMES[name] ?? name;
}

function hashName(openpgp: Openpgp, value: number | null): string {
  const name = enumName(openpgp.enums.hash as unknown as Record<string, number>, value);
  return name === null ? `unknown (${value})` : (HASH_NAMES[name] ?? name);
}

function publicKeyAlgorithmName(openpgp: Openpgp, value: number | null): string | null {
  return enumName(openpgp.enums.publicKey as unknown as Record<string, number>, value);
}

/** `RSA-1024`, `DSA-1024`, `ElGamal-1024` for keys below 2048 bits, or null. */
function weakKeyWarning(info: OpenPgp.AlgorithmInfo): string | null {
  if (info.bits === undefined || info.bits >= 2048) return null;
  const family = info.algorithm.startsWith('rsa') ? 'RSA' : info.algorithm === 'dsa' ? 'DSA' : info.algorithm === 'elgamal' ? 'ElGamal' : info.algorithm;
  return `${family}-${info.bits}`;
}

// ---------------------------------------------------------------------------------------------
// Registered keys
// ---------------------------------------------------------------------------------------------

/** A registered OpenPGP key, parsed. */
interface RegisteredPgpKey {
  material: PgpKeyMaterial;
  publicKey: OpenPgp.Key;
  /** The registered address, else the primary user id's e-mail address. */
  address: string | null;
  /** The primary user id, e.g. `Alice <alice@example.test>`. */
  userId: string | null;
}

const keyCache = new Map<string, Promise<unknown>>();

/** A bounded cache of parsed (and unlocked) keys by their armored text; a failure is not kept. */
function cached<T>(cacheKey: string, load: () => Promise<T>): Promise<T> {
  const hit = keyCache.get(cacheKey) as Promise<T> | undefined;
  if (hit) {
    keyCache.delete(cacheKey);
    keyCache.set(cacheKey, hit);
    return hit;
  }
  const loaded = load();
  keyCache.set(cacheKey, loaded);
  loaded.catch(() => keyCache.delete(cacheKey));
  while (keyCache.size > KEY_CACHE_ENTRIES) keyCache.delete(keyCache.keys().next().value as string);
  return loaded;
}

async function readRegisteredKeys(openpgp: Openpgp, materials: readonly PgpKeyMaterial[], config: OpenPgp.PartialConfig): Promise<RegisteredPgpKey[]> {
  const keys: RegisteredPgpKey[] = [];
  for (const material of materials) {
    const armored = material.publicKey || material.privateKey;
    if (!armored) continue;
    let publicKey: OpenPgp.Key;
    try {
      publicKey = await cached(`public\0${armored}`, async () => {
        const key = await openpgp.readKey({ armoredKey: armored, config });
        return key.isPrivate() ? key.toPublic() : key;
      });
    } catch {
      continue; // registration validates keys; one that cannot be read now cannot match anything
    }
    const userId = publicKey.getUserIDs()[0] ?? null;
    const email = publicKey.users.find((user) => user.userID?.email)?.userID?.email ?? null;
    keys.push({ material, publicKey, address: material.address ?? email, userId });
  }
  return keys;
}

function keysMatching(keys: readonly RegisteredPgpKey[], keyId: OpenPgp.KeyID): { key: RegisteredPgpKey; subkey: OpenPgp.Key | OpenPgp.Subkey }[] {
  const found: { key: RegisteredPgpKey; subkey: OpenPgp.Key | OpenPgp.Subkey }[] = [];
  for (const key of keys) {
    const subkey = key.publicKey.getKeys(keyId)[0];
    if (subkey) found.push({ key, subkey });
  }
  return found;
}

function describeKey(key: RegisteredPgpKey): string {
  return key.address ?? key.userId ?? key.publicKey.getFingerprint();
}

/** The registered private key, unlocked with its passphrase; a reason instead when it cannot be. */
async function unlockPrivateKey(openpgp: Openpgp, key: RegisteredPgpKey, config: OpenPgp.PartialConfig): Promise<OpenPgp.PrivateKey | string> {
  const { privateKey: armored, passphrase } = key.material;
  if (!armored) return `the key registered for ${describeKey(key)} has no private key`;
  let privateKey: OpenPgp.PrivateKey;
  try {
    privateKey = await cached(`private\0${armored}`, () => openpgp.readPrivateKey({ armoredKey: armored, config }));
  } catch (error) {
    return `the private key registered for ${describeKey(key)} cannot be read: ${messageOf(error)}`;
  }
  if (privateKey.isDecrypted()) return privateKey;
  if (passphrase === null) return `the private key registered for ${describeKey(key)} is protected by a passphrase and none is registered`;
  try {
    return await cached(`unlocked\0${passphrase}\0${armored}`, () => openpgp.decryptKey({ privateKey, passphrase, config }));
  } catch {
    return `wrong passphrase for the private key registered for ${describeKey(key)}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Signatures
// ---------------------------------------------------------------------------------------------

async function signatureVerdicts(
  openpgp: Openpgp,
  results: readonly VerificationResult[],
  keys: readonly RegisteredPgpKey[],
  warnings: Set<string>,
): Promise<SignatureVerdict[]> {
  const verdicts: SignatureVerdict[] = [];
  for (const result of results) {
    const keyId = result.keyID.toHex();
    const packet = await result.signature.then(
      (signature) => signature.packets[0] ?? null,
      () => null,
    );
    const failure = await result.verified.then(
      () => null,
      (error: unknown) => messageOf(error),
    );
    const match = keysMatching(keys, result.keyID)[0] ?? null;
    const digestAlgorithm = packet ? hashName(openpgp, packet.hashAlgorithm) : 'unknown';
    if (WEAK_HASHES.has(digestAlgorithm)) warnings.add(digestAlgorithm);
    const algorithmName = publicKeyAlgorithmName(openpgp, packet?.publicKeyAlgorithm ?? null);
    let reason: string | null = null;
    if (!match) reason = `signer key ${keyId} not registered`;
    else if (failure !== null) reason = `signature does not verify: ${failure}`;
    if (match) {
      const weak = weakKeyWarning(match.subkey.getAlgorithmInfo());
      if (weak) warnings.add(weak);
    }
    const issuerFingerprint = packet?.issuerFingerprint ? Buffer.from(packet.issuerFingerprint).toString('hex') : null;
    verdicts.push({
      valid: match !== null && failure === null,
      trusted: match !== null,
      signer: match?.key.userId ?? packet?.signersUserID ?? null,
      subject: null,
      fingerprint: match ? match.key.publicKey.getFingerprint() : issuerFingerprint,
      keyId,
      signedAt: packet?.created ? packet.created.toISOString() : null,
      digestAlgorithm,
      algorithm: algorithmName === null ? 'unknown' : (SIGNATURE_ALGORITHM_NAMES[algorithmName] ?? algorithmName),
      reason,
    });
  }
  return verdicts;
}

// ---------------------------------------------------------------------------------------------
// Encryption
// ---------------------------------------------------------------------------------------------

interface DecryptionOutcome {
  encryption: EncryptionVerdict;
  signatures: SignatureVerdict[];
  /** The decrypted literal data, or null. */
  data: Uint8Array | null;
  /** Why the layer could not be read in full (damage, a limit), or null. */
  reason: string | null;
}

function isEncryptedData(openpgp: Openpgp, packet: unknown): packet is OpenPgp.BasePacket<boolean> {
  return (
    packet instanceof openpgp.SymEncryptedIntegrityProtectedDataPacket ||
    packet instanceof openpgp.AEADEncryptedDataPacket ||
    packet instanceof openpgp.SymmetricallyEncryptedDataPacket
  );
}

/** `AES-256 (SEIPD v1)`, `AES-128 (SEIPD v2, OCB)`, `3DES (SED, no integrity protection)`; the cipher of SEIPD v1 and SED is known only once decrypted. */
function algorithmOf(openpgp: Openpgp, packet: object, sessionCipher: string | null): string {
  const fields = encryptedDataFields(packet);
  const cipher = cipherName(openpgp, fields.cipherAlgorithm) ?? sessionCipher ?? 'unknown cipher';
  const aead = AEAD_NAMES[enumName(openpgp.enums.aead as unknown as Record<string, number>, fields.aeadAlgorithm) ?? ''] ?? null;
  if (packet instanceof openpgp.SymmetricallyEncryptedDataPacket) return `${cipher} (SED, no integrity protection)`;
  if (packet instanceof openpgp.AEADEncryptedDataPacket) return `${cipher} (AEAD${aead ? `, ${aead}` : ''})`;
  if (fields.version === 2) return `${cipher} (SEIPD v2${aead ? `, ${aead}` : ''})`;
  return `${cipher} (SEIPD v1)`;
}

async function decryptMessage(
  openpgp: Openpgp,
  message: OpenPgp.Message<Uint8Array | string>,
  keys: readonly RegisteredPgpKey[],
  limits: LayerLimits,
  config: OpenPgp.PartialConfig,
  warnings: Set<string>,
): Promise<DecryptionOutcome> {
  const packets = [...message.packets];
  const dataPacket = packets.find((packet) => isEncryptedData(openpgp, packet)) as OpenPgp.BasePacket<boolean>;
  const recipientPackets = packets.filter((packet) => packet instanceof openpgp.PublicKeyEncryptedSessionKeyPacket);
  const passphrasePackets = packets.filter((packet) => packet instanceof openpgp.SymEncryptedSessionKeyPacket);
  // Only the first maxRecipients recipients are looked at (matched, listed, tried); the rest are counted.
  const examined = recipientPackets.slice(0, limits.maxRecipients);
  const beyondLimit = recipientPackets.length - examined.length;
  const limitNote =
    beyondLimit > 0
      ? `encrypted to ${recipientPackets.length} recipients: only the first ${examined.length} were examined, the other ${beyondLimit} counted`
      : null;

  if (dataPacket instanceof openpgp.SymmetricallyEncryptedDataPacket) warnings.add('no integrity protection (SED without MDC)');
  const recipients: EncryptionRecipient[] = [];
  const candidates = new Set<RegisteredPgpKey>();
  for (const packet of examined) {
    const fields = recipientPacketFields(packet);
    const matches = fields.wildcard ? keys.map((key) => ({ key, subkey: null })) : keysMatching(keys, fields.keyId);
    const transport =
      KEY_TRANSPORT_NAMES[publicKeyAlgorithmName(openpgp, fields.publicKeyAlgorithm) ?? ''] ?? `public-key algorithm ${fields.publicKeyAlgorithm}`;
    const info = matches[0]?.subkey?.getAlgorithmInfo() ?? null;
    const curve = info?.curve ? (CURVE_NAMES[info.curve] ?? info.curve) : null;
    recipients.push({
      id: fields.wildcard ? 'anonymous (wildcard key id)' : fields.keyId.toHex(),
      keyTransport: transport === 'ECDH' && curve ? `ECDH (${curve})` : transport,
      address: fields.wildcard ? null : (matches[0]?.key.address ?? null),
    });
    if (info) {
      const weak = weakKeyWarning(info);
      if (weak) warnings.add(weak);
    }
    for (const match of matches) if (match.key.material.privateKey) candidates.add(match.key);
  }
  // A passphrase packet without an encrypted session key names the message's cipher itself (gpg --symmetric).
  let passphraseCipher: string | null = null;
  for (const packet of passphrasePackets.slice(0, limits.maxRecipients)) {
    passphraseCipher ??= cipherName(openpgp, passphrasePacketCipher(packet));
    recipients.push({ id: 'passphrase', keyTransport: 'passphrase', address: null });
  }

  const undecrypted = (sessionCipher: string | null, why: string, damage: string | null = null): DecryptionOutcome => {
    const algorithm = algorithmOf(openpgp, dataPacket, sessionCipher ?? passphraseCipher);
    const cipher = algorithm.slice(0, algorithm.indexOf(' ('));
    if (WEAK_CIPHERS.has(cipher)) warnings.add(cipher);
    return {
      encryption: { algorithm, recipients, decrypted: false, reason: limitNote ? `${why}; ${limitNote}` : why },
      signatures: [],
      data: null,
      reason: [damage, limitNote].filter((text) => text !== null).join('; ') || null,
    };
  };

  if (candidates.size === 0) {
    if (recipientPackets.length === 0) {
      return undecrypted(null, passphrasePackets.length > 0 ? 'encrypted to a passphrase only; Mailwright decrypts with registered keys' : 'no recipient');
    }
    if (examined.length === 0) return undecrypted(null, 'no recipient was examined');
    const ids = recipients
      .filter((recipient) => recipient.id !== 'passphrase')
      .map((recipient) => recipient.id)
      .join(', ');
    return undecrypted(null, `no registered private key matches a recipient (${ids})`);
  }

  const unlocked: OpenPgp.PrivateKey[] = [];
  const problems: string[] = [];
  for (const key of candidates) {
    checkSignal(limits.signal);
    const privateKey = await unlockPrivateKey(openpgp, key, config);
    if (typeof privateKey === 'string') problems.push(privateKey);
    else unlocked.push(privateKey);
  }
  if (unlocked.length === 0) return undecrypted(null, problems.join('; '));

  // A message of the examined recipients only, so that no more than maxRecipients are tried.
  const kept = new Set<unknown>(examined);
  const list = new openpgp.PacketList<OpenPgp.AnyPacket>();
  for (const packet of packets) if (kept.has(packet) || !(packet instanceof openpgp.PublicKeyEncryptedSessionKeyPacket)) list.push(packet);
  const bounded = new openpgp.Message(list);

  checkSignal(limits.signal);
  let sessionKeys: OpenPgp.DecryptedSessionKey[];
  try {
    sessionKeys = await openpgp.decryptSessionKeys({ message: bounded, decryptionKeys: unlocked, config });
  } catch (error) {
    const who = [...candidates].map(describeKey).join(', ');
    return undecrypted(null, [...problems, `the key registered for ${who} could not decrypt the session key (${messageOf(error)})`].join('; '));
  }
  const sessionCipher = cipherName(openpgp, sessionKeys[0]?.algorithm ?? null);

  checkSignal(limits.signal);
  let decrypted: Awaited<ReturnType<typeof openpgp.decrypt<Uint8Array | string>>> & { data: Uint8Array };
  try {
    decrypted = (await openpgp.decrypt({
      message: bounded,
      sessionKeys: sessionKeys.map((sessionKey) => ({ data: sessionKey.data, algorithm: sessionKey.algorithm ?? 'aes256' })),
      verificationKeys: keys.map((key) => key.publicKey),
      format: 'binary',
      config,
    })) as typeof decrypted;
  } catch (error) {
    const damage = `damaged: the encrypted data does not decrypt (${messageOf(error)})`;
    return undecrypted(sessionCipher, damage, damage);
  }
  checkSignal(limits.signal);
  const signatures = await signatureVerdicts(openpgp, decrypted.signatures, keys, warnings);
  const algorithm = algorithmOf(openpgp, dataPacket, sessionCipher);
  const cipher = algorithm.slice(0, algorithm.indexOf(' ('));
  if (WEAK_CIPHERS.has(cipher)) warnings.add(cipher);
  return { encryption: { algorithm, recipients, decrypted: true, reason: null }, signatures, data: decrypted.data, reason: limitNote };
}

// ---------------------------------------------------------------------------------------------
// Layers
// ---------------------------------------------------------------------------------------------

interface LayerContext {
  openpgp: Openpgp;
  keys: RegisteredPgpKey[];
  limits: LayerLimits;
  config: OpenPgp.PartialConfig;
  warnings: Set<string>;
}

function result(kind: LayerResult['kind'], context: LayerContext, fields: Partial<LayerResult>): LayerResult {
  return {
    kind,
    signatures: [],
    encryption: null,
    signedInside: false,
    inner: null,
    reason: null,
    ...fields,
    warnings: [...context.warnings],
  };
}

/** Bytes allowed in the data of an armored block: base64, its padding, and white space. */
const ARMOR_DATA_BYTE = new Uint8Array(256);
for (const byte of Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \t\r\n', 'latin1')) ARMOR_DATA_BYTE[byte] = 1;

/**
 * The packets of an armored `PGP MESSAGE` block (RFC 4880 6.2), decoded here: native base64 is
 * an order of magnitude faster than openpgp's armor reader on a large message. Null when the
 * block is not plainly well-formed; openpgp then reads the armor and names what is wrong.
 */
function dearmorMessage(armored: Buffer): Uint8Array | null {
  const begin = armored.indexOf(MESSAGE_BEGIN);
  const end = armored.indexOf(MESSAGE_END, begin);
  if (begin === -1 || end === -1) return null;
  let at = armored.indexOf(10, begin);
  // Armor headers (`Version: …`, `Comment: …`) end at the first blank line.
  for (;;) {
    if (at === -1 || at >= end) return null;
    const next = armored.indexOf(10, at + 1);
    if (next === -1 || next > end) return null;
    const line = armored.toString('latin1', at + 1, next).trim();
    at = next;
    if (line === '') break;
    if (!/^[\x21-\x39\x3b-\x7e]+: /.test(line)) return null;
  }
  let dataEnd = end;
  // The optional CRC-24 checksum line (`=XXXX`) is the last line before the tail.
  const tail = armored.toString('latin1', Math.max(at, end - 16), end);
  const checksum = /\n=[A-Za-z0-9+/]{4}\s*$/.exec(tail);
  if (checksum) dataEnd = end - (tail.length - checksum.index);
  for (let i = at + 1; i < dataEnd; i += 1) if (ARMOR_DATA_BYTE[armored[i]!] !== 1) return null;
  const data = Buffer.from(armored.toString('latin1', at + 1, dataEnd), 'base64');
  return data.length === 0 ? null : data;
}

/** Reads an OpenPGP message (armored or binary): decrypts it when it is encrypted, verifies it when it is signed. */
async function readOpenpgpMessage(
  kind: LayerResult['kind'],
  input: { armored: Buffer } | { binary: Uint8Array },
  context: LayerContext,
  innerOf: (data: Uint8Array) => Buffer,
): Promise<LayerResult> {
  const { openpgp, config } = context;
  let message: OpenPgp.Message<Uint8Array | string>;
  try {
    const binary = 'armored' in input ? dearmorMessage(input.armored) : input.binary;
    message =
      binary === null
        ? await openpgp.readMessage({ armoredMessage: (input as { armored: Buffer }).armored.toString('latin1'), config })
        : await openpgp.readMessage({ binaryMessage: binary, config });
  } catch (error) {
    return result(kind, context, { reason: `damaged OpenPGP message: ${messageOf(error)}` });
  }
  checkSignal(context.limits.signal);
  if (message.packets.some((packet) => isEncryptedData(openpgp, packet))) {
    const outcome = await decryptMessage(openpgp, message, context.keys, context.limits, config, context.warnings);
    return result(kind, context, {
      encryption: outcome.encryption,
      signatures: outcome.signatures,
      signedInside: outcome.signatures.length > 0,
      inner: outcome.data ? innerOf(outcome.data) : null,
      reason: outcome.reason,
    });
  }
  try {
    const verified = await openpgp.verify({ message, verificationKeys: context.keys.map((key) => key.publicKey), format: 'binary', config });
    const signatures = await signatureVerdicts(openpgp, verified.signatures, context.keys, context.warnings);
    return result(kind, context, {
      signatures,
      inner: innerOf(verified.data),
      reason: signatures.length === 0 ? 'an OpenPGP message that is neither signed nor encrypted' : null,
    });
  } catch (error) {
    return result(kind, context, { signatures: [unreadableSignature(`damaged: ${messageOf(error)}`)], reason: `damaged OpenPGP message: ${messageOf(error)}` });
  }
}

/** `\n` and lone `\r` become `\r\n` (RFC 3156 5: signed data is verified in canonical form). */
function canonicalLineEndings(bytes: Buffer | Uint8Array): Buffer {
  return Buffer.from(
    Buffer.from(bytes)
      .toString('latin1')
      .replace(/\r\n|\r|\n/g, '\r\n'),
    'latin1',
  );
}

/** A text/plain entity carrying `text` (bytes in `charset`), as the inner entity of inline PGP. */
function textEntity(text: Uint8Array, charset: string): Buffer {
  const header = `Content-Type: text/plain; charset=${charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n`;
  return Buffer.concat([Buffer.from(header, 'latin1'), canonicalLineEndings(text)]);
}

async function readPgpMimeEncrypted(entity: MimeEntity, context: LayerContext): Promise<LayerResult> {
  const boundary = entity.params.boundary;
  const damaged = (reason: string): LayerResult =>
    result('pgp-mime', context, { encryption: { algorithm: 'unknown', recipients: [], decrypted: false, reason }, reason });
  if (!boundary) return damaged('damaged PGP/MIME: multipart/encrypted without a boundary');
  const parts = splitMultipart(entity.body, boundary).map(readMimeEntity);
  // RFC 3156 4: the control part (application/pgp-encrypted) first, the encrypted data (application/octet-stream) second.
  const payload = parts.find((part) => part.contentType === 'application/octet-stream') ?? parts[1];
  if (!payload) return damaged('damaged PGP/MIME: no application/octet-stream part with the encrypted data');
  const data = decodeBody(payload);
  const armored = data.includes(MESSAGE_BEGIN);
  const layer = await readOpenpgpMessage('pgp-mime', armored ? { armored: data } : { binary: data }, context, (inner) =>
    Buffer.from(inner.buffer, inner.byteOffset, inner.byteLength),
  );
  return layer.encryption
    ? layer
    : { ...layer, encryption: { algorithm: 'unknown', recipients: [], decrypted: false, reason: layer.reason ?? 'no encrypted data' } };
}

async function readPgpMimeSigned(entity: MimeEntity, context: LayerContext): Promise<LayerResult> {
  const { openpgp, config } = context;
  const boundary = entity.params.boundary;
  const unreadable = (reason: string, inner: Buffer | null = null): LayerResult =>
    result('pgp-mime', context, { signatures: [unreadableSignature(reason)], inner, reason });
  if (!boundary) return unreadable('damaged PGP/MIME: multipart/signed without a boundary');
  const parts = splitMultipart(entity.body, boundary);
  const [signed, signaturePart] = parts;
  if (!signed || !signaturePart) return unreadable('damaged PGP/MIME: multipart/signed needs two parts, the content and the signature', signed ?? null);
  const signatureData = decodeBody(readMimeEntity(signaturePart));
  let signature: OpenPgp.Signature;
  try {
    signature = signatureData.includes('-----BEGIN PGP SIGNATURE-----')
      ? await openpgp.readSignature({ armoredSignature: signatureData.toString('latin1'), config })
      : await openpgp.readSignature({ binarySignature: signatureData, config });
  } catch (error) {
    return unreadable(`damaged signature: ${messageOf(error)}`, signed);
  }
  checkSignal(context.limits.signal);
  try {
    const message = await openpgp.createMessage({ binary: canonicalLineEndings(signed) });
    const verified = await openpgp.verify({ message, signature, verificationKeys: context.keys.map((key) => key.publicKey), format: 'binary', config });
    const signatures = await signatureVerdicts(openpgp, verified.signatures, context.keys, context.warnings);
    if (signatures.length === 0) return unreadable('damaged signature: no signature packet', signed);
    return result('pgp-mime', context, { signatures, inner: signed });
  } catch (error) {
    return unreadable(`damaged signature: ${messageOf(error)}`, signed);
  }
}

/** Where an armored block starts at the beginning of a line, or -1. */
function armorStart(text: string, marker: string): number {
  for (let at = text.indexOf(marker); at !== -1; at = text.indexOf(marker, at + 1)) {
    if (at === 0 || text[at - 1] === '\n' || text[at - 1] === '\r') return at;
  }
  return -1;
}

interface InlineArmor {
  type: 'message' | 'signed';
  /** The armored block (text before and after it is left out). */
  block: Buffer;
  /** The charset of the text/plain entity it was found in. */
  charset: string;
}

function findInlineArmor(entity: MimeEntity): InlineArmor | null {
  if (entity.contentType !== 'text/plain') return null;
  const body = decodeBody(entity);
  const text = body.toString('latin1');
  const message = armorStart(text, MESSAGE_BEGIN);
  const signed = armorStart(text, SIGNED_BEGIN);
  if (message === -1 && signed === -1) return null;
  const type = signed !== -1 && (message === -1 || signed < message) ? 'signed' : 'message';
  const start = type === 'signed' ? signed : message;
  const endMarker = type === 'signed' ? SIGNATURE_END : MESSAGE_END;
  const endAt = text.indexOf(endMarker, start);
  const end = endAt === -1 ? body.length : endAt + endMarker.length;
  return { type, block: body.subarray(start, end), charset: (entity.params.charset ?? 'utf-8').toLowerCase() };
}

/** The armored text as a string: the block is ASCII except for a clearsigned message's text, in the part's charset. */
function decodeText(bytes: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

const UTF8_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);

/**
 * The parts of a clearsigned block as bytes (RFC 4880 7.1): the text with dash-escapes undone,
 * the bytes its signature covers (trailing white space dropped, CRLF between lines, no line ending
 * after the last), and the armored signature; null when the block has no signature.
 */
function splitClearsigned(block: Buffer): { text: Buffer; signed: Buffer; signature: string } | null {
  const all = block.toString('latin1');
  const signatureAt = armorStart(all, '-----BEGIN PGP SIGNATURE-----');
  if (signatureAt === -1) return null;
  const lines = all.slice(0, signatureAt).split(/\r?\n/);
  const blank = lines.findIndex((line, index) => index > 0 && line.trim() === '');
  if (blank === -1) return null;
  // The line ending before the signature belongs to the signature's armor, not to the text.
  const text = lines.slice(blank + 1, -1).map((line) => (line.startsWith('- ') ? line.slice(2) : line));
  return {
    text: Buffer.from(text.join('\r\n'), 'latin1'),
    signed: Buffer.from(text.map((line) => line.replace(/[ \t]+$/, '')).join('\r\n'), 'latin1'),
    signature: all.slice(signatureAt),
  };
}

/**
 * A clearsigned text in a charset other than UTF-8: openpgp hashes a cleartext message's text as
 * UTF-8, so the signed bytes are rebuilt here and verified as binary data (a text-mode signature
 * over bytes only has its line endings made CRLF).
 */
async function readClearsignedBytes(armor: InlineArmor, context: LayerContext): Promise<LayerResult> {
  const { openpgp, config } = context;
  const parts = splitClearsigned(armor.block);
  if (!parts) {
    const reason = 'damaged clearsigned message: no signature follows the text';
    return result('pgp-inline', context, { signatures: [unreadableSignature(reason)], reason });
  }
  const inner = textEntity(parts.text, armor.charset);
  try {
    const signature = await openpgp.readSignature({ armoredSignature: parts.signature, config });
    checkSignal(context.limits.signal);
    const message = await openpgp.createMessage({ binary: parts.signed });
    const verified = await openpgp.verify({ message, signature, verificationKeys: context.keys.map((key) => key.publicKey), format: 'binary', config });
    const signatures = await signatureVerdicts(openpgp, verified.signatures, context.keys, context.warnings);
    return result('pgp-inline', context, { signatures, inner });
  } catch (error) {
    if (error instanceof ExaminationStopped) throw error;
    const reason = `damaged clearsigned message: ${messageOf(error)}`;
    return result('pgp-inline', context, { signatures: [unreadableSignature(reason)], inner, reason });
  }
}

async function readInline(armor: InlineArmor, context: LayerContext): Promise<LayerResult> {
  const { openpgp, config } = context;
  if (armor.type === 'message') {
    return readOpenpgpMessage('pgp-inline', { armored: armor.block }, context, (data) => textEntity(data, armor.charset));
  }
  if (!UTF8_CHARSETS.has(armor.charset)) return readClearsignedBytes(armor, context);
  let cleartext: OpenPgp.CleartextMessage;
  try {
    cleartext = await openpgp.readCleartextMessage({ cleartextMessage: decodeText(armor.block, armor.charset), config });
  } catch (error) {
    return result('pgp-inline', context, {
      signatures: [unreadableSignature(`damaged clearsigned message: ${messageOf(error)}`)],
      reason: `damaged clearsigned message: ${messageOf(error)}`,
    });
  }
  checkSignal(context.limits.signal);
  const inner = textEntity(Buffer.from(cleartext.getText(), 'utf8'), 'utf-8');
  try {
    const verified = await openpgp.verify({ message: cleartext, verificationKeys: context.keys.map((key) => key.publicKey), config });
    const signatures = await signatureVerdicts(openpgp, verified.signatures, context.keys, context.warnings);
    return result('pgp-inline', context, { signatures, inner });
  } catch (error) {
    return result('pgp-inline', context, { signatures: [unreadableSignature(`damaged: ${messageOf(error)}`)], inner, reason: `damaged: ${messageOf(error)}` });
  }
}

type Detected = { kind: 'encrypted'; entity: MimeEntity } | { kind: 'signed'; entity: MimeEntity } | { kind: 'inline'; armor: InlineArmor };

function detect(entity: MimeEntity): Detected | null {
  const protocol = (entity.params.protocol ?? '').trim().toLowerCase();
  if (entity.contentType === 'multipart/encrypted' && protocol === 'application/pgp-encrypted') return { kind: 'encrypted', entity };
  if (entity.contentType === 'multipart/signed' && protocol === 'application/pgp-signature') return { kind: 'signed', entity };
  if (entity.contentType === 'multipart/encrypted' || entity.contentType === 'multipart/signed') return null;
  const top = findInlineArmor(entity);
  if (top) return { kind: 'inline', armor: top };
  if (!entity.contentType.startsWith('multipart/') || !entity.params.boundary) return null;
  for (const bytes of splitMultipart(entity.body, entity.params.boundary)) {
    const part = readMimeEntity(bytes);
    if (/^\s*attachment/i.test(part.headers.get('content-disposition') ?? '')) continue;
    const armor = findInlineArmor(part);
    if (armor) return { kind: 'inline', armor };
  }
  return null;
}

/**
 * Reads one OpenPGP layer: PGP/MIME encrypted (RFC 3156 multipart/encrypted), PGP/MIME signed
 * (multipart/signed with application/pgp-signature, verified over the first part's exact bytes
 * with CRLF line endings), or inline PGP (an armored message or a clearsigned text in a text/plain
 * body, at the top level or one multipart level down). Registered keys decrypt and are trusted
 * signers. Never throws: damage, a stop and a limit are reasons in the result.
 *
 * What the record says:
 * - `encryption.algorithm`: the cipher and the packet kind, `AES-256 (SEIPD v1)`,
 *   `AES-256 (SEIPD v2, OCB)`, `AES-128 (AEAD, EAX)`, `3DES (SED, no integrity protection)`; the
 *   cipher of SEIPD v1 and SED is inside the session key, so it is `unknown cipher (SEIPD v1)`
 *   until a registered key decrypts it (a passphrase-only message from gpg names it in the clear).
 * - `encryption.recipients[].id`: the recipient (sub)key id, lower-case hex as openpgp writes it;
 *   `anonymous (wildcard key id)`, or `passphrase` for a passphrase-encrypted session key.
 *   `keyTransport`: `RSA`, `ElGamal`, `ECDH` (`ECDH (Curve25519)` when the key is registered),
 *   `X25519`, `X448`.
 * - `signatures[]`: `fingerprint` is the registered key's primary fingerprint (else the issuer
 *   fingerprint the signature carries), `keyId` the key that signed, `signer` the key's first
 *   user id, `algorithm` `RSA`, `DSA`, `ECDSA`, `EdDSA`, `Ed25519`…
 * - `warnings`: `3DES`, `CAST5`, `IDEA`, `Blowfish`, `SHA-1`, `MD5`, `RIPEMD-160`, `RSA-1024`
 *   (`DSA-1024`, `ElGamal-1024`: a registered signer or recipient key under 2048 bits), and
 *   `no integrity protection (SED without MDC)`.
 */
export const readPgpLayer: ProtectionLayerReader = async (entity: MimeEntity, keys: ProtectionKeys, limits: LayerLimits): Promise<LayerResult | null> => {
  let detected: Detected | null;
  try {
    detected = detect(entity);
  } catch {
    return null;
  }
  if (!detected) return null;
  const kind = detected.kind === 'inline' ? 'pgp-inline' : 'pgp-mime';
  const warnings = new Set<string>();
  try {
    checkSignal(limits.signal);
    const openpgp = await loadOpenpgp();
    const config = examinationConfig();
    const context: LayerContext = { openpgp, keys: await readRegisteredKeys(openpgp, keys.pgp, config), limits, config, warnings };
    checkSignal(limits.signal);
    if (detected.kind === 'encrypted') return await readPgpMimeEncrypted(detected.entity, context);
    if (detected.kind === 'signed') return await readPgpMimeSigned(detected.entity, context);
    return await readInline(detected.armor, context);
  } catch (error) {
    const reason = error instanceof ExaminationStopped ? `examination stopped: ${error.message}` : `OpenPGP examination failed: ${messageOf(error)}`;
    const encryption = detected.kind === 'encrypted' ? { algorithm: 'unknown', recipients: [], decrypted: false, reason } : null;
    return { kind, signatures: [], encryption, signedInside: false, warnings: [...warnings], inner: null, reason };
  }
};

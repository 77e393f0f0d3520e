import { completeRecordOf, fail, label, type LateRecordSource } from './assertion-support.js';
import type { EncryptionVerdict, Protection, ProtectionKind, SignatureVerdict } from '@mailwright/core';

/**
 * What a protection assertion looks at: a message detail with its `protection` record (from
 * `waitForMessage` or `messages.get`). While the message is still being examined, a received
 * message's `waitForProtection()` is used to wait for the record.
 */
export interface ProtectedMessage {
  seq?: number;
  subject: string;
  protection?: Protection | { status: Protection['status'] } | null;
  waitForProtection?: (options?: { timeout?: number }) => Promise<Protection>;
}

/** Options common to the protection assertions. */
export interface ProtectionWaitOptions {
  /** How long to wait for a message still being examined, in ms. Default 15000. */
  timeout?: number;
}

/** Which technology: `smime`, `pgp` (PGP/MIME or inline), or exactly `pgp-mime` or `pgp-inline`. */
export type ProtectionKindExpectation = Exclude<ProtectionKind, 'none'> | 'pgp';

/** Expectations of `assertEncrypted`. */
export interface EncryptedExpectation extends ProtectionWaitOptions {
  kind?: ProtectionKindExpectation;
  /**
   * The content encryption algorithm: a name, compared case-insensitively, that is the
   * algorithm or its first word (`AES-256` matches `AES-256 (OpenPGP SEIPD)`), or a pattern.
   */
  algorithm?: string | RegExp;
  /**
   * The recipient(s) it must be encrypted to, every one of them: the address of a registered
   * key that matches a recipient, or a recipient's identifier (an OpenPGP key id).
   */
  for?: string | readonly string[];
}

/** Expectations of `assertSigned`. */
export interface SignedExpectation extends ProtectionWaitOptions {
  /**
   * Who signed: an address (the signer's, or in its OpenPGP user id `Name <address>`), a
   * fingerprint or key id (hex), a substring of the certificate's subject, or a pattern over
   * the signer and subject.
   */
  by?: string | RegExp;
  /** The signer chains to a configured CA (S/MIME) or is a registered key (OpenPGP); `false` for a signer that is not. Default: either. */
  trusted?: boolean;
}

const KIND_NAMES: Record<ProtectionKind, string> = { none: 'unprotected', smime: 'S/MIME', 'pgp-mime': 'PGP/MIME', 'pgp-inline': 'inline PGP' };
const EXPECTED_KIND_NAMES: Record<ProtectionKindExpectation, string> = { smime: 'S/MIME', pgp: 'OpenPGP', 'pgp-mime': 'PGP/MIME', 'pgp-inline': 'inline PGP' };

function testPattern(pattern: RegExp, value: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(value);
}

function isComplete(protection: unknown): protection is Protection {
  return (protection as Protection | null | undefined)?.status === 'done' && Array.isArray((protection as Protection).signatures);
}

/** The message's whole protection record, waiting (bounded) while it is pending. */
function protectionOf(message: ProtectedMessage, check: string, options: ProtectionWaitOptions): Promise<Protection> {
  const source: LateRecordSource<Protection> = {
    record: message.protection,
    isComplete,
    says: {
      summaryOnly: 'it carries a protection summary only',
      pending: 'it is still being examined',
      missing: 'it carries no protection record',
      waits: 'waits for it',
    },
    ...(message.waitForProtection ? { wait: message.waitForProtection } : {}),
  };
  return completeRecordOf(message, check, source, options.timeout);
}

function kindMatches(kind: ProtectionKind, expected: ProtectionKindExpectation | undefined): boolean {
  if (expected === undefined) return true;
  return expected === 'pgp' ? kind === 'pgp-mime' || kind === 'pgp-inline' : kind === expected;
}

function algorithmMatches(algorithm: string, expected: string | RegExp | undefined): boolean {
  if (expected === undefined) return true;
  if (typeof expected !== 'string') return testPattern(expected, algorithm);
  const actual = algorithm.toLowerCase();
  const wanted = expected.toLowerCase();
  return actual === wanted || actual.startsWith(`${wanted} `);
}

function sameHex(a: string | null, b: string): boolean {
  const normal = (value: string): string => value.replace(/[\s:]/g, '').toLowerCase();
  return a !== null && normal(b) !== '' && normal(a) === normal(b);
}

function isRecipient(encryption: EncryptionVerdict, who: string): boolean {
  const wanted = who.toLowerCase();
  return encryption.recipients.some(
    (recipient) => recipient.address?.toLowerCase() === wanted || recipient.id.toLowerCase() === wanted || sameHex(recipient.id, who),
  );
}

/** The record's protection in words: `S/MIME-signed and encrypted`, `not protected`… */
function describeProtection(protection: Protection): string {
  if (protection.kind === 'none' || (!protection.signed && !protection.encrypted)) return 'not protected';
  const what = [protection.signed ? 'signed' : null, protection.encrypted ? 'encrypted' : null].filter(Boolean).join(' and ');
  const order = protection.order === null ? '' : ` (${protection.order.replaceAll('-', ' ')})`;
  return `${KIND_NAMES[protection.kind]}-${what}${order}`;
}

function describeEncryption(encryption: EncryptionVerdict): string {
  const recipients =
    encryption.recipients.length === 0
      ? 'no recipient'
      : encryption.recipients.map((recipient) => `${recipient.address ?? recipient.id} (${recipient.keyTransport})`).join(', ');
  return `${encryption.algorithm} to ${recipients}`;
}

function describeSignature(signature: SignatureVerdict): string {
  const who = signature.signer ?? signature.subject ?? signature.keyId ?? signature.fingerprint ?? 'an unknown signer';
  const state = !signature.valid ? 'does not verify' : signature.trusted ? 'verifies, trusted' : 'verifies, not trusted';
  return `${who} ${state}${signature.reason ? ` (${signature.reason})` : ''}`;
}

function signatureRecord(signature: SignatureVerdict): Record<string, unknown> {
  const { valid, trusted, signer, subject, fingerprint, keyId, digestAlgorithm, algorithm, reason } = signature;
  return { valid, trusted, signer, subject, fingerprint, keyId, digestAlgorithm, algorithm, reason };
}

function protectionRecord(protection: Protection): Record<string, unknown> {
  return {
    kind: protection.kind,
    signed: protection.signed,
    encrypted: protection.encrypted,
    order: protection.order,
    encryption: protection.encryption,
    signatures: protection.signatures.map(signatureRecord),
    warnings: protection.warnings,
    reason: protection.reason,
  };
}

/** `; examination stopped: …` when the examination stopped short. */
function stopped(protection: Protection): string {
  return protection.reason === null ? '' : `; examination stopped: ${protection.reason}`;
}

function signerMatches(signature: SignatureVerdict, by: string | RegExp | undefined): boolean {
  if (by === undefined) return true;
  if (typeof by !== 'string') return [signature.signer, signature.subject].some((value) => value !== null && testPattern(by, value));
  const wanted = by.toLowerCase();
  const signer = signature.signer?.toLowerCase() ?? null;
  return (
    signer === wanted ||
    (signer?.includes(`<${wanted}>`) ?? false) ||
    (signature.subject?.toLowerCase().includes(wanted) ?? false) ||
    sameHex(signature.fingerprint, by) ||
    sameHex(signature.keyId, by)
  );
}

/**
 * Asserts the message is encrypted end to end (S/MIME or OpenPGP), optionally of a kind, with a
 * content algorithm, and to the given recipients. Waits for a message still being examined.
 */
export async function assertEncrypted(message: ProtectedMessage, expected: EncryptedExpectation = {}): Promise<void> {
  const protection = await protectionOf(message, 'encryption', expected);
  const recipients = expected.for === undefined ? [] : typeof expected.for === 'string' ? [expected.for] : [...expected.for];
  const { encryption } = protection;
  const problems: string[] = [];
  if (!protection.encrypted || encryption === null) problems.push(`it is ${describeProtection(protection)}`);
  else {
    if (!kindMatches(protection.kind, expected.kind)) problems.push(`it is ${KIND_NAMES[protection.kind]}`);
    if (!algorithmMatches(encryption.algorithm, expected.algorithm)) problems.push(`it is encrypted with ${encryption.algorithm}`);
    const missing = recipients.filter((who) => !isRecipient(encryption, who));
    if (missing.length > 0) problems.push(`it is not encrypted to ${missing.join(', ')}: it is encrypted ${describeEncryption(encryption)}`);
  }
  if (problems.length === 0) return;
  const wanted = [
    expected.kind === undefined ? '' : ` with ${EXPECTED_KIND_NAMES[expected.kind]}`,
    expected.algorithm === undefined ? '' : ` using ${String(expected.algorithm)}`,
    recipients.length === 0 ? '' : ` for ${recipients.join(', ')}`,
  ].join('');
  fail(
    `Expected ${label(message)} to be encrypted${wanted}, but ${problems.join(', and ')}${stopped(protection)}.`,
    { encrypted: true, kind: expected.kind ?? 'any', algorithm: expected.algorithm ?? 'any', for: recipients },
    protectionRecord(protection),
    'encrypted',
  );
}

/**
 * Asserts the message carries a signature that verifies (S/MIME or OpenPGP), optionally by the
 * given signer, and trusted (or not). Waits for a message still being examined.
 */
export async function assertSigned(message: ProtectedMessage, expected: SignedExpectation = {}): Promise<void> {
  const protection = await protectionOf(message, 'signatures', expected);
  const { signatures } = protection;
  const candidates = signatures.filter((signature) => signerMatches(signature, expected.by));
  const matching = candidates.filter((signature) => signature.valid && (expected.trusted === undefined || signature.trusted === expected.trusted));
  if (matching.length > 0) return;
  const hidden = protection.encryption !== null && !protection.encryption.decrypted;
  const why =
    signatures.length === 0
      ? hidden
        ? `it is ${describeProtection(protection)} and was not decrypted (${protection.encryption?.reason ?? 'no key'}), so a signature inside cannot be seen`
        : `it is ${describeProtection(protection)}`
      : candidates.length === 0
        ? `it is signed by ${signatures.map(describeSignature).join('; ')}`
        : `${candidates.length === 1 ? 'its signature' : 'its signatures'} by ${candidates.map(describeSignature).join('; ')}`;
  const wanted = [
    expected.by === undefined ? '' : ` by ${String(expected.by)}`,
    expected.trusted === undefined ? '' : expected.trusted ? ', trusted' : ', not trusted',
  ].join('');
  fail(
    `Expected ${label(message)} to be signed${wanted}, but ${why}${stopped(protection)}.`,
    { valid: true, by: expected.by ?? 'any', trusted: expected.trusted ?? 'any' },
    protectionRecord(protection),
    'signed',
  );
}

/**
 * Asserts the message was signed, then encrypted: an encryption layer whose content carries a
 * signature that verifies. Waits for a message still being examined.
 */
export async function assertSignedThenEncrypted(message: ProtectedMessage, expected: ProtectionWaitOptions = {}): Promise<void> {
  const protection = await protectionOf(message, 'signing and encryption', expected);
  const valid = protection.signatures.some((signature) => signature.valid);
  if (protection.order === 'sign-then-encrypt' && valid) return;
  const why =
    protection.order === 'sign-then-encrypt'
      ? `its signature ${protection.signatures.map(describeSignature).join('; ')}`
      : protection.encrypted && protection.encryption !== null && !protection.encryption.decrypted && !protection.signed
        ? `it is ${describeProtection(protection)} and was not decrypted (${protection.encryption.reason ?? 'no key'}), so a signature inside cannot be seen`
        : `it is ${describeProtection(protection)}`;
  fail(
    `Expected ${label(message)} to be signed, then encrypted, but ${why}${stopped(protection)}.`,
    { order: 'sign-then-encrypt', valid: true },
    protectionRecord(protection),
    'signedThenEncrypted',
  );
}

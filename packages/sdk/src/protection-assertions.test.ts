// The protection assertions and matchers over records: each must pass for the record it
// describes, and fail for any other with a message that says what was found.
import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import { isMailwrightError, ProtectionSchema, type Protection, type SignatureVerdict } from '@mailwright/core';
import { assertEncrypted, assertSigned, assertSignedThenEncrypted, type ProtectedMessage } from './protection-assertions.js';
import './vitest.js';

const UNPROTECTED: Protection = {
  status: 'done',
  kind: 'none',
  signed: false,
  encrypted: false,
  order: null,
  signatures: [],
  encryption: null,
  warnings: [],
  reason: null,
  computedAt: '2026-01-01T00:00:00.000Z',
};

const BILLING: SignatureVerdict = {
  valid: true,
  trusted: true,
  signer: 'billing@acme.test',
  subject: 'CN=Acme Billing, O=Acme',
  fingerprint: 'AB12CD34EF',
  keyId: null,
  signedAt: '2026-01-01T00:00:00.000Z',
  digestAlgorithm: 'SHA-256',
  algorithm: 'RSA',
  reason: null,
};

const PGP_SIGNER: SignatureVerdict = {
  ...BILLING,
  signer: 'Acme Billing <billing@acme.test>',
  subject: null,
  fingerprint: '0123456789abcdef0123456789abcdef01234567',
  keyId: '89abcdef01234567',
  algorithm: 'EdDSA',
};

/** A record, checked against core's schema so that the tests stay true to the model. */
function record(overrides: Partial<Protection>): Protection {
  return ProtectionSchema.parse({ ...UNPROTECTED, ...overrides });
}

function message(subject: string, protection: Protection): ProtectedMessage {
  return { seq: 7, subject, protection };
}

const encryptedToCustomer = message(
  'Statement',
  record({
    kind: 'smime',
    signed: true,
    encrypted: true,
    order: 'sign-then-encrypt',
    signatures: [BILLING],
    encryption: {
      algorithm: 'AES-256-GCM',
      recipients: [
        { id: 'issuer=CN=Mailwright Test CA; serial=01', keyTransport: 'RSA-OAEP', address: 'customer@example.test' },
        { id: 'issuer=CN=Other CA; serial=02', keyTransport: 'RSA PKCS#1 v1.5', address: null },
      ],
      decrypted: true,
      reason: null,
    },
  }),
);

const pgpEncrypted = message(
  'Secret',
  record({
    kind: 'pgp-mime',
    encrypted: true,
    encryption: {
      algorithm: 'AES-256 (OpenPGP SEIPD)',
      recipients: [{ id: 'a1b2c3d4e5f60708', keyTransport: 'X25519', address: null }],
      decrypted: false,
      reason: 'no registered key matches a recipient',
    },
  }),
);

const signedOnly = message('Receipt', record({ kind: 'pgp-inline', signed: true, signatures: [PGP_SIGNER] }));

const TAMPERED: SignatureVerdict = { ...BILLING, valid: false, trusted: false, reason: 'the message digest does not match the content' };

const tampered = message('Tampered', record({ kind: 'smime', signed: true, signatures: [TAMPERED] }));

const untrusted = message(
  'Self-signed',
  record({ kind: 'smime', signed: true, signatures: [{ ...BILLING, trusted: false, reason: 'no chain to a trusted CA' }] }),
);

const encryptThenSign = message(
  'Outer signature',
  record({
    kind: 'smime',
    signed: true,
    encrypted: true,
    order: 'encrypt-then-sign',
    signatures: [BILLING],
    encryption: { algorithm: 'AES-128-CBC', recipients: [], decrypted: true, reason: null },
  }),
);

const plain = message('Plain', UNPROTECTED);

async function failure(run: () => Promise<void>): Promise<AssertionError> {
  const error: unknown = await run().then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AssertionError);
  return error as AssertionError;
}

describe('assertEncrypted / toBeEncrypted', () => {
  it('passes for the kind, the algorithm and every recipient given', async () => {
    await assertEncrypted(encryptedToCustomer);
    await assertEncrypted(encryptedToCustomer, { kind: 'smime', algorithm: 'aes-256-gcm', for: 'Customer@Example.test' });
    await assertEncrypted(pgpEncrypted, { kind: 'pgp', algorithm: 'AES-256', for: ['A1B2C3D4E5F60708'] });
    await assertEncrypted(pgpEncrypted, { kind: 'pgp-mime', algorithm: /SEIPD/ });
    await expect(encryptedToCustomer).toBeEncrypted({ algorithm: 'AES-256-GCM' });
    await expect(plain).not.toBeEncrypted();
    await expect(signedOnly).not.toBeEncrypted();
  });

  it('fails for mail that is not encrypted, saying what it is', async () => {
    expect((await failure(() => assertEncrypted(plain))).message).toMatch(/^Expected message #7 "Plain" to be encrypted, but it is not protected\./);
    const error = await failure(() => assertEncrypted(signedOnly, { kind: 'pgp' }));
    expect(error.message).toMatch(/"Receipt" to be encrypted with OpenPGP, but it is inline PGP-signed\./);
    expect(error.actual).toMatchObject({ kind: 'pgp-inline', signed: true, encrypted: false });
  });

  it('fails naming the kind, the algorithm and the recipients found', async () => {
    expect((await failure(() => assertEncrypted(encryptedToCustomer, { kind: 'pgp' }))).message).toMatch(
      /"Statement" to be encrypted with OpenPGP, but it is S\/MIME\./,
    );
    expect((await failure(() => assertEncrypted(encryptedToCustomer, { algorithm: 'AES-256-CBC' }))).message).toMatch(
      /to be encrypted using AES-256-CBC, but it is encrypted with AES-256-GCM\./,
    );
    // A prefix is a name's first word, not any beginning.
    await expect(assertEncrypted(pgpEncrypted, { algorithm: 'AES-2' })).rejects.toThrow(/it is encrypted with AES-256 \(OpenPGP SEIPD\)/);
    const error = await failure(() => assertEncrypted(encryptedToCustomer, { for: ['customer@example.test', 'auditor@example.test'] }));
    expect(error.message).toMatch(
      /to be encrypted for customer@example.test, auditor@example.test, but it is not encrypted to auditor@example.test: it is encrypted AES-256-GCM to customer@example.test \(RSA-OAEP\), issuer=CN=Other CA; serial=02 \(RSA PKCS#1 v1.5\)\./,
    );
    await expect(expect(encryptedToCustomer).toBeEncrypted({ kind: 'smime', algorithm: '3DES-CBC' })).rejects.toThrow('but it is encrypted with AES-256-GCM');
  });

  it('says why the examination stopped short', async () => {
    const loop = message('Loop', record({ kind: 'smime', reason: 'more than 8 nested layers' }));
    expect((await failure(() => assertEncrypted(loop))).message).toMatch(/but it is not protected; examination stopped: more than 8 nested layers\./);
  });
});

describe('assertSigned / toBeSigned', () => {
  it('passes for a signature that verifies, by the signer given, trusted or not', async () => {
    await assertSigned(encryptedToCustomer);
    await assertSigned(encryptedToCustomer, { by: 'BILLING@acme.test', trusted: true });
    await assertSigned(encryptedToCustomer, { by: 'Acme Billing' });
    await assertSigned(encryptedToCustomer, { by: 'ab:12:cd:34:ef' });
    await assertSigned(signedOnly, { by: 'billing@acme.test' });
    await assertSigned(signedOnly, { by: '89ABCDEF01234567' });
    await assertSigned(signedOnly, { by: /^Acme Billing </ });
    await assertSigned(untrusted, { trusted: false });
    await expect(signedOnly).toBeSigned({ by: 'billing@acme.test', trusted: true });
    await expect(tampered).not.toBeSigned();
    await expect(untrusted).not.toBeSigned({ trusted: true });
  });

  it('fails for a signature that does not verify, with its reason', async () => {
    const error = await failure(() => assertSigned(tampered));
    expect(error.message).toMatch(
      /^Expected message #7 "Tampered" to be signed, but its signature by billing@acme.test does not verify \(the message digest does not match the content\)\./,
    );
    expect(error.actual).toMatchObject({ signatures: [{ valid: false, signer: 'billing@acme.test' }] });
  });

  it('fails naming the signer found, and why it is not trusted', async () => {
    expect((await failure(() => assertSigned(signedOnly, { by: 'sales@acme.test' }))).message).toMatch(
      /"Receipt" to be signed by sales@acme.test, but it is signed by Acme Billing <billing@acme.test> verifies, trusted\./,
    );
    // An address is the whole address, not a part of one.
    await expect(assertSigned(signedOnly, { by: 'acme.test' })).rejects.toThrow(/but it is signed by/);
    expect((await failure(() => assertSigned(untrusted, { trusted: true }))).message).toMatch(
      /"Self-signed" to be signed, trusted, but its signature by billing@acme.test verifies, not trusted \(no chain to a trusted CA\)\./,
    );
    expect((await failure(() => assertSigned(encryptedToCustomer, { trusted: false }))).message).toMatch(/to be signed, not trusted, but its signature/);
  });

  it('fails for unsigned mail, and explains a signature hidden by encryption', async () => {
    expect((await failure(() => assertSigned(plain))).message).toMatch(/"Plain" to be signed, but it is not protected\./);
    expect((await failure(() => assertSigned(pgpEncrypted))).message).toMatch(
      /"Secret" to be signed, but it is PGP\/MIME-encrypted and was not decrypted \(no registered key matches a recipient\), so a signature inside cannot be seen\./,
    );
  });
});

describe('assertSignedThenEncrypted / toBeSignedThenEncrypted', () => {
  it('passes for a signature that verifies inside the encryption', async () => {
    await assertSignedThenEncrypted(encryptedToCustomer);
    await expect(encryptedToCustomer).toBeSignedThenEncrypted();
    await expect(encryptThenSign).not.toBeSignedThenEncrypted();
  });

  it('fails naming the order and layers found', async () => {
    expect((await failure(() => assertSignedThenEncrypted(encryptThenSign))).message).toMatch(
      /"Outer signature" to be signed, then encrypted, but it is S\/MIME-signed and encrypted \(encrypt then sign\)\./,
    );
    expect((await failure(() => assertSignedThenEncrypted(signedOnly))).message).toMatch(/but it is inline PGP-signed\./);
    expect((await failure(() => assertSignedThenEncrypted(pgpEncrypted))).message).toMatch(/was not decrypted \(no registered key matches a recipient\)/);
    const broken = message('Broken', record({ ...(encryptedToCustomer.protection as Protection), signatures: [TAMPERED] }));
    expect((await failure(() => assertSignedThenEncrypted(broken))).message).toMatch(
      /"Broken" to be signed, then encrypted, but its signature billing@acme.test does not verify/,
    );
  });
});

describe('pending and missing records', () => {
  it('waits for a message still being examined', async () => {
    let waited = 0;
    const pending: ProtectedMessage = {
      seq: 9,
      subject: 'Pending',
      protection: { status: 'pending' },
      waitForProtection: async () => {
        waited += 1;
        return encryptedToCustomer.protection as Protection;
      },
    };
    await assertEncrypted(pending, { algorithm: 'AES-256-GCM' });
    expect(waited).toBe(1);
  });

  it('refuses to judge a summary or a pending record it cannot wait for, even negated', async () => {
    const summary = { seq: 3, subject: 'Listed', protection: { status: 'done' as const, kind: 'smime', signed: true, encrypted: true, decrypted: true } };
    const error: unknown = await assertEncrypted(summary as never).catch((caught: unknown) => caught);
    expect(isMailwrightError(error)).toBe(true);
    expect((error as Error).message).toMatch(/^Cannot check encryption of message #3 "Listed": it carries a protection summary only/);
    const bare = { seq: 1, subject: 'Bare', protection: { status: 'pending' as const } };
    await expect(expect(bare).not.toBeSigned()).rejects.toThrow('Cannot check signatures of message #1 "Bare": it is still being examined');
    await expect(expect({ subject: 'None' }).not.toBeSignedThenEncrypted()).rejects.toThrow(
      'Cannot check signing and encryption of message "None": it carries no protection record',
    );
  });

  it('turns a wait that gives up into WAIT_TIMEOUT', async () => {
    const stuck: ProtectedMessage = {
      subject: 'Stuck',
      protection: { status: 'pending' },
      waitForProtection: () => Promise.reject(new Error('still being examined after 100 ms')),
    };
    const error: unknown = await assertSigned(stuck, { timeout: 100 }).catch((caught: unknown) => caught);
    expect(isMailwrightError(error) && error.code).toBe('WAIT_TIMEOUT');
    expect((error as Error).message).toBe('Cannot check signatures of message "Stuck": still being examined after 100 ms.');
  });
});

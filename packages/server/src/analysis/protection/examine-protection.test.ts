import { describe, expect, it } from 'vitest';
import { DEFAULT_PROTECTION_LIMITS, INLINE_SCAN_MAX_BYTES, NO_PROTECTION, examineProtection, mayBeProtected, needsExamination } from './examine-protection.js';
import type { ProtectionKeys } from './protection-layer.js';

const NO_KEYS: ProtectionKeys = { smime: [], smimeTrustAnchors: [], pgp: [] };

describe('mayBeProtected', () => {
  it('finds the content types and armor lines of S/MIME and OpenPGP, wherever they are', () => {
    for (const marker of [
      'Content-Type: application/pkcs7-mime; smime-type=enveloped-data',
      'Content-Type: application/x-pkcs7-mime',
      'Content-Type: APPLICATION/PKCS7-MIME',
      'Content-Type: multipart/signed; protocol="application/pkcs7-signature"',
      'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"',
      'Content-Type: multipart/signed; protocol="application/pgp-signature"',
      '-----BEGIN PGP MESSAGE-----',
      '-----BEGIN PGP SIGNED MESSAGE-----',
    ]) {
      expect(
        mayBeProtected(Buffer.from(`Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n${marker}\r\n\r\nbody\r\n--b--\r\n`)),
        marker,
      ).toBe(true);
    }
  });

  it('passes plain mail', () => {
    expect(mayBeProtected(Buffer.from('Subject: pgp and pkcs7 are words\r\nContent-Type: text/plain\r\n\r\nA PGP key, a pkcs7 file.\r\n'))).toBe(false);
  });
});

describe('needsExamination', () => {
  it('sends plain mail up to the inline bound nowhere, and anything larger to a worker to be scanned there', () => {
    const plain = (size: number): Buffer => Buffer.concat([Buffer.from('Subject: x\r\n\r\n'), Buffer.alloc(size, 'a')]);
    expect(needsExamination(plain(INLINE_SCAN_MAX_BYTES - 100))).toBe(false);
    expect(needsExamination(plain(INLINE_SCAN_MAX_BYTES))).toBe(true);
    expect(needsExamination(Buffer.from('Content-Type: application/pkcs7-mime\r\n\r\n'))).toBe(true);
  });
});

describe('examineProtection', () => {
  it('answers plain mail with the none record without reading it', async () => {
    const { protection, decrypted } = await examineProtection(Buffer.from('Subject: hi\r\n\r\nhello\r\n'), NO_KEYS);
    expect(protection).toEqual({ ...NO_PROTECTION, computedAt: expect.any(String) });
    expect(decrypted).toBeNull();
  });

  it('gives a decoy that only names a protection type the none record', async () => {
    const { protection } = await examineProtection(
      Buffer.from('Subject: about application/pkcs7-mime\r\n\r\nsee application/pgp-encrypted\r\n'),
      NO_KEYS,
      DEFAULT_PROTECTION_LIMITS,
    );
    expect(protection).toMatchObject({ status: 'done', kind: 'none', signed: false, encrypted: false, reason: null });
  });
});

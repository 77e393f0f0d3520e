import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pgpKey, pgpKeys, testLimits } from '../../test-support/pgp-messages.js';
import { readMimeEntity } from './mime-entity.js';
import { readPgpLayer } from './pgp-layer.js';

/*
 * A DSA + ElGamal key takes GnuPG tens of seconds to generate, so this message and its key were
 * made once by gpg (how: the .eml's X-Produced-By header) and are kept as fixtures.
 */

const FIXTURES = new URL('../../../test/fixtures/pgp/', import.meta.url);

function fixture(name: string): Buffer {
  return Buffer.from(
    readFileSync(fileURLToPath(new URL(name, FIXTURES)))
      .toString('latin1')
      .replace(/\r?\n/g, '\r\n'),
    'latin1',
  );
}

describe('readPgpLayer with a legacy DSA + ElGamal key (GnuPG fixture)', () => {
  const secretKey = fixture('dsa-elgamal.secret.asc').toString();
  const message = fixture('dsa-elgamal-signed-encrypted.eml');

  it('decrypts ElGamal key transport and verifies the DSA signature inside', async () => {
    const result = await readPgpLayer(readMimeEntity(message), pgpKeys(pgpKey(null, secretKey, secretKey, 'legacy')), testLimits());
    expect(result?.kind).toBe('pgp-mime');
    expect(result?.encryption).toEqual({
      algorithm: 'AES-256 (SEIPD v1)',
      recipients: [{ id: '7109aef768a1c779', keyTransport: 'ElGamal', address: 'legacy@example.test' }],
      decrypted: true,
      reason: null,
    });
    expect(result?.inner?.toString()).toBe(
      'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nSigned with DSA, encrypted to ElGamal.\r\n',
    );
    expect(result?.signedInside).toBe(true);
    expect(result?.signatures).toEqual([
      {
        valid: true,
        trusted: true,
        signer: 'Legacy DSA <legacy@example.test>',
        subject: null,
        fingerprint: '787719f4bd88e31d9911440f8871abd5861b7879',
        keyId: '8871abd5861b7879',
        signedAt: '2020-01-01T00:00:00.000Z',
        digestAlgorithm: 'SHA-256',
        algorithm: 'DSA',
        reason: null,
      },
    ]);
    expect(result?.warnings).toEqual([]);
  });
});

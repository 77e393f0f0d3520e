import { X509Certificate } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { CERTIFICATE_PROFILES, ErrorCode, KEY_TYPES, isMailwrightError } from '@mailwright/core';
import { generateKey, issueCertificate, parseCertificate } from './issue-certificate.js';
import { LEAF_VALIDITY_DAYS, loadTestAuthority, writeFileAtomic } from './test-authority.js';

const DAY_MS = 86_400_000;
let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mailwright-ca-'));
});

afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('PEM output', () => {
  it('the CA certificate and key in the data directory and in memory end with a newline', async () => {
    const authority = await loadTestAuthority({ dataDir, hostnames: [] });
    expect(authority.caPem.endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    expect((await readFile(join(dataDir, 'ca.pem'), 'utf8')).endsWith('-----END CERTIFICATE-----\n')).toBe(true);
    expect((await readFile(join(dataDir, 'ca-key.pem'), 'utf8')).endsWith('-----END PRIVATE KEY-----\n')).toBe(true);
  });

  it('issued client certificates and keys, server certificates of every profile and key type, and the intermediate end with a newline', async () => {
    const authority = await loadTestAuthority({ dataDir, hostnames: [] });
    const client = await authority.issueClientCertificate('billing');
    const issued = [client];
    for (const profile of CERTIFICATE_PROFILES) issued.push(await authority.serverCertificate(profile));
    for (const keyType of KEY_TYPES) issued.push(await authority.serverCertificate('valid', keyType));
    for (const { cert, key } of issued) {
      expect(cert).toMatch(/-----END CERTIFICATE-----\n$/);
      expect(key).toMatch(/-----END PRIVATE KEY-----\n$/);
    }
    expect(await authority.intermediateCaPem()).toMatch(/-----END CERTIFICATE-----\n$/);
    // A bundle made by concatenation is two well-formed certificates.
    const bundle = authority.caPem + (await authority.intermediateCaPem());
    expect(bundle).toContain('-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----');
  });

  it('a CA stored without trailing newlines (older versions) is kept and given one', async () => {
    const first = await loadTestAuthority({ dataDir, hostnames: [] });
    for (const file of ['ca.pem', 'ca-key.pem']) await writeFile(join(dataDir, file), (await readFile(join(dataDir, file), 'utf8')).trimEnd());
    const second = await loadTestAuthority({ dataDir, hostnames: [] });
    expect(second.caPem).toBe(first.caPem);
    expect(await readFile(join(dataDir, 'ca.pem'), 'utf8')).toBe(first.caPem);
    expect((await readFile(join(dataDir, 'ca-key.pem'), 'utf8')).endsWith('\n')).toBe(true);
  });
});

describe('validity', () => {
  it(`leaf certificates are valid for ${LEAF_VALIDITY_DAYS} days in total, within the 825-day limit`, async () => {
    const authority = await loadTestAuthority({ dataDir, hostnames: [] });
    const leaves = [
      await authority.serverCertificate('valid'),
      await authority.serverCertificate('self-signed'),
      await authority.serverCertificate('valid', 'rsa-2048'),
      await authority.issueClientCertificate('client'),
    ];
    for (const { cert } of leaves) {
      const parsed = new X509Certificate(cert);
      const days = (Date.parse(parsed.validTo) - Date.parse(parsed.validFrom)) / DAY_MS;
      expect(days).toBeLessThanOrEqual(825);
      expect(days).toBe(LEAF_VALIDITY_DAYS);
    }
  });
});

describe('key types', () => {
  it.each([
    ['ecdsa-p256', 'ec', undefined],
    ['rsa-2048', 'rsa', 2048],
    ['rsa-1024', 'rsa', 1024],
  ] as const)('%s gives a %s key of the right size, issued by the test CA', async (keyType, type, bits) => {
    const authority = await loadTestAuthority({ dataDir, hostnames: [] });
    const { cert } = await authority.serverCertificate('valid', keyType);
    const parsed = new X509Certificate(cert);
    expect(parsed.publicKey.asymmetricKeyType).toBe(type);
    if (bits) expect(parsed.publicKey.asymmetricKeyDetails?.modulusLength).toBe(bits);
    expect(parsed.verify(new X509Certificate(authority.caPem).publicKey)).toBe(true);
  });
});

describe('profiles a client must refuse', () => {
  it('unknown-ca: the right names, issued by another CA that is not self-signed into the leaf', async () => {
    const authority = await loadTestAuthority({ dataDir, hostnames: [] });
    const leaf = new X509Certificate((await authority.serverCertificate('unknown-ca')).cert);
    const ca = new X509Certificate(authority.caPem);
    expect(leaf.checkHost('localhost')).toBe('localhost');
    expect(leaf.issuer).toMatch(/Mailwright Untrusted CA/);
    expect(leaf.issuer).not.toBe(leaf.subject);
    expect(leaf.verify(ca.publicKey)).toBe(false);
  });

  it('weak-signature: issued by the test CA, signed with SHA-1', async () => {
    const authority = await loadTestAuthority({ dataDir, hostnames: [] });
    const { cert } = await authority.serverCertificate('weak-signature');
    const ECDSA_WITH_SHA1 = '1.2.840.10045.4.1';
    expect(AsnConvert.parse(new X509Certificate(cert).raw, Certificate).signatureAlgorithm.algorithm).toBe(ECDSA_WITH_SHA1);
    expect(new X509Certificate(cert).verify(new X509Certificate(authority.caPem).publicKey)).toBe(true);
  });

  it('incomplete-chain: the leaf is issued by an intermediate that the test CA issued', async () => {
    const authority = await loadTestAuthority({ dataDir, hostnames: [] });
    const leaf = new X509Certificate((await authority.serverCertificate('incomplete-chain')).cert);
    const intermediate = new X509Certificate(await authority.intermediateCaPem());
    const ca = new X509Certificate(authority.caPem);
    expect(intermediate.ca).toBe(true);
    expect(leaf.checkIssued(intermediate)).toBe(true);
    expect(leaf.verify(intermediate.publicKey)).toBe(true);
    expect(intermediate.verify(ca.publicKey)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(false);
  });

  it('incomplete-chain is refused with the way out when the stored CA allows no intermediate (path length 0)', async () => {
    // A CA as earlier versions created it: basicConstraints CA:TRUE, pathlen:0.
    const { privateKey, publicKey } = await generateKey();
    const ca = issueCertificate({
      commonName: 'Old Mailwright Test CA',
      publicKey,
      signingKey: privateKey.key,
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter: new Date(Date.now() + 100 * DAY_MS),
      ca: { pathLength: 0 },
      keyUsage: ['keyCertSign'],
    });
    await writeFile(join(dataDir, 'ca.pem'), ca.pem);
    await writeFile(join(dataDir, 'ca-key.pem'), privateKey.pem);
    const authority = await loadTestAuthority({ dataDir, hostnames: [] });
    expect(authority.caPem).toBe(ca.pem);
    const error = await rejection(authority.serverCertificate('incomplete-chain'));
    expect(isMailwrightError(error) && error.code).toBe(ErrorCode.INVALID_REQUEST);
    expect((error as Error).message).toMatch(/path length is 0.*Remove ca\.pem and ca-key\.pem/);
    // Every other profile still works with it.
    await expect(authority.serverCertificate('valid')).resolves.toMatchObject({ cert: expect.stringMatching(/CERTIFICATE/) });
  });

  it('a new test CA allows exactly one intermediate below it', async () => {
    const authority = await loadTestAuthority({ dataDir, hostnames: [] });
    expect(new X509Certificate(authority.caPem).ca).toBe(true);
    expect(parseCertificate(authority.caPem).pathLength).toBe(1);
  });
});

describe('the CA files', () => {
  it('are written whole, the key readable by its owner only, with no temporary file left', async () => {
    await loadTestAuthority({ dataDir, hostnames: [] });
    expect((await readdir(dataDir)).sort()).toEqual(['ca-key.pem', 'ca.pem']);
    expect((await stat(join(dataDir, 'ca-key.pem'))).mode & 0o777).toBe(0o600);
  });

  it('writeFileAtomic replaces a file in one step and leaves nothing behind', async () => {
    const path = join(dataDir, 'file.pem');
    await writeFile(path, 'old');
    await writeFileAtomic(path, 'new\n', 0o600);
    expect(await readFile(path, 'utf8')).toBe('new\n');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dataDir)).toEqual(['file.pem']);
  });

  it('a key that does not belong to the certificate stops the start with TLS_CA_INVALID', async () => {
    await loadTestAuthority({ dataDir, hostnames: [] });
    const otherDir = await mkdtemp(join(tmpdir(), 'mailwright-ca-other-'));
    try {
      await loadTestAuthority({ dataDir: otherDir, hostnames: [] });
      await writeFile(join(dataDir, 'ca-key.pem'), await readFile(join(otherDir, 'ca-key.pem')));
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
    const certBefore = await readFile(join(dataDir, 'ca.pem'), 'utf8');
    const error = await rejection(loadTestAuthority({ dataDir, hostnames: [] }));
    expect(isMailwrightError(error) && error.code).toBe(ErrorCode.TLS_CA_INVALID);
    expect((error as Error).message).toContain(join(dataDir, 'ca-key.pem'));
    expect((error as Error).message).toMatch(/does not belong to the certificate/);
    // Nothing was overwritten: the CA users trust is still there.
    expect(await readFile(join(dataDir, 'ca.pem'), 'utf8')).toBe(certBefore);
  });

  it('a matching pair that is not ECDSA P-256 stops the start with TLS_CA_INVALID', async () => {
    const { privateKey, publicKey } = await generateKey('rsa-2048');
    const ca = issueCertificate({
      commonName: 'RSA CA',
      publicKey,
      signingKey: privateKey.key,
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter: new Date(Date.now() + 100 * DAY_MS),
      ca: { pathLength: 1 },
    });
    await writeFile(join(dataDir, 'ca.pem'), ca.pem);
    await writeFile(join(dataDir, 'ca-key.pem'), privateKey.pem);
    const error = await rejection(loadTestAuthority({ dataDir, hostnames: [] }));
    expect(isMailwrightError(error) && error.code).toBe(ErrorCode.TLS_CA_INVALID);
    expect((error as Error).message).toMatch(/is not an ECDSA P-256 key/);
  });

  it('an unreadable key file stops the start with TLS_CA_INVALID', async () => {
    await loadTestAuthority({ dataDir, hostnames: [] });
    await writeFile(join(dataDir, 'ca-key.pem'), 'not a key\n');
    const error = await rejection(loadTestAuthority({ dataDir, hostnames: [] }));
    expect(isMailwrightError(error) && error.code).toBe(ErrorCode.TLS_CA_INVALID);
    expect((error as Error).message).toMatch(/is not a PEM private key/);
  });
});

import * as openpgp from 'openpgp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPrerequisite, findExecutable } from '../../test-support/external-client.js';
import { GnupgHome } from '../../test-support/gnupg.js';
import { innerEntity, pgpKey, pgpKeys, pgpMimeEncrypted, pgpMimeSigned, testLimits } from '../../test-support/pgp-messages.js';
import { generatePgpKey } from './generate-pgp-key.js';
import { readMimeEntity } from './mime-entity.js';
import { readPgpLayer } from './pgp-layer.js';

const gpgPath = findExecutable('gpg');

describeWithPrerequisite('generatePgpKey', gpgPath === null ? 'gpg is not installed (Debian package gnupg)' : null, () => {
  let gpg: GnupgHome;

  beforeAll(async () => {
    gpg = await GnupgHome.create(gpgPath!);
  });

  afterAll(async () => {
    await gpg?.close();
  });

  it('makes an armored Ed25519 + Curve25519 key for the address that GnuPG reads as such', async () => {
    const key = await generatePgpKey('dana@example.test', { name: 'Dana Doe' });
    expect(key.publicKey).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    expect(key.privateKey).toMatch(/^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
    expect(key.fingerprint).toMatch(/^[0-9a-f]{40}$/);
    expect((await openpgp.readPrivateKey({ armoredKey: key.privateKey })).isDecrypted()).toBe(true);
    await gpg.importKeys(key.publicKey);
    const listing = await gpg.run(['--with-colons', '--list-keys', 'dana@example.test']);
    expect(listing).toMatch(new RegExp(`^fpr:+${key.fingerprint.toUpperCase()}:`, 'm'));
    expect(listing).toMatch(/^uid:.*Dana Doe <dana@example\.test>/m);
    expect(listing).toMatch(/^pub:.*:ed25519:/m);
    expect(listing).toMatch(/^sub:.*:e:.*:cv25519:/m);
  });

  it('interoperates: gpg encrypts to the generated public key, and readPgpLayer decrypts with the private key', async () => {
    const key = await generatePgpKey('erin@example.test');
    await gpg.importKeys(key.publicKey);
    const inner = innerEntity('for Erin only');
    const armored = (await gpg.runOnFile(['--trust-model', 'always', '--armor', '--recipient', 'erin@example.test', '--encrypt'], inner)).toString();
    const result = await readPgpLayer(
      readMimeEntity(pgpMimeEncrypted(armored)),
      pgpKeys(pgpKey('erin@example.test', key.publicKey, key.privateKey)),
      testLimits(),
    );
    expect(result?.encryption).toMatchObject({ algorithm: 'AES-256 (SEIPD v1)', decrypted: true });
    expect(result?.encryption?.recipients[0]).toMatchObject({ keyTransport: 'ECDH (Curve25519)', address: 'erin@example.test' });
    expect(result?.inner?.toString()).toBe(inner);
  });

  it('protects the private key with a passphrase that gpg accepts to sign, and the signature verifies as the registered key', async () => {
    const key = await generatePgpKey('frank@example.test', { name: 'Frank', passphrase: 'frank pass' });
    expect((await openpgp.readPrivateKey({ armoredKey: key.privateKey })).isDecrypted()).toBe(false);
    await gpg.run(['--passphrase', 'frank pass', '--import'], key.privateKey);
    const signedPart = 'Content-Type: text/plain\r\n\r\nsigned by a generated key';
    const signature = (await gpg.runOnFile(['--passphrase', 'frank pass', '--armor', '--local-user', key.fingerprint, '--detach-sign'], signedPart)).toString();
    const result = await readPgpLayer(readMimeEntity(pgpMimeSigned(signedPart, signature)), pgpKeys(pgpKey('frank@example.test', key.publicKey)), testLimits());
    expect(result?.signatures).toEqual([
      expect.objectContaining({ valid: true, trusted: true, signer: 'Frank <frank@example.test>', fingerprint: key.fingerprint }),
    ]);
  }, 60_000); // gpg-agent's first unlock of an imported protected key takes seconds on a busy machine
});

import * as openpgp from 'openpgp';
import { describe, expect, it } from 'vitest';
import { createKeyRegistry } from './key-registry.js';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

describe('key registry: OpenPGP', () => {
  it('registers a private key (its address from the user id), keeps the private half for examinations and lists the public one', async () => {
    const { privateKey, publicKey } = await openpgp.generateKey({ userIDs: [{ name: 'Alice', email: 'Alice@Example.test' }], format: 'armored' });
    const registry = createKeyRegistry({ caPem: CA });
    const key = await registry.register({ type: 'pgp', privateKey });
    expect(key).toMatchObject({ type: 'pgp', address: 'alice@example.test', canDecrypt: true });
    expect(key.fingerprint).toBe((await openpgp.readKey({ armoredKey: publicKey })).getFingerprint());
    expect(key.publicKey).toContain('BEGIN PGP PUBLIC KEY BLOCK');
    expect(JSON.stringify(registry.list())).not.toContain('PRIVATE KEY');
    expect(registry.material().pgp).toEqual([expect.objectContaining({ address: 'alice@example.test', privateKey })]);
    expect(registry.material().smimeTrustAnchors).toEqual([CA]);
  });

  it('asks for the passphrase of a protected key, and refuses a wrong one', async () => {
    const { privateKey } = await openpgp.generateKey({ userIDs: [{ email: 'bob@example.test' }], passphrase: 'open sesame', format: 'armored' });
    const registry = createKeyRegistry({ caPem: CA });
    await expect(registry.register({ type: 'pgp', privateKey })).rejects.toMatchObject({ code: 'INVALID_KEY', message: expect.stringContaining('passphrase') });
    await expect(registry.register({ type: 'pgp', privateKey, passphrase: 'wrong' })).rejects.toMatchObject({ code: 'INVALID_KEY' });
    expect(await registry.register({ type: 'pgp', privateKey, passphrase: 'open sesame' })).toMatchObject({ canDecrypt: true });
  });

  it('registers a public key as a signer to trust, and refuses armor that is not a key', async () => {
    const { publicKey } = await openpgp.generateKey({ userIDs: [{ email: 'carol@example.test' }], format: 'armored' });
    const registry = createKeyRegistry({ caPem: CA });
    expect(await registry.register({ type: 'pgp', publicKey })).toMatchObject({ address: 'carol@example.test', canDecrypt: false });
    await expect(registry.register({ type: 'pgp', publicKey: 'not armor' })).rejects.toMatchObject({ code: 'INVALID_KEY', statusCode: 400 });
  });
});

import { generateKey } from 'openpgp';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithPrerequisite, findExecutable } from '../../test-support/external-client.js';
import { GnupgHome, type GnupgKey } from '../../test-support/gnupg.js';
import {
  crlf,
  innerEntity,
  mixedMessage,
  pgpKey,
  pgpKeys,
  pgpMimeEncrypted,
  pgpMimeSigned,
  plainMessage,
  testLimits,
} from '../../test-support/pgp-messages.js';
import { readMimeEntity } from './mime-entity.js';
import { readPgpLayer } from './pgp-layer.js';
import type { LayerLimits, LayerResult, PgpKeyMaterial, ProtectionKeys } from './protection-layer.js';

/*
 * OpenPGP produced by GnuPG (Debian's gpg, real keys in a throw-away home), built into MIME
 * messages as mail clients do, and read back with readMimeEntity and readPgpLayer.
 */

const gpgPath = findExecutable('gpg');

async function read(message: Buffer, keys: ProtectionKeys, limits: LayerLimits = testLimits()): Promise<LayerResult> {
  const result = await readPgpLayer(readMimeEntity(message), keys, limits);
  if (!result) throw new Error('readPgpLayer found no OpenPGP layer');
  return result;
}

describeWithPrerequisite('readPgpLayer with messages from GnuPG', gpgPath === null ? 'gpg is not installed (Debian package gnupg)' : null, () => {
  let gpg: GnupgHome;
  let alice: GnupgKey; // recipient: ed25519 + cv25519, registered with its private key
  let bob: GnupgKey; // signer, registered with its public key
  let mallory: GnupgKey; // signer, not registered
  let old: GnupgKey; // RSA-1024 signing key with an RSA-1024 encryption subkey
  let carol: GnupgKey; // recipient whose private key has a passphrase
  let aliceKey: PgpKeyMaterial;
  let bobKey: PgpKeyMaterial;
  let oldKey: PgpKeyMaterial;
  let carolPublic: string;
  let carolPrivate: string;
  const inner = innerEntity('The statement for December.\nTotal: 42.00 EUR');

  const encrypt = async (args: string[], input: string = inner): Promise<string> =>
    (await gpg.runOnFile(['--trust-model', 'always', '--armor', ...args, '--encrypt'], input)).toString('latin1');
  const keys = (): ProtectionKeys => pgpKeys(aliceKey, bobKey);

  beforeAll(async () => {
    gpg = await GnupgHome.create(gpgPath!);
    alice = await gpg.generateKey('Alice <alice@example.test>');
    bob = await gpg.generateKey('Bob Billing <billing@example.test>');
    mallory = await gpg.generateKey('Mallory <mallory@example.test>');
    old = await gpg.generateKey('Old <old@example.test>', { algorithm: 'rsa1024', usage: 'sign' });
    old = await gpg.addSubkey(old.fingerprint, 'rsa1024', 'encr');
    carol = await gpg.generateKey('Carol <carol@example.test>', { passphrase: 'carol secret' });
    aliceKey = pgpKey('alice@example.test', await gpg.exportPublicKey(alice.fingerprint), await gpg.exportSecretKey(alice.fingerprint));
    bobKey = pgpKey(null, await gpg.exportPublicKey(bob.fingerprint));
    oldKey = pgpKey('old@example.test', await gpg.exportPublicKey(old.fingerprint), await gpg.exportSecretKey(old.fingerprint));
    carolPublic = await gpg.exportPublicKey(carol.fingerprint);
    carolPrivate = await gpg.exportSecretKey(carol.fingerprint, 'carol secret');
  }, 120_000); // six gpg keys: seconds on a busy machine

  afterAll(async () => {
    await gpg?.close();
  });

  it('decrypts PGP/MIME from gpg --encrypt with the registered key and returns the inner entity', async () => {
    const message = pgpMimeEncrypted(await encrypt(['--recipient', 'alice@example.test']));
    const result = await read(message, keys());
    expect(result.kind).toBe('pgp-mime');
    expect(result.encryption).toEqual({
      algorithm: 'AES-256 (SEIPD v1)',
      recipients: [{ id: alice.keyIds[1], keyTransport: 'ECDH (Curve25519)', address: 'alice@example.test' }],
      decrypted: true,
      reason: null,
    });
    expect(result.inner?.toString()).toBe(inner);
    expect(result.signatures).toEqual([]);
    expect(result.signedInside).toBe(false);
    expect(result.warnings).toEqual([]);
    expect(result.reason).toBeNull();
  });

  it('cannot decrypt without a matching key, and says so', async () => {
    const message = pgpMimeEncrypted(await encrypt(['--recipient', 'alice@example.test']));
    for (const registered of [pgpKeys(), pgpKeys(bobKey, oldKey)]) {
      const result = await read(message, registered);
      expect(result.encryption?.decrypted).toBe(false);
      expect(result.encryption?.reason).toBe(`no registered private key matches a recipient (${alice.keyIds[1]})`);
      expect(result.encryption?.algorithm).toBe('unknown cipher (SEIPD v1)');
      expect(result.encryption?.recipients).toEqual([{ id: alice.keyIds[1], keyTransport: 'ECDH', address: null }]);
      expect(result.inner).toBeNull();
    }
  });

  it('decrypts with a passphrase-protected key, and names a wrong passphrase', async () => {
    const message = pgpMimeEncrypted(await encrypt(['--recipient', 'carol@example.test']));
    const right = await read(message, pgpKeys(pgpKey('carol@example.test', carolPublic, carolPrivate, 'carol secret')));
    expect(right.encryption?.decrypted).toBe(true);
    expect(right.inner?.toString()).toBe(inner);
    const wrong = await read(message, pgpKeys(pgpKey('carol@example.test', carolPublic, carolPrivate, 'not it')));
    expect(wrong.encryption?.decrypted).toBe(false);
    expect(wrong.encryption?.reason).toBe('wrong passphrase for the private key registered for carol@example.test');
    const none = await read(message, pgpKeys(pgpKey('carol@example.test', carolPublic, carolPrivate)));
    expect(none.encryption?.reason).toMatch(/protected by a passphrase and none is registered/);
  });

  it('reports gpg --encrypt --sign as signed inside the encryption, with the signer', async () => {
    const message = pgpMimeEncrypted(
      await encrypt(['--recipient', 'alice@example.test', '--local-user', bob.fingerprint, '--digest-algo', 'SHA256', '--sign']),
    );
    const result = await read(message, keys());
    expect(result.encryption?.decrypted).toBe(true);
    expect(result.signedInside).toBe(true);
    expect(result.inner?.toString()).toBe(inner);
    expect(result.signatures).toHaveLength(1);
    const [signature] = result.signatures;
    expect(signature).toMatchObject({
      valid: true,
      trusted: true,
      signer: 'Bob Billing <billing@example.test>',
      subject: null,
      fingerprint: bob.fingerprint,
      keyId: bob.keyIds[0],
      digestAlgorithm: 'SHA-256',
      algorithm: 'EdDSA',
      reason: null,
    });
    expect(Number.isNaN(Date.parse(signature!.signedAt!))).toBe(false);
  });

  it('names an unregistered signer inside an encrypted message', async () => {
    const message = pgpMimeEncrypted(await encrypt(['--recipient', 'alice@example.test', '--local-user', mallory.fingerprint, '--sign']));
    const result = await read(message, keys());
    expect(result.encryption?.decrypted).toBe(true);
    expect(result.signedInside).toBe(true);
    expect(result.signatures[0]).toMatchObject({
      valid: false,
      trusted: false,
      keyId: mallory.keyIds[0],
      fingerprint: mallory.fingerprint,
      reason: `signer key ${mallory.keyIds[0]} not registered`,
    });
  });

  it('warns of 3DES (--cipher-algo), of a weak cipher chosen by --personal-cipher-preferences, and of an RSA-1024 recipient', async () => {
    const tripleDes = await read(pgpMimeEncrypted(await encrypt(['--recipient', 'alice@example.test', '--cipher-algo', '3DES'])), keys());
    expect(tripleDes.encryption?.algorithm).toBe('3DES (SEIPD v1)');
    expect(tripleDes.encryption?.decrypted).toBe(true);
    expect(tripleDes.warnings).toEqual(['3DES']);

    const preferred = await read(pgpMimeEncrypted(await encrypt(['--recipient', 'alice@example.test', '--personal-cipher-preferences', '3DES'])), keys());
    expect(preferred.encryption?.algorithm).toBe('3DES (SEIPD v1)');
    expect(preferred.warnings).toEqual(['3DES']);

    const cast5 = await read(pgpMimeEncrypted(await encrypt(['--recipient', 'alice@example.test', '--cipher-algo', 'CAST5'])), keys());
    expect(cast5.encryption?.algorithm).toBe('CAST5 (SEIPD v1)');
    expect(cast5.warnings).toEqual(['CAST5']);

    const rsa = await read(pgpMimeEncrypted(await encrypt(['--recipient', 'old@example.test'])), pgpKeys(oldKey));
    expect(rsa.encryption?.recipients).toEqual([{ id: old.keyIds[1], keyTransport: 'RSA', address: 'old@example.test' }]);
    expect(rsa.encryption?.decrypted).toBe(true);
    expect(rsa.warnings).toEqual(['RSA-1024']);
  });

  it('warns of a message without integrity protection (gpg --rfc2440: SED, no MDC) and still decrypts it', async () => {
    const result = await read(pgpMimeEncrypted(await encrypt(['--recipient', 'alice@example.test', '--rfc2440', '--cipher-algo', 'AES256'])), keys());
    expect(result.encryption?.algorithm).toBe('AES-256 (SED, no integrity protection)');
    expect(result.encryption?.decrypted).toBe(true);
    expect(result.inner?.toString()).toBe(inner);
    expect(result.warnings).toEqual(['no integrity protection (SED without MDC)']);
  });

  it('names the cipher of gpg --symmetric from its passphrase packet', async () => {
    const armored = (await gpg.runOnFile(['--armor', '--passphrase', 'hunter2', '--cipher-algo', 'AES128', '--symmetric'], inner)).toString();
    const result = await read(pgpMimeEncrypted(armored), keys());
    expect(result.encryption).toEqual({
      algorithm: 'AES-128 (SEIPD v1)',
      recipients: [{ id: 'passphrase', keyTransport: 'passphrase', address: null }],
      decrypted: false,
      reason: 'encrypted to a passphrase only; Mailwright decrypts with registered keys',
    });
  });

  it('says why an IDEA message (a cipher openpgp.js does not implement) is not decrypted', async () => {
    const result = await read(pgpMimeEncrypted(await encrypt(['--recipient', 'alice@example.test', '--cipher-algo', 'IDEA'])), keys());
    expect(result.encryption?.decrypted).toBe(false);
    expect(result.encryption?.reason).toBe(
      'the key registered for alice@example.test could not decrypt the session key (Error decrypting session keys: Unsupported cipher)',
    );
    expect(result.encryption?.recipients).toEqual([{ id: alice.keyIds[1], keyTransport: 'ECDH (Curve25519)', address: 'alice@example.test' }]);
  });

  it('verifies PGP/MIME multipart/signed (gpg --detach-sign) over the first part, with CRLF or bare LF line endings', async () => {
    const signedPart = crlf(
      'Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nInvoice 2026-12 attached.\nTotal: 42.00 EUR',
    );
    for (const mode of [[], ['--textmode']]) {
      const signature = (
        await gpg.runOnFile(['--armor', '--local-user', bob.fingerprint, '--digest-algo', 'SHA256', ...mode, '--detach-sign'], signedPart)
      ).toString();
      const message = pgpMimeSigned(signedPart, signature);
      const result = await read(message, keys());
      expect(result.kind).toBe('pgp-mime');
      expect(result.encryption).toBeNull();
      expect(result.inner?.toString()).toBe(signedPart);
      expect(result.signatures).toEqual([
        expect.objectContaining({
          valid: true,
          trusted: true,
          signer: 'Bob Billing <billing@example.test>',
          fingerprint: bob.fingerprint,
          digestAlgorithm: 'SHA-256',
        }),
      ]);
      // An MTA that stored the message with bare LF: the signature is verified over CRLF all the same (RFC 3156 5).
      const lf = Buffer.from(message.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
      expect((await read(lf, keys())).signatures[0]?.valid).toBe(true);
    }
  });

  it('peels RFC 3156 sign-then-encrypt: the inner entity of the encryption layer is the multipart/signed layer', async () => {
    const signedPart = crlf('Content-Type: text/plain; charset=utf-8\n\nSigned, then encrypted.');
    const signature = (await gpg.runOnFile(['--armor', '--local-user', bob.fingerprint, '--detach-sign'], signedPart)).toString();
    const signedEntity = pgpMimeSigned(signedPart, signature).toString('latin1');
    const outer = await read(pgpMimeEncrypted(await encrypt(['--recipient', 'alice@example.test'], signedEntity)), keys());
    expect(outer.encryption?.decrypted).toBe(true);
    expect(outer.signatures).toEqual([]);
    expect(outer.inner?.toString('latin1')).toBe(signedEntity);
    const inner = await read(outer.inner!, keys());
    expect(inner.kind).toBe('pgp-mime');
    expect(inner.signatures).toEqual([expect.objectContaining({ valid: true, trusted: true, fingerprint: bob.fingerprint })]);
    expect(inner.inner?.toString()).toBe(signedPart);
  });

  it('fails a tampered signed part, and names an unregistered signer', async () => {
    const signedPart = crlf('Content-Type: text/plain\n\nPay 42.00 EUR to account 1234.');
    const signature = (await gpg.runOnFile(['--armor', '--local-user', bob.fingerprint, '--detach-sign'], signedPart)).toString();
    const tampered = await read(pgpMimeSigned(signedPart.replace('1234', '9999'), signature), keys());
    expect(tampered.signatures[0]).toMatchObject({ valid: false, trusted: true, keyId: bob.keyIds[0] });
    expect(tampered.signatures[0]?.reason).toMatch(/^signature does not verify: /);

    const unknown = (await gpg.runOnFile(['--armor', '--local-user', mallory.fingerprint, '--detach-sign'], signedPart)).toString();
    const result = await read(pgpMimeSigned(signedPart, unknown), keys());
    expect(result.signatures[0]).toMatchObject({ valid: false, trusted: false, reason: `signer key ${mallory.keyIds[0]} not registered` });
  });

  it('warns of SHA-1 and of an RSA-1024 signer', async () => {
    const signedPart = crlf('Content-Type: text/plain\n\nsigned with an old key');
    const signature = (await gpg.runOnFile(['--armor', '--local-user', old.fingerprint, '--digest-algo', 'SHA1', '--detach-sign'], signedPart)).toString();
    const result = await read(pgpMimeSigned(signedPart, signature, 'pgp-sha1'), pgpKeys(oldKey));
    expect(result.signatures[0]).toMatchObject({ valid: true, trusted: true, digestAlgorithm: 'SHA-1', algorithm: 'RSA' });
    expect(result.warnings.sort()).toEqual(['RSA-1024', 'SHA-1']);
  });

  it('verifies inline PGP from gpg --clearsign at the top level and one multipart level down', async () => {
    const text = 'Your code is 123456.\n- a line starting with a dash\nThanks';
    const clearsigned = await gpg.run(['--local-user', bob.fingerprint, '--clearsign'], text);
    for (const message of [plainMessage(clearsigned), plainMessage(clearsigned, 'base64'), mixedMessage(clearsigned)]) {
      const result = await read(message, keys());
      expect(result.kind).toBe('pgp-inline');
      expect(result.encryption).toBeNull();
      expect(result.signatures).toEqual([expect.objectContaining({ valid: true, trusted: true, signer: 'Bob Billing <billing@example.test>' })]);
      const entity = readMimeEntity(result.inner!);
      expect(entity.contentType).toBe('text/plain');
      expect(entity.body.toString()).toBe(crlf(text));
    }
    const tampered = await read(plainMessage(clearsigned.replace('123456', '654321')), keys());
    expect(tampered.signatures[0]?.valid).toBe(false);
    expect(tampered.signatures[0]?.reason).toMatch(/^signature does not verify/);
  });

  it('verifies a clearsigned ISO-8859-1 text over its bytes (dash-escaped lines, trailing white space)', async () => {
    const text = Buffer.from('Grüße aus Köln   \n- Posten 1: 42,00 €\nEnde', 'latin1');
    const clearsigned = await gpg.runOnFile(['--local-user', bob.fingerprint, '--clearsign'], text);
    const header = Buffer.from('From: billing@example.test\r\nContent-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n');
    const message = Buffer.concat([header, Buffer.from(clearsigned.toString('latin1').replace(/\n/g, '\r\n'), 'latin1')]);
    const result = await read(message, keys());
    expect(result.signatures).toEqual([expect.objectContaining({ valid: true, trusted: true, signer: 'Bob Billing <billing@example.test>' })]);
    const entity = readMimeEntity(result.inner!);
    expect(entity.params.charset).toBe('iso-8859-1');
    expect(entity.body.equals(Buffer.from(text.toString('latin1').replace(/\n/g, '\r\n'), 'latin1'))).toBe(true);

    const tampered = Buffer.from(message.toString('latin1').replace('42,00', '92,00'), 'latin1');
    expect((await read(tampered, keys())).signatures[0]).toMatchObject({ valid: false, trusted: true });
  });

  it('verifies inline gpg --sign --armor and decrypts inline gpg --encrypt --armor', async () => {
    const text = 'inline protected text\nsecond line';
    const signed = await gpg.run(['--local-user', bob.fingerprint, '--armor', '--sign'], text);
    const signedResult = await read(plainMessage(signed), keys());
    expect(signedResult.kind).toBe('pgp-inline');
    expect(signedResult.signatures[0]).toMatchObject({ valid: true, trusted: true });
    expect(readMimeEntity(signedResult.inner!).body.toString()).toBe(crlf(text));

    const encrypted = await gpg.run(['--trust-model', 'always', '--recipient', 'alice@example.test', '--armor', '--encrypt'], text);
    const encryptedResult = await read(mixedMessage(`Please find the statement below.\n\n${encrypted}`), keys());
    expect(encryptedResult.kind).toBe('pgp-inline');
    expect(encryptedResult.encryption).toMatchObject({ algorithm: 'AES-256 (SEIPD v1)', decrypted: true });
    expect(readMimeEntity(encryptedResult.inner!).body.toString()).toBe(crlf(text));
  });

  it('counts a message to 100 recipients and tries at most maxRecipients of them', async () => {
    const others: string[] = [];
    for (let i = 0; i < 99; i += 1) {
      others.push((await generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ email: `r${i}@example.test` }] })).publicKey);
    }
    await gpg.importKeys(others.join('\n'));
    const recipients = [...others.map((_, i) => `r${i}@example.test`), 'alice@example.test'].flatMap((address) => ['--recipient', address]);
    const message = pgpMimeEncrypted(await encrypt(recipients));

    const all = await read(message, keys(), testLimits({ maxRecipients: 100 }));
    expect(all.encryption?.recipients).toHaveLength(100);
    expect(all.encryption?.decrypted).toBe(true);
    expect(all.reason).toBeNull();
    const position = all.encryption!.recipients.findIndex((recipient) => recipient.address === 'alice@example.test');
    expect(position).toBeGreaterThan(0);

    // A limit that leaves Alice's recipient entry out: counted, not tried.
    const below = await read(message, keys(), testLimits({ maxRecipients: position }));
    expect(below.encryption?.recipients).toHaveLength(position);
    expect(below.encryption?.decrypted).toBe(false);
    expect(below.reason).toBe(`encrypted to 100 recipients: only the first ${position} were examined, the other ${100 - position} counted`);
    expect(below.encryption?.reason).toMatch(/encrypted to 100 recipients/);

    const including = await read(message, keys(), testLimits({ maxRecipients: position + 1 }));
    expect(including.encryption?.decrypted).toBe(true);
    expect(including.encryption?.recipients).toHaveLength(position + 1);
  }, 60_000); // 99 keys generated and imported into gpg

  it('stops when the signal is aborted', async () => {
    const message = pgpMimeEncrypted(await encrypt(['--recipient', 'alice@example.test']));
    const controller = new AbortController();
    controller.abort(new Error('out of time'));
    const result = await read(message, keys(), testLimits({ signal: controller.signal }));
    expect(result.reason).toBe('examination stopped: out of time');
    expect(result.inner).toBeNull();
    expect(result.encryption?.decrypted).toBe(false);
  });
});

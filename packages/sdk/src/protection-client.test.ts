// The SDK's end-to-end protection helpers against an in-process server: keys issued and
// registered, mail made by real producers (OpenSSL's `openssl cms`, GnuPG) sent over SMTP, and
// the matchers, filters and decrypted view over what the server found.
import { AssertionError } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { isMailwrightError, type IssuedKey } from '@mailwright/core';
import { Mailwright } from './mailwright.js';
import type { ReceivedMessage } from './received-message.js';
import { assertEncrypted, assertSigned } from './protection-assertions.js';
import './vitest.js';

const run = promisify(execFile);

let mail: Mailwright;
let scratch: string;
/** The recipient's certificate and key, issued by the test CA and registered. */
let alice: IssuedKey;
/** A signer's certificate from the test CA. */
let billing: IssuedKey;
/** Signed by billing, then encrypted to alice with AES-256-CBC (PKCS#1 v1.5 key transport). */
let signedThenEncrypted: ReceivedMessage;
/** Signed by billing, then changed. */
let tampered: ReceivedMessage;
/** Not protected. */
let plain: ReceivedMessage;

/** Runs a command in the scratch directory and returns its output. */
async function tool(command: string, args: string[], files: Record<string, string> = {}): Promise<string> {
  for (const [name, content] of Object.entries(files)) await writeFile(join(scratch, name), content);
  return (await run(command, args, { cwd: scratch, encoding: 'utf8', maxBuffer: 32 * 1024 * 1024 })).stdout;
}

async function sendRaw(to: string, raw: string): Promise<void> {
  await nodemailer.createTransport({ ...mail.smtp, ignoreTLS: true }).sendMail({ envelope: { from: 'billing@acme.test', to }, raw });
}

function headers(to: string, subject: string): string {
  return `From: billing@acme.test\r\nTo: ${to}\r\nSubject: ${subject}\r\n`;
}

const ENTITY =
  'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nStatement for March\r\n' +
  '--b1\r\nContent-Type: application/pdf; name="statement.pdf"\r\nContent-Disposition: attachment; filename="statement.pdf"\r\n' +
  'Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJSBzdGF0ZW1lbnQKJSVFT0YK\r\n--b1--\r\n';

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'mailwright-protection-'));
  mail = await Mailwright.start();
  const inbox = mail.inbox();
  alice = await mail.smime.issue(inbox.address);
  billing = await mail.smime.issue('billing@acme.test');
  const files = { 'entity.eml': ENTITY, 'signer.pem': billing.publicKey, 'signer.key': billing.privateKey, 'alice.pem': alice.publicKey };
  const signed = await tool(
    'openssl',
    ['cms', '-sign', '-in', 'entity.eml', '-signer', 'signer.pem', '-inkey', 'signer.key', '-md', 'sha256', '-crlfeol'],
    files,
  );
  const encrypted = await tool('openssl', ['cms', '-encrypt', '-in', 'signed.eml', '-aes256', '-recip', 'alice.pem', '-crlfeol'], { 'signed.eml': signed });
  await sendRaw(inbox.address, headers(inbox.address, 'Statement') + encrypted);
  signedThenEncrypted = await inbox.waitForMessage({ subject: 'Statement' });
  await sendRaw(inbox.address, headers(inbox.address, 'Tampered') + signed.replace('Statement for March', 'Statement for April'));
  tampered = await inbox.waitForMessage({ subject: 'Tampered' });
  await sendRaw(inbox.address, `${headers(inbox.address, 'Plain')}\r\nhello\r\n`);
  plain = await inbox.waitForMessage({ subject: 'Plain' });
});

afterAll(async () => {
  await mail?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function failure(run: () => Promise<void>): Promise<AssertionError> {
  const error: unknown = await run().then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AssertionError);
  return error as AssertionError;
}

describe('keys', () => {
  it('issues S/MIME certificates from the test CA, lists them without private halves, and deletes them', async () => {
    expect(alice.publicKey).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(alice.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(alice.caCertificate).toBe(mail.ca);
    expect(alice.key).toMatchObject({ type: 'smime', canDecrypt: true });
    const issued = await mail.smime.issue('carol@example.test', { keyType: 'ecdsa-p256' });
    const keys = await mail.keys.list();
    expect(keys.map((key) => key.id)).toEqual(expect.arrayContaining([alice.key.id, billing.key.id, issued.key.id]));
    expect(JSON.stringify(keys)).not.toContain('PRIVATE KEY');
    await mail.keys.delete(issued.key.id);
    expect((await mail.keys.list()).map((key) => key.id)).not.toContain(issued.key.id);
    const error: unknown = await mail.keys.delete(issued.key.id).catch((caught: unknown) => caught);
    expect(isMailwrightError(error) && [error.statusCode, error.code]).toEqual([404, 'KEY_NOT_FOUND']);
  });

  it('registers a key pair, and refuses a broken one with a 400 that names the problem', async () => {
    const registered = await mail.keys.register({ type: 'smime', certificate: alice.publicKey, privateKey: alice.privateKey, address: 'alias@example.test' });
    expect(registered).toMatchObject({ type: 'smime', address: 'alias@example.test', canDecrypt: true, fingerprint: alice.key.fingerprint });
    await mail.keys.delete(registered.id);
    const error: unknown = await mail.keys.register({ type: 'smime', certificate: 'not a certificate' }).catch((caught: unknown) => caught);
    expect(isMailwrightError(error) && [error.statusCode, error.code]).toEqual([400, 'INVALID_KEY']);
    expect((error as Error).message).toMatch(/certificate/i);
  });

  it('generates OpenPGP keys, armored', async () => {
    const key = await mail.pgp.generate('dave@example.test', { name: 'Dave' });
    expect(key.publicKey).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----/);
    expect(key.privateKey).toMatch(/^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
    expect(key.caCertificate).toBeNull();
    expect(key.key).toMatchObject({ type: 'pgp', address: 'dave@example.test', canDecrypt: true });
  });
});

describe('matchers over what the server found', () => {
  it('passes for S/MIME signed by billing, then encrypted to the recipient', async () => {
    await expect(signedThenEncrypted).toBeEncrypted({ kind: 'smime', algorithm: 'AES-256-CBC', for: alice.key.address ?? '' });
    await expect(signedThenEncrypted).toBeSigned({ by: 'billing@acme.test', trusted: true });
    await expect(signedThenEncrypted).toBeSignedThenEncrypted();
    expect(signedThenEncrypted.protection?.warnings.join(' ')).toMatch(/PKCS#1 v1\.5/);
    await expect(plain).not.toBeEncrypted();
    await expect(plain).not.toBeSigned();
  });

  it('fails saying what was found', async () => {
    expect((await failure(() => assertEncrypted(signedThenEncrypted, { algorithm: 'AES-256-GCM' }))).message).toMatch(
      /"Statement" to be encrypted using AES-256-GCM, but it is encrypted with AES-256-CBC\./,
    );
    expect((await failure(() => assertEncrypted(plain))).message).toMatch(/"Plain" to be encrypted, but it is not protected\./);
    const error = await failure(() => assertSigned(tampered));
    expect(error.message).toMatch(/"Tampered" to be signed, but its signature by billing@acme.test does not verify \(\S/);
    await expect(tampered).not.toBeSigned();
  });
});

describe('the decrypted view', () => {
  it('serves the decrypted message, its attachments read from it, while raw stays the bytes received', async () => {
    const decrypted = await signedThenEncrypted.decrypted();
    expect(decrypted).toMatchObject({ id: signedThenEncrypted.id, view: 'decrypted', text: 'Statement for March' });
    expect(decrypted).toHaveAttachment({ filename: 'statement.pdf', contentType: 'application/pdf' });
    const [pdf] = decrypted.attachments;
    expect((await decrypted.attachment(pdf?.partId ?? 'missing')).toString()).toBe('%PDF-1.4\n% statement\n%%EOF\n');
    expect((await decrypted.raw()).toString()).toContain('application/pkcs7-mime');
  });

  it("rejects with the server's error when nothing was decrypted", async () => {
    const error: unknown = await plain.decrypted().catch((caught: unknown) => caught);
    expect(isMailwrightError(error) && [error.statusCode, error.code]).toEqual([404, 'NOT_DECRYPTED']);
  });
});

describe('filters', () => {
  it('lists and waits by encrypted, signed and protection', async () => {
    const subjects = async (filter: Parameters<Mailwright['messages']['list']>[0]): Promise<string[]> =>
      (await mail.messages.list(filter)).messages.map((message) => message.subject).sort();
    expect(await subjects({ encrypted: true })).toEqual(['Statement']);
    expect(await subjects({ signed: true, protection: 'smime' })).toEqual(['Statement', 'Tampered']);
    expect(await subjects({ encrypted: false, signed: false })).toContain('Plain');
    expect(await subjects({ protection: 'pgp' })).toEqual([]);
    expect((await mail.messages.waitFor({ encrypted: true, timeout: 5_000 })).subject).toBe('Statement');
  });

  it('finds inline PGP made by GnuPG for a generated key, and decrypts it', async () => {
    const inbox = mail.inbox();
    const key = await mail.pgp.generate(inbox.address);
    const home = join(scratch, 'gnupg');
    await run('mkdir', ['-p', '-m', '700', home]);
    await tool('gpg', ['--homedir', home, '--batch', '--import', 'key.asc'], { 'key.asc': key.publicKey });
    const armored = await tool(
      'gpg',
      ['--homedir', home, '--batch', '--trust-model', 'always', '--armor', '--encrypt', '-r', inbox.address, '--output', '-', 'note.txt'],
      {
        'note.txt': 'The code is 4711\n',
      },
    );
    await sendRaw(inbox.address, `${headers(inbox.address, 'Inline')}Content-Type: text/plain\r\n\r\n${armored.replace(/\r?\n/g, '\r\n')}`);
    const message = await inbox.waitForMessage({ protection: 'pgp', timeout: 5_000 });
    await expect(message).toBeEncrypted({ kind: 'pgp-inline', for: inbox.address });
    expect((await message.decrypted()).text).toContain('The code is 4711');
  });
});

describe('OpenPGP signatures', () => {
  it('matches a GnuPG clearsigned message by the address in its user id, trusted as a registered key', async () => {
    const inbox = mail.inbox();
    const signer = await mail.pgp.generate('receipts@acme.test', { name: 'Acme Receipts' });
    const home = join(scratch, 'gnupg-signer');
    await run('mkdir', ['-p', '-m', '700', home]);
    await tool('gpg', ['--homedir', home, '--batch', '--import', 'signer.asc'], { 'signer.asc': signer.privateKey });
    const clearsigned = await tool(
      'gpg',
      ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--clearsign', '--output', '-', 'receipt.txt'],
      {
        'receipt.txt': 'Receipt 77: paid\n',
      },
    );
    await sendRaw(inbox.address, `${headers(inbox.address, 'Receipt')}Content-Type: text/plain\r\n\r\n${clearsigned.replace(/\r?\n/g, '\r\n')}`);
    const message = await inbox.waitForMessage({ signed: true, timeout: 10_000 });
    await expect(message).toBeSigned({ by: 'receipts@acme.test', trusted: true });
    await expect(message).toBeSigned({ by: signer.key.fingerprint });
    await expect(message).not.toBeSigned({ by: 'billing@acme.test' });
    expect(message.protection).toMatchObject({ kind: 'pgp-inline', signed: true, encrypted: false });
  });
});

describe('a server that does not examine protection', () => {
  it('gives up after the timeout', async () => {
    await using quiet = await Mailwright.start({ protection: 'off' });
    const inbox = quiet.inbox();
    await nodemailer
      .createTransport({ ...quiet.smtp, ignoreTLS: true })
      .sendMail({ envelope: { from: 'a@example.test', to: inbox.address }, raw: `Subject: Quiet\r\n\r\nhi\r\n` });
    const message = await inbox.waitForMessage();
    const error: unknown = await assertEncrypted(message, { timeout: 100 }).catch((caught: unknown) => caught);
    expect(isMailwrightError(error) && error.code).toBe('WAIT_TIMEOUT');
    expect((error as Error).message).toMatch(/^Cannot check encryption of message #\d+ "Quiet": .*has no protection record/);
  });
});

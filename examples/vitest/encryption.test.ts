// End to end protection: the app signs and encrypts its invoices with S/MIME (openssl cms) or
// OpenPGP (openpgp.js); the test hands it keys from Mailwright, which verifies and decrypts.
// Runs against an in-process server, or a running one (MAILWRIGHT_URL).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Mailwright } from '@mailwright/sdk';
import '@mailwright/sdk/vitest';
import { createSecureMailer } from '../app/secure-mailer.mjs';

let mail: Mailwright;

beforeAll(async () => {
  mail = process.env.MAILWRIGHT_URL ? await Mailwright.connect(process.env.MAILWRIGHT_URL) : await Mailwright.start();
});

afterAll(async () => {
  await mail?.close();
});

it('S/MIME: the invoice is signed by billing, then encrypted to the customer, and decrypts to a PDF', async () => {
  const inbox = mail.inbox();
  // The customer's certificate, issued by the test CA; Mailwright keeps its key to decrypt.
  const customer = await mail.smime.issue(inbox.address);
  // The app's own signing certificate, from the same CA, which Mailwright trusts.
  const billing = await mail.smime.issue('billing@acme.test');
  const app = createSecureMailer({ ...mail.smtp, ca: mail.ca }, { smime: { certificate: billing.publicKey, privateKey: billing.privateKey } });
  await app.sendSmimeInvoice(inbox.address, customer.publicKey);
  app.close();

  const message = await inbox.waitForMessage({ subject: 'Invoice 2026-001', timeout: 10_000 });
  await expect(message).toBeEncrypted({ kind: 'smime', algorithm: 'AES-256-GCM', for: inbox.address });
  await expect(message).toBeSigned({ by: 'billing@acme.test', trusted: true });
  await expect(message).toBeSignedThenEncrypted();
  const decrypted = await message.decrypted();
  expect(decrypted).toHaveAttachment({ filename: 'invoice-2026-001.pdf', contentType: 'application/pdf' });
  expect(decrypted).toContainText('Invoice 2026-001 is attached.');
});

it('S/MIME: a signature alone (multipart/signed), readable by every client', async () => {
  const inbox = mail.inbox();
  const billing = await mail.smime.issue('billing@acme.test');
  const app = createSecureMailer({ ...mail.smtp, ca: mail.ca }, { smime: { certificate: billing.publicKey, privateKey: billing.privateKey } });
  await app.sendSmimeInvoice(inbox.address, '', { number: '2026-003', encrypt: false });
  app.close();

  const message = await inbox.waitForMessage({ timeout: 10_000 });
  await expect(message).toBeSigned({ by: 'billing@acme.test', trusted: true });
  await expect(message).not.toBeEncrypted();
  expect(message).toHaveAttachment({ filename: 'invoice-2026-003.pdf' });
  expect(message.protection?.signatures[0]).toMatchObject({ digestAlgorithm: 'SHA-256', valid: true });
});

it("OpenPGP: the invoice is encrypted to the customer's key (PGP/MIME)", async () => {
  const inbox = mail.inbox();
  const customer = await mail.pgp.generate(inbox.address, { name: 'Customer' });
  const app = createSecureMailer({ ...mail.smtp, ca: mail.ca });
  await app.sendPgpInvoice(inbox.address, customer.publicKey);
  app.close();

  const message = await inbox.waitForMessage({ timeout: 10_000 });
  await expect(message).toBeEncrypted({ kind: 'pgp', for: inbox.address });
  await expect(message).not.toBeSigned();
  const decrypted = await message.decrypted();
  expect(decrypted).toHaveAttachment({ filename: 'invoice-2026-002.pdf' });
});

it('A message encrypted before its key was registered is read again on request', async () => {
  const inbox = mail.inbox();
  const customer = await mail.smime.issue(inbox.address);
  // The key goes; the message that arrives now cannot be decrypted…
  await mail.keys.delete(customer.key.id);
  const app = createSecureMailer({ ...mail.smtp, ca: mail.ca });
  await app.sendSmimeInvoice(inbox.address, customer.publicKey, { number: '2026-004', sign: false });
  app.close();
  const message = await inbox.waitForMessage({ timeout: 10_000 });
  await expect(message).toBeEncrypted({ kind: 'smime' });
  expect(message.protection?.encryption?.decrypted).toBe(false);

  // …until the key is registered again and the message examined anew.
  await mail.keys.register({ type: 'smime', certificate: customer.publicKey, privateKey: customer.privateKey });
  await mail.messages.reexamineProtection(message.id);
  const again = await mail.messages.get(message.id);
  expect(again.protection?.encryption?.decrypted).toBe(true);
  expect(await again.decrypted()).toHaveAttachment({ filename: 'invoice-2026-004.pdf' });
  expect((await mail.messages.list({ to: inbox.address, encrypted: true, protection: 'smime' })).total).toBe(1);
});

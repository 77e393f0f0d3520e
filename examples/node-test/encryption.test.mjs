// node:test with the framework-agnostic protection assertions (they wait for the examination).
import { after, before, test } from 'node:test';
import { Mailwright, assertAttachment, assertEncrypted, assertSigned, assertSignedThenEncrypted } from '@mailwright/sdk';
import { createSecureMailer } from '../app/secure-mailer.mjs';

let mail;

before(async () => {
  mail = process.env.MAILWRIGHT_URL ? await Mailwright.connect(process.env.MAILWRIGHT_URL) : await Mailwright.start();
});

after(async () => {
  await mail?.close();
});

test('the invoice is signed by billing, then encrypted to the customer with AES-256-GCM', async (t) => {
  const inbox = mail.inbox();
  const customer = await mail.smime.issue(inbox.address);
  t.after(() => mail.keys.delete(customer.key.id));
  const billing = await mail.smime.issue('billing@acme.test');
  t.after(() => mail.keys.delete(billing.key.id));
  const app = createSecureMailer({ ...mail.smtp, ca: mail.ca }, { smime: { certificate: billing.publicKey, privateKey: billing.privateKey } });
  await app.sendSmimeInvoice(inbox.address, customer.publicKey, { number: '2026-101' });
  app.close();

  const message = await inbox.waitForMessage({ timeout: 10_000 });
  await assertEncrypted(message, { kind: 'smime', algorithm: 'AES-256-GCM', for: inbox.address });
  await assertSigned(message, { by: 'billing@acme.test', trusted: true });
  await assertSignedThenEncrypted(message);
  assertAttachment(await message.decrypted(), { filename: 'invoice-2026-101.pdf', contentType: 'application/pdf' });
});

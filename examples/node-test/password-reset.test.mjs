// node:test with the framework-agnostic assertions (they throw node:assert's AssertionError).
import { after, before, test } from 'node:test';
import { Mailwright, assertDeliveredOverTls, assertRecipient, assertContainsLink } from '@mailwright/sdk';
import { createMailer } from '../app/mailer.mjs';

let mail;

before(async () => {
  mail = process.env.MAILWRIGHT_URL ? await Mailwright.connect(process.env.MAILWRIGHT_URL) : await Mailwright.start();
});

after(async () => {
  await mail?.close();
});

test('the reset mail reaches the user over STARTTLS', async () => {
  const inbox = mail.inbox();
  const app = createMailer({ ...mail.smtp, ca: mail.ca });
  const token = await app.sendPasswordReset(inbox.address);
  app.close();

  const message = await inbox.waitForMessage({ subject: /reset/i, timeout: 5_000 });
  assertDeliveredOverTls(message, { mode: 'starttls', minVersion: 'TLSv1.2' });
  assertRecipient(message, inbox.address);
  assertContainsLink(message, `token=${token}`);
});

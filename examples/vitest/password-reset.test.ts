// Runs against an in-process server, or against a running one when MAILWRIGHT_URL is set.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Mailwright } from '@mailwright/sdk';
import '@mailwright/sdk/vitest';
import { createMailer } from '../app/mailer.mjs';

let mail: Mailwright;

beforeAll(async () => {
  mail = process.env.MAILWRIGHT_URL ? await Mailwright.connect(process.env.MAILWRIGHT_URL) : await Mailwright.start();
});

afterAll(async () => {
  await mail?.close();
});

it('sends the reset mail to the user, over STARTTLS with TLS 1.2 or newer', async () => {
  const inbox = mail.inbox();
  const app = createMailer({ ...mail.smtp, ca: mail.ca });
  const token = await app.sendPasswordReset(inbox.address);
  app.close();

  const message = await inbox.waitForMessage({ subject: /reset/i, timeout: 5_000 });
  expect(message).toBeDeliveredOverTls({ mode: 'starttls', minVersion: 'TLSv1.2' });
  expect(message).toHaveRecipient(inbox.address);
  expect(message).toHaveSender('no-reply@acme.test');
  expect(message).toContainLink(`token=${token}`);
});

it('works over implicit TLS too', async () => {
  const inbox = mail.inbox();
  const app = createMailer({ ...mail.smtps, ca: mail.ca, secure: true });
  await app.sendPasswordReset(inbox.address);
  app.close();

  const message = await inbox.waitForMessage({ timeout: 5_000 });
  expect(message).toBeDeliveredOverTls({ mode: 'implicit', minVersion: 'TLSv1.3' });
});

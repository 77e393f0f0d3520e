// node:test with the framework-agnostic authentication assertions (they wait for the verdicts).
import { after, before, test } from 'node:test';
import { Mailwright, assertPassesDkim, assertPassesDmarc, assertPassesSpf } from '@mailwright/sdk';
import { createMailer } from '../app/mailer.mjs';

let mail;

before(async () => {
  mail = process.env.MAILWRIGHT_URL ? await Mailwright.connect(process.env.MAILWRIGHT_URL) : await Mailwright.start();
});

after(async () => {
  await mail?.close();
});

test('the reset mail is signed for acme.test and passes SPF and DMARC', async (t) => {
  // Node.js 20 has no `await using`: each record and the listener go again after the test.
  const key = await mail.dkim.createKey({ domain: 'acme.test', selector: 'node' });
  t.after(() => key.restore());
  const relay = await mail.listeners.create({ clientIp: '203.0.113.7' });
  t.after(() => relay.remove());
  const spf = await mail.spf.allow('acme.test', '203.0.113.7');
  t.after(() => spf.restore());
  const dmarc = await mail.dmarc.publish('acme.test', 'quarantine');
  t.after(() => dmarc.restore());
  const inbox = mail.inbox();
  const app = createMailer({ ...relay.endpoint, ca: mail.ca, dkim: key.dkim });
  await app.sendPasswordReset(inbox.address);
  app.close();

  const message = await inbox.waitForMessage({ timeout: 5_000 });
  await assertPassesDkim(message, { domain: 'acme.test', selector: 'node' });
  await assertPassesSpf(message, { domain: 'acme.test' });
  await assertPassesDmarc(message);
});

// Who really sent it: the app's DKIM signing, SPF and DMARC set-up, judged offline against the
// server's mock DNS zone. Runs against an in-process server, or a running one (MAILWRIGHT_URL).
import { generateKeyPairSync } from 'node:crypto';
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

it('DKIM: the app signs its mail with a key the test publishes', async () => {
  // A fresh key for acme.test, selector s1; its TXT record is in the mock zone until the block ends.
  await using key = await mail.dkim.createKey({ domain: 'acme.test', selector: 's1' });
  const inbox = mail.inbox();
  const app = createMailer({ ...mail.smtp, ca: mail.ca, dkim: key.dkim ?? undefined });
  await app.sendPasswordReset(inbox.address);
  app.close();

  const message = await inbox.waitForMessage({ subject: /reset/i, timeout: 5_000 });
  await expect(message).toPassDkim({ domain: 'acme.test', selector: 's1' });
});

it("DKIM: the app's own key, published as its DNS record would be", async () => {
  // The key the app is configured with in production would come from its secrets; here, a new one.
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const p = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  await using _record = await mail.dns.set('s2._domainkey.acme.test', 'TXT', `v=DKIM1; k=rsa; p=${p}`);
  const inbox = mail.inbox();
  const dkim = { domainName: 'acme.test', keySelector: 's2', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
  const app = createMailer({ ...mail.smtp, ca: mail.ca, dkim });
  await app.sendPasswordReset(inbox.address);
  app.close();

  const message = await inbox.waitForMessage({ timeout: 5_000 });
  await expect(message).toPassDkim({ domain: 'acme.test', selector: 's2' });
  // With the record gone, the same signature has no key to verify against.
  await mail.dns.delete('s2._domainkey.acme.test', 'TXT');
  await mail.messages.recomputeAuthentication(message.id);
  await expect(await mail.messages.get(message.id)).toFailDkim({ result: 'permerror', reason: 'no key for signature' });
});

it('SPF: mail from the relay address our SPF record allows passes', async () => {
  // Every local connection comes from 127.0.0.1: the listener says which address it stands for.
  await using relay = await mail.listeners.create({ clientIp: '203.0.113.7' });
  await using _spf = await mail.spf.allow('acme.test', '203.0.113.0/24');
  const inbox = mail.inbox();
  const app = createMailer({ ...relay.endpoint, ca: mail.ca });
  await app.sendPasswordReset(inbox.address);
  app.close();

  const message = await inbox.waitForMessage({ timeout: 5_000 });
  await expect(message).toPassSpf({ domain: 'acme.test' });
  expect(message.authentication?.spf).toMatchObject({ clientIp: '203.0.113.7', mechanism: 'ip4:203.0.113.0/24' });
});

it('DMARC: DKIM and SPF aligned with the From domain, under p=reject', async () => {
  await using key = await mail.dkim.createKey({ domain: 'acme.test', selector: 's3' });
  await using relay = await mail.listeners.create({ clientIp: '203.0.113.7' });
  await using _spf = await mail.spf.allow('acme.test', '203.0.113.7');
  await using _dmarc = await mail.dmarc.publish('acme.test', 'reject');
  const inbox = mail.inbox();
  const app = createMailer({ ...relay.endpoint, ca: mail.ca, dkim: key.dkim ?? undefined });
  await app.sendPasswordReset(inbox.address);
  app.close();

  const message = await inbox.waitForMessage({ timeout: 5_000 });
  await expect(message).toPassDmarc();
  expect(message.authentication?.dmarc).toMatchObject({ policy: 'reject', spfAligned: true, dkimAligned: true });
  // A relay the SPF record does not list, and no signature: DMARC fails, and says why.
  const unsigned = mail.inbox();
  const direct = createMailer({ ...mail.smtp, ca: mail.ca });
  await direct.sendPasswordReset(unsigned.address);
  direct.close();
  await expect(await unsigned.waitForMessage({ timeout: 5_000 })).not.toPassDmarc();
});

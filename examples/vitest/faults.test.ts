// Sender resilience: the app's outbox against a receiving server that defers, greylists,
// throttles, drops connections and refuses recipients. Each rule is scoped to the test's own
// inbox or sender, so that the files running beside this one never see it. Runs against an
// in-process server, or a running one (MAILWRIGHT_URL).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Mailwright, faults } from '@mailwright/sdk';
import '@mailwright/sdk/vitest';
import { createOutbox } from '../app/outbox.mjs';

let mail: Mailwright;
let outbox: ReturnType<typeof createOutbox>;

beforeAll(async () => {
  mail = process.env.MAILWRIGHT_URL ? await Mailwright.connect(process.env.MAILWRIGHT_URL) : await Mailwright.start();
  outbox = createOutbox({ ...mail.smtp, ca: mail.ca });
});

afterAll(async () => {
  outbox?.close();
  await mail?.close();
});

/** A sender address of this test's own. */
const uniqueSender = () => `shop-${randomBytes(4).toString('hex')}@acme.test`;

it('a temporary failure at RCPT is retried, and the mail arrives once', async () => {
  const inbox = mail.inbox();
  // The first RCPT TO this inbox gets 451; the rule is removed when the block ends.
  await using _failure = await inbox.fail({ at: 'rcpt', code: 451, times: 1 });
  await outbox.send({ from: 'shop@acme.test', to: inbox.address, subject: 'Your order', text: 'Thanks!' });

  const message = await inbox.waitForMessage({ subject: 'Your order' });
  await expect(message).toHaveBeenRetried({ after: 'rcpt' });
  await expect(message).toHaveArrivedOnce();
});

it('a connection dropped in the middle of DATA is retried, and the mail arrives once', async () => {
  const inbox = mail.inbox();
  await using _drop = await mail.faults.add({ at: 'data', action: { disconnectMidData: true }, match: { recipient: inbox.address }, times: 1 });
  await outbox.send({ from: 'shop@acme.test', to: inbox.address, subject: 'Your invoice', text: 'Attached.' });

  const message = await inbox.waitForMessage({ subject: 'Your invoice' });
  await expect(message).toHaveBeenRetried({ after: 'data', times: 1 });
  await expect(message).toHaveArrivedOnce();
});

it('greylisting: deferred until the sender comes back after the delay', async () => {
  const inbox = mail.inbox();
  await using _greylist = await mail.faults.add(faults.greylisting({ retryAfterMs: 100, match: { recipient: inbox.address } }));
  await outbox.send({ from: 'shop@acme.test', to: inbox.address, subject: 'Welcome', text: 'Hello!' });

  const message = await inbox.waitForMessage({ subject: 'Welcome' });
  await expect(message).toHaveBeenRetried({ after: 'rcpt' });
  await expect(message).toHaveArrivedOnce();
});

it('throttling: beyond two messages a minute the sender is deferred, and the outbox gives up after its attempts', async () => {
  const inbox = mail.inbox();
  const sender = uniqueSender();
  await using _limit = await mail.faults.add(faults.rateLimit({ max: 2, windowMs: 60_000, match: { sender } }));
  await outbox.send({ from: sender, to: inbox.address, subject: 'Digest 1', text: '1' });
  await outbox.send({ from: sender, to: inbox.address, subject: 'Digest 2', text: '2' });
  await expect(outbox.send({ from: sender, to: inbox.address, subject: 'Digest 3', text: '3' })).rejects.toMatchObject({ responseCode: 451 });

  const messages = await inbox.waitForMessages(2);
  expect(messages.map((message) => message.subject).sort()).toEqual(['Digest 1', 'Digest 2']);
});

it('a permanent failure is not retried', async () => {
  const inbox = mail.inbox();
  await using _unknown = await mail.faults.add(faults.unknownUser({ match: { recipient: inbox.address } }));
  await expect(outbox.send({ from: 'shop@acme.test', to: inbox.address, subject: 'Lost', text: 'x' })).rejects.toMatchObject({ responseCode: 550 });

  const attempt = await mail.sessions.waitFor({ fault: { recipient: inbox.address, at: 'rcpt' } });
  expect(attempt.faults?.[0]).toMatchObject({ code: 550, recipients: [inbox.address] });
  await expect(inbox).toHaveNoDelivery();
});

it('one recipient of several refused: the others get the message, the app learns which failed', async () => {
  const alice = mail.inbox();
  const bob = mail.inbox();
  await using _full = await mail.faults.add(faults.mailboxFull({ match: { recipient: bob.address } }));
  const info = await outbox.send({ from: 'shop@acme.test', to: [alice.address, bob.address], subject: 'Team news', text: 'News' });
  // nodemailer lists each refused recipient, with the server's reply in `rejectedErrors`.
  expect(info.rejected).toEqual([bob.address]);
  expect(info).toMatchObject({ rejectedErrors: [{ responseCode: 452 }] });

  // Bob is still named in the To header, but the message was delivered to Alice alone.
  const message = await alice.waitForMessage({ subject: 'Team news' });
  expect(message.envelope.rcptTo).toEqual([alice.address]);
});

// Postfix's retry logic against Mailwright's fault rules: a private Postfix instance (short
// retry times) relays to the default listener, and each test fails its own recipient.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Mailwright, faults, type Inbox } from '@mailwright/sdk';
import '@mailwright/sdk/vitest';
import { describeWithPrerequisite } from '../../packages/server/src/test-support/external-client.js';
import { postfixUnavailable, startPostfixRelay, type PostfixRelay } from './postfix.js';

/**
 * Postfix retries a deferred message after about a second, instead of minutes; a dropped
 * connection does not make it suspend delivery to the listener (the other tests' recipients).
 */
const FAST_RETRIES = [
  'queue_run_delay = 1s',
  'minimal_backoff_time = 1s',
  'maximal_backoff_time = 2s',
  'default_destination_concurrency_failed_cohort_limit = 100',
];
const CASES = ['greylisted', 'rcpt451', 'unknownUser', 'midData', 'eodDisconnect'] as const;
type CaseName = (typeof CASES)[number];

let mail: Mailwright;
let relay: PostfixRelay;
const inboxes = {} as Record<CaseName, Inbox>;

describeWithPrerequisite('Postfix retrying against fault rules', postfixUnavailable(), () => {
  beforeAll(async () => {
    mail = await Mailwright.start();
    for (const name of CASES) inboxes[name] = mail.inbox();
    relay = await startPostfixRelay(
      CASES.map((name) => ({ recipient: inboxes[name].address, port: mail.smtp.port, tlsPolicy: 'may' })),
      mail.ca,
      FAST_RETRIES,
    );
  });

  afterAll(async () => {
    await relay?.stop();
    await mail?.close();
  });

  async function relayTo(name: CaseName): Promise<string> {
    const to = inboxes[name].address;
    await relay.send({ from: 'app@example.test', to, subject: `Relayed: ${name}`, text: `${name}, relayed by Postfix` });
    return to;
  }

  it('greylisting: the first attempt is deferred with 451 4.7.1, the retry is delivered once', async () => {
    await using rule = await mail.faults.add(faults.greylisting({ retryAfterMs: 500, match: { recipient: inboxes.greylisted.address } }));
    const to = await relayTo('greylisted');
    const first = await relay.outcome(to);
    expect(first.status).toBe('deferred');
    expect(first.line).toMatch(/451 4\.7\.1 Greylisted/);
    const sent = await relay.outcome(to, 30_000, 'sent');
    expect(sent.line).toMatch(/250 2\.0\.0 Ok: queued as/);
    const message = await inboxes.greylisted.waitForMessage();
    await expect(message).toHaveBeenRetried({ after: 'rcpt' });
    await expect(message).toHaveArrivedOnce();
    expect((await rule.status()).fired).toBeGreaterThanOrEqual(1);
  });

  it('451 at RCPT once: deferred, then delivered on retry', async () => {
    await using failure = await inboxes.rcpt451.fail({ at: 'rcpt', code: 451, text: '4.3.2 Try again later', times: 1 });
    const to = await relayTo('rcpt451');
    expect((await relay.outcome(to)).line).toMatch(/status=deferred .*451 4\.3\.2 Try again later/);
    await relay.outcome(to, 30_000, 'sent');
    const message = await inboxes.rcpt451.waitForMessage();
    await expect(message).toHaveBeenRetried({ after: 'rcpt', times: 1 });
    await expect(message).toHaveArrivedOnce();
    expect(await relay.attempts(to)).toEqual(['deferred', 'sent']);
    expect((await failure.status()).fired).toBe(1);
  });

  it('550 at RCPT: bounced, never retried, nothing stored', async () => {
    await using _rule = await mail.faults.add(faults.unknownUser({ match: { recipient: inboxes.unknownUser.address } }));
    const to = await relayTo('unknownUser');
    const outcome = await relay.outcome(to);
    expect(outcome.status).toBe('bounced');
    expect(outcome.line).toMatch(/550 5\.1\.1 User unknown/);
    await expect(inboxes.unknownUser).toHaveNoDelivery();
  });

  it('disconnect mid-DATA: deferred, retried and delivered once', async () => {
    await using _rule = await mail.faults.add({ at: 'data', action: { disconnectMidData: true }, match: { recipient: inboxes.midData.address }, times: 1 });
    const to = await relayTo('midData');
    expect((await relay.outcome(to)).line).toMatch(/status=deferred .*(lost connection|Connection reset)/i);
    await relay.outcome(to, 30_000, 'sent');
    const message = await inboxes.midData.waitForMessage();
    await expect(message).toHaveBeenRetried({ after: 'data', times: 1 });
    await expect(message).toHaveArrivedOnce();
  });

  it('disconnect after the message is in but before the reply: deferred, retried, and not stored twice', async () => {
    await using _rule = await mail.faults.add({
      at: 'end-of-data',
      action: { disconnect: true },
      match: { recipient: inboxes.eodDisconnect.address },
      times: 1,
    });
    const to = await relayTo('eodDisconnect');
    const first = await relay.outcome(to);
    expect(first.status).toBe('deferred');
    await relay.outcome(to, 30_000, 'sent');
    const message = await inboxes.eodDisconnect.waitForMessage();
    await expect(message).toHaveBeenRetried({ after: 'end-of-data', times: 1 });
    await expect(message).toHaveArrivedOnce();
  });
});

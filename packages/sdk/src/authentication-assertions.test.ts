// The authentication assertions and matchers: each must fail when its expectation is not met,
// naming the verdict and the reason. The verdicts are real: messages signed by nodemailer's DKIM
// signer, sent over SMTP to an in-process server, judged against its mock zone.
import { AssertionError } from 'node:assert';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { isMailwrightError } from '@mailwright/core';
import { Mailwright, type DkimKey, type RuntimeListener } from './mailwright.js';
import type { ReceivedMessage } from './received-message.js';
import { assertFailsDkim, assertPassesDkim, assertPassesDmarc, assertPassesSpf } from './assertions.js';
import './vitest.js';

let mail: Mailwright;
let key: DkimKey;
let relay: RuntimeListener;
/** Signed for example.com (s1), from the relay address SPF allows: DKIM, SPF and DMARC pass. */
let good: ReceivedMessage;
/** The same signer, the body changed after signing, sent from 127.0.0.1: DKIM, SPF and DMARC fail. */
let tampered: ReceivedMessage;
/** Not signed, from a domain with no records: none across. */
let unsigned: ReceivedMessage;

/** Signs a message with nodemailer's DKIM signer and returns the bytes it would send. */
async function signed(options: nodemailer.SendMailOptions): Promise<Buffer> {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, dkim: key.dkim ?? undefined });
  return (await transport.sendMail(options)).message as Buffer;
}

async function sendRaw(endpoint: { host: string; port: number }, from: string, to: string, raw: Buffer | string): Promise<void> {
  await nodemailer.createTransport({ ...endpoint, ignoreTLS: true }).sendMail({ envelope: { from, to }, raw });
}

beforeAll(async () => {
  mail = await Mailwright.start();
  key = await mail.dkim.createKey({ domain: 'example.com', selector: 's1' });
  await mail.spf.allow('example.com', '203.0.113.7');
  await mail.dmarc.publish('example.com', 'reject');
  relay = await mail.listeners.create({ clientIp: '203.0.113.7' });

  const inbox = mail.inbox();
  await sendRaw(
    relay.endpoint,
    'alice@example.com',
    inbox.address,
    await signed({ from: 'alice@example.com', to: inbox.address, subject: 'Good', text: 'hello' }),
  );
  good = await inbox.waitForMessage({ subject: 'Good' });
  const raw = (await signed({ from: 'alice@example.com', to: inbox.address, subject: 'Tampered', text: 'pay 10 EUR' }))
    .toString()
    .replace('pay 10 EUR', 'pay 99 EUR');
  await sendRaw(mail.smtp, 'alice@example.com', inbox.address, raw);
  tampered = await inbox.waitForMessage({ subject: 'Tampered' });
  await sendRaw(mail.smtp, 'bob@nowhere.example', inbox.address, `From: bob@nowhere.example\r\nTo: ${inbox.address}\r\nSubject: Unsigned\r\n\r\nhi\r\n`);
  unsigned = await inbox.waitForMessage({ subject: 'Unsigned' });
});

afterAll(async () => {
  await mail?.close();
});

/** The AssertionError an assertion threw. */
async function failure(run: () => Promise<void>): Promise<AssertionError> {
  const error: unknown = await run().then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AssertionError);
  return error as AssertionError;
}

describe('assertPassesDkim / toPassDkim', () => {
  it('passes for a signature that verifies, of the given domain and selector', async () => {
    await assertPassesDkim(good);
    await assertPassesDkim(good, { domain: 'EXAMPLE.com', selector: 's1' });
    await expect(good).toPassDkim({ domain: 'example.com' });
    await expect(tampered).not.toPassDkim();
  });

  it('fails naming the verdict and the reason of a signature that does not verify', async () => {
    const error = await failure(() => assertPassesDkim(tampered, { domain: 'example.com' }));
    expect(error.message).toMatch(
      /^Expected message #\d+ "Tampered" to pass DKIM with a signature d=example.com, but its signature d=example.com s=s1 fail \(body hash did not verify/,
    );
    expect(error.actual).toEqual([expect.objectContaining({ result: 'fail', domain: 'example.com', selector: 's1' })]);
  });

  it('fails for an unsigned message, and for a signature of another selector', async () => {
    expect((await failure(() => assertPassesDkim(unsigned))).message).toMatch(/"Unsigned" to pass DKIM, but it carries no DKIM signature\./);
    expect((await failure(() => assertPassesDkim(good, { selector: 's2' }))).message).toMatch(
      /"Good" to pass DKIM with a signature s=s2, but it carries no signature s=s2, only d=example.com s=s1 pass\./,
    );
    await expect(expect(unsigned).toPassDkim()).rejects.toThrow('it carries no DKIM signature');
  });
});

describe('assertFailsDkim / toFailDkim', () => {
  it('passes for a signature that does not verify, with the result and reason given', async () => {
    await assertFailsDkim(tampered);
    await assertFailsDkim(tampered, { result: 'fail', reason: 'body hash did not verify' });
    await expect(tampered).toFailDkim({ reason: /body hash/ });
    await expect(good).not.toFailDkim();
  });

  it('fails naming the passing signature, or the other reason', async () => {
    expect((await failure(() => assertFailsDkim(good))).message).toMatch(/"Good" to fail DKIM, but its signature d=example.com s=s1 pass\./);
    const error = await failure(() => assertFailsDkim(tampered, { result: 'permerror' }));
    expect(error.message).toMatch(/"Tampered" to fail DKIM with permerror, but its signature is d=example.com s=s1 fail \(body hash did not verify/);
    expect((await failure(() => assertFailsDkim(tampered, { reason: 'no key' }))).message).toMatch(
      /to fail DKIM because no key, but its signature is d=example.com s=s1 fail/,
    );
    expect((await failure(() => assertFailsDkim(unsigned))).message).toMatch(/"Unsigned" to fail DKIM, but it carries no DKIM signature\./);
    await expect(expect(good).toFailDkim()).rejects.toThrow(/to fail DKIM, but its signature d=example.com s=s1 pass/);
  });
});

describe('assertPassesSpf / toPassSpf', () => {
  it('passes for the address the record allows', async () => {
    await assertPassesSpf(good, { domain: 'example.com' });
    await expect(good).toPassSpf();
    await expect(tampered).not.toPassSpf();
  });

  it('fails naming the result, the client address, the mechanism and the reason', async () => {
    const error = await failure(() => assertPassesSpf(tampered));
    expect(error.message).toMatch(/"Tampered" to pass SPF, but SPF for example.com from 127.0.0.1 is fail \(matched -all\): \S/);
    expect(error.actual).toMatchObject({ result: 'fail', clientIp: '127.0.0.1', record: 'v=spf1 ip4:203.0.113.7 -all' });
    expect((await failure(() => assertPassesSpf(unsigned))).message).toMatch(/"Unsigned" to pass SPF, but SPF for nowhere.example from 127.0.0.1 is none/);
    expect((await failure(() => assertPassesSpf(good, { domain: 'other.example' }))).message).toMatch(
      /"Good" to pass SPF for other.example, but SPF was evaluated for example.com\./,
    );
    await expect(expect(tampered).toPassSpf()).rejects.toThrow(/SPF for example.com from 127.0.0.1 is fail/);
  });
});

describe('assertPassesDmarc / toPassDmarc', () => {
  it('passes when DKIM and SPF align with the From domain', async () => {
    await assertPassesDmarc(good, { domain: 'example.com' });
    await expect(good).toPassDmarc();
    await expect(tampered).not.toPassDmarc();
  });

  it('fails naming the policy, the alignment and the reason', async () => {
    const error = await failure(() => assertPassesDmarc(tampered));
    expect(error.message).toMatch(/"Tampered" to pass DMARC, but DMARC for example.com is fail \(p=reject, SPF not aligned, DKIM not aligned\)/);
    expect(error.actual).toMatchObject({ result: 'fail', policy: 'reject', spfAligned: false, dkimAligned: false });
    expect((await failure(() => assertPassesDmarc(unsigned))).message).toMatch(/"Unsigned" to pass DMARC, but DMARC for nowhere.example is none/);
    await expect(expect(tampered).toPassDmarc()).rejects.toThrow(/DMARC for example.com is fail/);
  });
});

describe('verdict filters', () => {
  it('list and wait by dkim, spf and dmarc verdicts', async () => {
    expect((await mail.messages.list({ dkim: 'fail' })).messages.map((message) => message.subject)).toEqual(['Tampered']);
    expect((await mail.messages.list({ dkim: 'none', spf: 'none' })).messages.map((message) => message.subject)).toEqual(['Unsigned']);
    const [summary] = (await mail.messages.list({ dmarc: 'pass' })).messages;
    expect(summary).toMatchObject({ subject: 'Good', authentication: { status: 'done', dkim: 'pass', spf: 'pass', dmarc: 'pass' } });
    expect((await mail.messages.waitFor({ spf: 'fail', timeout: 5_000 })).subject).toBe('Tampered');
  });
});

describe('waiting on a verdict', () => {
  it('resolves for mail that arrived before the wait, its verdicts still pending', async () => {
    // Sent (the 250 received) first: the wait subscribes while the verdicts are being computed,
    // so the message comes out of seq order, after the subscription's cursor.
    for (let round = 0; round < 5; round += 1) {
      const inbox = mail.inbox();
      const raw = await signed({ from: 'alice@example.com', to: inbox.address, subject: `Round ${round}`, text: 'x'.repeat(200_000) });
      await sendRaw(relay.endpoint, 'alice@example.com', inbox.address, raw);
      expect((await inbox.waitForMessage({ dkim: 'pass', timeout: 5_000 })).subject).toBe(`Round ${round}`);
    }
  });
});

describe('pending and missing verdicts', () => {
  it('waits for verdicts still being computed, reading the message again', async () => {
    const message = await mail.messages.get(good.id);
    Object.assign(message, { authentication: { status: 'pending' } });
    await assertPassesDkim(message);
    expect(message.authentication?.status).toBe('done');
  });

  it('refuses to judge a record without verdicts, even negated', async () => {
    const summary = (await mail.messages.list({ subject: 'Good' })).messages[0];
    const error: unknown = await assertPassesDkim(summary as never).catch((caught: unknown) => caught);
    expect(isMailwrightError(error)).toBe(true);
    expect((error as Error).message).toMatch(/^Cannot check DKIM of message #\d+ "Good": it carries verdicts only/);
    const pending = { seq: 1, subject: 'Bare', authentication: { status: 'pending' as const } };
    await expect(expect(pending).not.toPassSpf()).rejects.toThrow('Cannot check SPF of message #1 "Bare": its verdicts are still pending');
  });

  it('gives up after the timeout when a server computes no verdicts', async () => {
    await using quiet = await Mailwright.start({ authentication: 'off' });
    const inbox = quiet.inbox();
    await sendRaw(quiet.smtp, 'alice@example.com', inbox.address, `From: alice@example.com\r\nSubject: Quiet\r\n\r\nhi\r\n`);
    const message = await inbox.waitForMessage();
    const error: unknown = await assertPassesDmarc(message, { timeout: 100 }).catch((caught: unknown) => caught);
    expect(isMailwrightError(error) && error.code).toBe('WAIT_TIMEOUT');
    expect((error as Error).message).toMatch(/^Cannot check DMARC of message #\d+ "Quiet": .*has no authentication record/);
  });
});

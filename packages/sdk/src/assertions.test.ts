// Every assertion and matcher must fail when its expectation is not met, with a message that
// says why. The records are real: messages and sessions captured by an in-process server from
// nodemailer sends with different TLS settings.
import { AssertionError } from 'node:assert';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import type { CapturedMessage, SmtpSession } from '@mailwright/core';
import { Mailwright } from './mailwright.js';
import type { ReceivedMessage } from './received-message.js';
import {
  assertAttachment,
  assertAuthenticated,
  assertClientCertificate,
  assertContainsLink,
  assertContainsText,
  assertCredentialsSentOverTls,
  assertDeliveredInPlaintext,
  assertDeliveredOverTls,
  assertFailedTls,
  assertHeader,
  assertNoDelivery,
  assertNoMessages,
  assertRecipient,
  assertSender,
  assertSubject,
  type DeliveredMessage,
} from './assertions.js';
import './vitest.js';

const CIPHER = 'ECDHE-ECDSA-AES128-GCM-SHA256';
const CIPHER_IANA = 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256';

let mail: Mailwright;
/** Plaintext, no AUTH. */
let plain: ReceivedMessage;
/** STARTTLS capped at TLS 1.2 with one cipher; AUTH PLAIN as `app`; link, header and attachment. */
let starttls12: ReceivedMessage;
/** Implicit TLS 1.3, no AUTH. */
let implicit13: ReceivedMessage;
/** Implicit TLS with a client certificate for CN=billing-service. */
let withCertificate: CapturedMessage;
/** AUTH sent before any TLS. */
let plaintextAuthSession: SmtpSession;
/** A TLS 1.2 client against a TLS 1.3-only listener. */
let failedSession: SmtpSession;

beforeAll(async () => {
  mail = await Mailwright.start();
  const tls = { ca: mail.ca, servername: 'localhost' };

  const plainInbox = mail.inbox();
  await nodemailer
    .createTransport({ host: mail.smtp.host, port: mail.smtp.port, ignoreTLS: true })
    .sendMail({ from: 'app@example.test', to: plainInbox.address, subject: 'Plain', text: 'plain body' });
  plain = await plainInbox.waitForMessage();

  const starttlsInbox = mail.inbox();
  await nodemailer
    .createTransport({
      host: mail.smtp.host,
      port: mail.smtp.port,
      requireTLS: true,
      auth: { user: 'app', pass: 'secret' },
      tls: { ...tls, ciphers: CIPHER, maxVersion: 'TLSv1.2' },
    })
    .sendMail({
      from: 'Billing <billing@example.test>',
      to: starttlsInbox.address,
      cc: 'audit@example.test',
      subject: 'Invoice 42',
      text: 'Your invoice: https://app.example.test/invoices/42',
      html: '<p>Your <a href="https://app.example.test/invoices/42">invoice</a></p>',
      headers: { 'X-Campaign': 'billing' },
      attachments: [{ filename: 'invoice.pdf', content: 'pdf', contentType: 'application/pdf' }],
    });
  starttls12 = await starttlsInbox.waitForMessage();

  const implicitInbox = mail.inbox();
  await nodemailer
    .createTransport({ host: mail.smtps.host, port: mail.smtps.port, secure: true, tls: { ...tls, minVersion: 'TLSv1.3' } })
    .sendMail({ from: 'app@example.test', to: implicitInbox.address, subject: 'Implicit', text: 'x' });
  implicit13 = await implicitInbox.waitForMessage();

  const mtls = await mail.listeners.create({ tls: 'implicit', clientCertificate: 'request' });
  const { cert, key } = await mail.issueClientCertificate('billing-service');
  await nodemailer
    .createTransport({ host: mtls.endpoint.host, port: mtls.endpoint.port, secure: true, tls: { ...tls, cert, key } })
    .sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'mTLS', text: 'x' });
  [withCertificate] = (await mtls.messages()) as [CapturedMessage];

  const authInbox = mail.inbox();
  await nodemailer
    .createTransport({ host: mail.smtp.host, port: mail.smtp.port, ignoreTLS: true, auth: { user: 'app', pass: 'secret' } })
    .sendMail({ from: 'app@example.test', to: authInbox.address, subject: 'Plaintext AUTH', text: 'x' });
  plaintextAuthSession = await (await authInbox.waitForMessage()).session();

  const tls13Only = await mail.listeners.create({ tls: 'implicit', minVersion: 'TLSv1.3' });
  await expect(
    nodemailer
      .createTransport({ host: tls13Only.endpoint.host, port: tls13Only.endpoint.port, secure: true, tls: { ...tls, maxVersion: 'TLSv1.2' } })
      .sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Refused', text: 'x' }),
  ).rejects.toThrow();
  failedSession = await mail.sessions.waitFor({ listener: tls13Only.name, failed: true });
});

afterAll(async () => {
  await mail?.close();
});

/** Runs `run` and returns the AssertionError (from node:assert) it throws; fails when it throws nothing else. */
function assertionError(run: () => unknown): AssertionError {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'the assertion passed').toBeInstanceOf(AssertionError);
  return caught as AssertionError;
}

/** Expects a matcher call to fail, and returns the failure message. */
function matcherFailure(run: () => void): string {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'the matcher passed').toBeInstanceOf(Error);
  return (caught as Error).message;
}

/** The record of a real message with some fields changed, for mismatches no client produces. */
function altered(message: DeliveredMessage, tls: Partial<DeliveredMessage['tls']>): DeliveredMessage {
  return { ...message, tls: { ...message.tls, ...tls } };
}

describe('the captured records are what the tests rely on', () => {
  it('holds plaintext, STARTTLS TLS 1.2 with the chosen cipher, implicit TLS 1.3, a client certificate and two failed sessions', () => {
    expect(plain.tls).toMatchObject({ mode: 'none', protocol: null });
    expect(starttls12.tls).toMatchObject({ mode: 'starttls', protocol: 'TLSv1.2', cipher: { name: CIPHER, standardName: CIPHER_IANA } });
    expect(starttls12.auth).toEqual({ mechanism: 'PLAIN', username: 'app' });
    expect(implicit13.tls).toMatchObject({ mode: 'implicit', protocol: 'TLSv1.3' });
    expect(withCertificate.tls.clientCertificate).toMatchObject({ subject: expect.stringContaining('CN=billing-service'), authorized: true });
    expect(plaintextAuthSession.authBeforeTls).toBe(true);
    expect(failedSession.error).toMatchObject({ stage: 'tls', code: 'protocol_version' });
  });
});

describe('assertDeliveredOverTls', () => {
  it('passes on a matching record (the negative cases below are not vacuous)', () => {
    assertDeliveredOverTls(starttls12, { mode: 'starttls', minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', cipher: CIPHER });
    assertDeliveredOverTls(starttls12, { cipher: CIPHER_IANA });
    assertDeliveredOverTls(implicit13, { mode: 'implicit', minVersion: 'TLSv1.3' });
  });

  it('fails on a plaintext delivery, with expected and actual records', () => {
    const error = assertionError(() => assertDeliveredOverTls(plain));
    expect(error.message).toMatch(/^Expected message #\d+ "Plain" to be delivered over TLS, but it was delivered in plaintext\./);
    expect(error.message).toMatch(/actual: {3}\{[\s\S]*"mode": "none"/);
    expect(error.operator).toBe('deliveredOverTls');
  });

  it('fails on a mode mismatch, both ways', () => {
    expect(assertionError(() => assertDeliveredOverTls(starttls12, { mode: 'implicit' })).message).toMatch(/but it used starttls instead of implicit\./);
    expect(assertionError(() => assertDeliveredOverTls(implicit13, { mode: 'starttls' })).message).toMatch(/but it used implicit instead of starttls\./);
  });

  it('fails below minVersion', () => {
    const error = assertionError(() => assertDeliveredOverTls(starttls12, { minVersion: 'TLSv1.3' }));
    expect(error.message).toMatch(/but TLSv1\.2 is below TLSv1\.3\./);
    expect(error.message).toMatch(/"minVersion": "TLSv1\.3"[\s\S]*"protocol": "TLSv1\.2"/);
  });

  it('fails above maxVersion', () => {
    expect(assertionError(() => assertDeliveredOverTls(implicit13, { maxVersion: 'TLSv1.2' })).message).toMatch(/but TLSv1\.3 is above TLSv1\.2\./);
  });

  it('fails on a cipher mismatch, by name and by pattern', () => {
    expect(assertionError(() => assertDeliveredOverTls(starttls12, { cipher: 'ECDHE-ECDSA-AES256-GCM-SHA384' })).message).toMatch(
      new RegExp(`but cipher ${CIPHER_IANA} does not match ECDHE-ECDSA-AES256-GCM-SHA384\\.`),
    );
    expect(assertionError(() => assertDeliveredOverTls(starttls12, { cipher: /CHACHA20/ })).message).toMatch(/does not match \/CHACHA20\//);
  });

  it('lists every problem at once', () => {
    const error = assertionError(() => assertDeliveredOverTls(starttls12, { mode: 'implicit', minVersion: 'TLSv1.3', cipher: /CHACHA20/ }));
    expect(error.message).toMatch(/instead of implicit, TLSv1\.2 is below TLSv1\.3, cipher \S+ does not match/);
  });

  it('fails a version window when the record names no known protocol', () => {
    const unknown = altered(starttls12, { protocol: null });
    expect(assertionError(() => assertDeliveredOverTls(unknown, { maxVersion: 'TLSv1.3' })).message).toMatch(/but its protocol is unknown\./);
    expect(assertionError(() => assertDeliveredOverTls(altered(starttls12, { protocol: 'SSLv3' }), { minVersion: 'TLSv1' })).message).toMatch(
      /but its protocol SSLv3 is unknown\./,
    );
  });

  it('fails a cipher expectation when the record has no cipher', () => {
    expect(assertionError(() => assertDeliveredOverTls(altered(implicit13, { cipher: null }), { cipher: /./ })).message).toMatch(/cipher none does not match/);
  });
});

describe('assertDeliveredInPlaintext', () => {
  it('fails on STARTTLS and on implicit TLS', () => {
    assertDeliveredInPlaintext(plain);
    expect(assertionError(() => assertDeliveredInPlaintext(starttls12)).message).toMatch(/to be delivered in plaintext, but it used starttls TLSv1\.2\./);
    expect(assertionError(() => assertDeliveredInPlaintext(implicit13)).message).toMatch(/but it used implicit TLSv1\.3\./);
  });
});

describe('assertAuthenticated', () => {
  it('fails when the client did not authenticate', () => {
    expect(assertionError(() => assertAuthenticated(implicit13)).message).toMatch(
      /to be sent by an authenticated client, but the client did not authenticate\./,
    );
  });

  it('fails on another mechanism or username, and says what was used', () => {
    assertAuthenticated(starttls12, { mechanism: 'plain', username: 'app' });
    expect(assertionError(() => assertAuthenticated(starttls12, { mechanism: 'LOGIN' })).message).toMatch(
      /to be sent by a client authenticated with LOGIN, but it used PLAIN as "app"\./,
    );
    expect(assertionError(() => assertAuthenticated(starttls12, { username: 'admin' })).message).toMatch(
      /to be sent by a client authenticated as "admin", but it used PLAIN as "app"\./,
    );
  });
});

describe('assertRecipient', () => {
  it('fails for an address that is neither envelope recipient, To nor Cc, and lists the recipients', () => {
    assertRecipient(starttls12, 'AUDIT@example.test');
    const error = assertionError(() => assertRecipient(starttls12, 'someone@example.test'));
    expect(error.message).toMatch(/to have recipient someone@example\.test\./);
    expect(error.message).toContain('"audit@example.test"');
    expect(error.message).toContain(`"${starttls12.envelope.rcptTo[0]}"`);
  });
});

describe('assertSender', () => {
  it('fails for another sender and lists From and the envelope sender', () => {
    assertSender(starttls12, 'billing@example.test');
    const error = assertionError(() => assertSender(starttls12, 'app@example.test'));
    expect(error.message).toMatch(/to be sent by app@example\.test\.[\s\S]*"billing@example\.test"/);
  });
});

describe('assertSubject', () => {
  it('fails on another subject, exact or by pattern', () => {
    expect(assertionError(() => assertSubject(starttls12, 'Invoice')).message).toMatch(/to have the subject Invoice\.[\s\S]*actual: {3}"Invoice 42"/);
    expect(assertionError(() => assertSubject(starttls12, /receipt/i)).message).toMatch(/to have the subject \/receipt\/i\./);
  });

  it('gives the same answer each time for a pattern with the g flag (which keeps a lastIndex)', () => {
    const pattern = /Invoice/g;
    for (let i = 0; i < 3; i++) assertSubject(starttls12, pattern);
  });
});

describe('assertContainsText', () => {
  it('fails when neither body contains the text', () => {
    assertContainsText(starttls12, 'Your invoice');
    const error = assertionError(() => assertContainsText(starttls12, 'Your receipt'));
    expect(error.message).toMatch(/to contain Your receipt\.[\s\S]*actual: {3}"Your invoice/);
    expect(assertionError(() => assertContainsText(starttls12, /refund/)).message).toMatch(/to contain \/refund\/\./);
  });

  it('reads the snippet of a summary without bodies, and fails when it lacks the text', async () => {
    const [summary] = await mail.inbox(plain.envelope.rcptTo[0]).messages();
    expect(summary).not.toHaveProperty('text');
    assertContainsText(summary!, 'plain body');
    expect(assertionError(() => assertContainsText(summary!, 'other body')).message).toMatch(/actual: {3}"plain body/);
  });
});

describe('assertContainsLink', () => {
  it('fails when no link matches, and lists the links', () => {
    expect(assertContainsLink(starttls12, '/invoices/42')).toBe('https://app.example.test/invoices/42');
    const error = assertionError(() => assertContainsLink(starttls12, /reset/));
    expect(error.message).toMatch(/to contain a link matching \/reset\/\.[\s\S]*"https:\/\/app\.example\.test\/invoices\/42"/);
    expect(assertionError(() => assertContainsLink(plain, 'http')).message).toMatch(/actual: {3}\[\]/);
    // A message detail as REST serves it carries its links as an array.
    expect(assertContainsLink({ ...plain, links: ['https://app.example.test/a'] }, '/a')).toBe('https://app.example.test/a');
  });
});

describe('assertAttachment', () => {
  it('fails on another filename or content type, and lists the attachments', () => {
    assertAttachment(starttls12, { filename: 'invoice.pdf', contentType: 'application/pdf' });
    const error = assertionError(() => assertAttachment(starttls12, { filename: 'invoice.pdf', contentType: /^image\// }));
    expect(error.message).toMatch(/to have an attachment like \{[\s\S]*"contentType": "\/\^image\\\\\/\/"/);
    expect(error.message).toMatch(/"filename": "invoice\.pdf",[\s\S]*"contentType": "application\/pdf"/);
    expect(assertionError(() => assertAttachment(starttls12, { filename: /\.zip$/ })).message).toMatch(/\.zip/);
    expect(assertionError(() => assertAttachment(plain)).message).toMatch(/actual: {3}\[\]/);
  });
});

describe('assertHeader', () => {
  it('fails on a missing header, and on another value', () => {
    assertHeader(starttls12, 'x-campaign', 'billing');
    expect(assertionError(() => assertHeader(starttls12, 'X-Missing')).message).toMatch(/to have header X-Missing\./);
    const error = assertionError(() => assertHeader(starttls12, 'X-Campaign', 'reset'));
    expect(error.message).toMatch(/to have header X-Campaign reset\.[\s\S]*"X-Campaign": \[\s*"billing"\s*\]/);
    expect(assertionError(() => assertHeader(starttls12, 'X-Campaign', /^promo/)).message).toMatch(/X-Campaign \/\^promo\//);
  });

  it('fails on a summary, which carries no headers', () => {
    const { headers: _headers, ...summary } = starttls12;
    expect(assertionError(() => assertHeader(summary, 'X-Campaign')).message).toMatch(/it carries no headers/);
  });
});

describe('assertFailedTls', () => {
  it('fails on a session whose handshake succeeded', async () => {
    const session = await implicit13.session();
    expect(assertionError(() => assertFailedTls(session)).message).toMatch(
      new RegExp(`^Expected session ${session.id} on smtps to fail its TLS handshake, but it did not fail\\.`),
    );
  });

  it('fails on another failure code', () => {
    assertFailedTls(failedSession, { code: 'protocol_version' });
    expect(assertionError(() => assertFailedTls(failedSession, { code: 'certificate_expired' })).message).toMatch(
      /to fail its TLS handshake with certificate_expired, but it failed with protocol_version\./,
    );
    expect(assertionError(() => assertFailedTls(failedSession, { code: /^unknown_ca$/ })).message).toMatch(/with \/\^unknown_ca\$\/, but/);
  });

  it('fails on a session that failed at another stage', () => {
    const smtpFailure: SmtpSession = { ...failedSession, error: { stage: 'smtp', code: 'too_many_errors', message: 'x' } };
    expect(assertionError(() => assertFailedTls(smtpFailure)).message).toMatch(/but it failed at the smtp stage \(too_many_errors\)\./);
  });
});

describe('assertCredentialsSentOverTls', () => {
  it('fails when the session did not authenticate', async () => {
    const session = await implicit13.session();
    expect(assertionError(() => assertCredentialsSentOverTls(session)).message).toMatch(/to authenticate over TLS, but it did not authenticate\./);
  });

  it('fails when the credentials were sent in plaintext', async () => {
    assertCredentialsSentOverTls(await starttls12.session());
    expect(assertionError(() => assertCredentialsSentOverTls(plaintextAuthSession)).message).toMatch(
      /to send credentials over TLS, but they were sent in plaintext\./,
    );
  });
});

describe('assertClientCertificate', () => {
  it('fails when no certificate was presented', () => {
    expect(assertionError(() => assertClientCertificate(implicit13)).message).toMatch(/^Expected a client certificate to have been presented, but none was\./);
  });

  it('fails on another subject or authorization, and names the certificate presented', () => {
    assertClientCertificate(withCertificate, { subject: 'CN=billing-service', authorized: true });
    expect(assertionError(() => assertClientCertificate(withCertificate, { subject: 'CN=shipping' })).message).toMatch(
      /^Expected a client certificate with subject CN=shipping, but the one presented was CN=billing-service \(authorized\)\./,
    );
    expect(assertionError(() => assertClientCertificate(withCertificate, { subject: /^CN=admin/ })).message).toMatch(/subject \/\^CN=admin\//);
    expect(assertionError(() => assertClientCertificate(withCertificate, { authorized: false })).message).toMatch(
      /^Expected an unauthorized client certificate, but the one presented was CN=billing-service \(authorized\)\./,
    );
  });
});

describe('assertNoMessages and assertNoDelivery', () => {
  it('fail when something arrived, and list it', async () => {
    assertNoMessages([], 'nowhere');
    expect(assertionError(() => assertNoMessages([starttls12], 'listener smtp')).message).toMatch(
      /^Expected no delivery on listener smtp, but 1 message\(s\) arrived\.[\s\S]*"subject": "Invoice 42"/,
    );
    const inbox = mail.inbox(starttls12.envelope.rcptTo[0]);
    await expect(assertNoDelivery(inbox)).rejects.toThrow(AssertionError);
    await expect(assertNoDelivery(inbox)).rejects.toThrow(new RegExp(`^Expected no delivery on inbox ${inbox.address}, but 1 message\\(s\\) arrived\\.`));
    await assertNoDelivery(mail.inbox());
  });
});

describe('the vitest matchers fail with the assertion messages', () => {
  it('toBeDeliveredOverTls on plaintext, mode, minVersion, maxVersion and cipher mismatches', () => {
    expect(matcherFailure(() => expect(plain).toBeDeliveredOverTls())).toMatch(/delivered in plaintext/);
    expect(matcherFailure(() => expect(starttls12).toBeDeliveredOverTls({ mode: 'implicit' }))).toMatch(/used starttls instead of implicit/);
    expect(matcherFailure(() => expect(starttls12).toBeDeliveredOverTls({ minVersion: 'TLSv1.3' }))).toMatch(/TLSv1\.2 is below TLSv1\.3/);
    expect(matcherFailure(() => expect(implicit13).toBeDeliveredOverTls({ maxVersion: 'TLSv1.2' }))).toMatch(/TLSv1\.3 is above TLSv1\.2/);
    expect(matcherFailure(() => expect(starttls12).toBeDeliveredOverTls({ cipher: 'TLS_AES_256_GCM_SHA384' }))).toMatch(
      /does not match TLS_AES_256_GCM_SHA384/,
    );
  });

  it('the other message matchers', () => {
    expect(matcherFailure(() => expect(starttls12).toBeDeliveredInPlaintext())).toMatch(/but it used starttls TLSv1\.2/);
    expect(matcherFailure(() => expect(plain).toHaveBeenAuthenticated())).toMatch(/the client did not authenticate/);
    expect(matcherFailure(() => expect(starttls12).toHaveBeenAuthenticated({ username: 'admin' }))).toMatch(/but it used PLAIN as "app"/);
    expect(matcherFailure(() => expect(starttls12).toHaveRecipient('someone@example.test'))).toMatch(/to have recipient someone@example\.test/);
    expect(matcherFailure(() => expect(starttls12).toHaveSender('app@example.test'))).toMatch(/to be sent by app@example\.test/);
    expect(matcherFailure(() => expect(starttls12).toHaveSubject(/receipt/))).toMatch(/to have the subject \/receipt\//);
    expect(matcherFailure(() => expect(starttls12).toContainText('refund'))).toMatch(/to contain refund/);
    expect(matcherFailure(() => expect(starttls12).toContainLink('/reset'))).toMatch(/to contain a link matching \/reset/);
    expect(matcherFailure(() => expect(starttls12).toHaveAttachment({ contentType: 'image/png' }))).toMatch(/to have an attachment like/);
    expect(matcherFailure(() => expect(starttls12).toHaveHeader('X-Campaign', 'reset'))).toMatch(/to have header X-Campaign reset/);
  });

  it('the session and certificate matchers', async () => {
    const session = await implicit13.session();
    expect(matcherFailure(() => expect(session).toHaveFailedTls())).toMatch(/to fail its TLS handshake, but it did not fail/);
    expect(matcherFailure(() => expect(failedSession).toHaveFailedTls({ code: 'unknown_ca' }))).toMatch(/but it failed with protocol_version/);
    expect(matcherFailure(() => expect(session).toHaveSentCredentialsOverTls())).toMatch(/but it did not authenticate/);
    expect(matcherFailure(() => expect(plaintextAuthSession).toHaveSentCredentialsOverTls())).toMatch(/sent in plaintext/);
    expect(matcherFailure(() => expect(implicit13).toHavePresentedClientCertificate())).toMatch(/but none was/);
    expect(matcherFailure(() => expect(withCertificate).toHavePresentedClientCertificate({ subject: 'CN=shipping' }))).toMatch(
      /but the one presented was CN=billing-service/,
    );
  });

  it('toHaveNoDelivery rejects when something arrived', async () => {
    const inbox = mail.inbox(starttls12.envelope.rcptTo[0]);
    await expect(expect(inbox).toHaveNoDelivery()).rejects.toThrow(/but 1 message\(s\) arrived/);
  });

  it('every .not form fails when the assertion passes', async () => {
    const passed = (name: string) => new RegExp(`^Expected the assertion ${name} to fail \\(with \\.not\\), but it passed\\.`);
    expect(matcherFailure(() => expect(starttls12).not.toBeDeliveredOverTls({ mode: 'starttls', cipher: CIPHER }))).toMatch(passed('toBeDeliveredOverTls'));
    expect(matcherFailure(() => expect(plain).not.toBeDeliveredInPlaintext())).toMatch(passed('toBeDeliveredInPlaintext'));
    expect(matcherFailure(() => expect(starttls12).not.toHaveBeenAuthenticated())).toMatch(passed('toHaveBeenAuthenticated'));
    expect(matcherFailure(() => expect(starttls12).not.toHaveRecipient('audit@example.test'))).toMatch(passed('toHaveRecipient'));
    expect(matcherFailure(() => expect(starttls12).not.toHaveSender('billing@example.test'))).toMatch(passed('toHaveSender'));
    expect(matcherFailure(() => expect(starttls12).not.toHaveSubject('Invoice 42'))).toMatch(passed('toHaveSubject'));
    expect(matcherFailure(() => expect(starttls12).not.toContainText('Your invoice'))).toMatch(passed('toContainText'));
    expect(matcherFailure(() => expect(starttls12).not.toContainLink('/invoices/42'))).toMatch(passed('toContainLink'));
    expect(matcherFailure(() => expect(starttls12).not.toHaveAttachment({ filename: 'invoice.pdf' }))).toMatch(passed('toHaveAttachment'));
    expect(matcherFailure(() => expect(starttls12).not.toHaveHeader('X-Campaign'))).toMatch(passed('toHaveHeader'));
    expect(matcherFailure(() => expect(failedSession).not.toHaveFailedTls({ code: 'protocol_version' }))).toMatch(passed('toHaveFailedTls'));
    const authenticated = await starttls12.session();
    expect(matcherFailure(() => expect(authenticated).not.toHaveSentCredentialsOverTls())).toMatch(passed('toHaveSentCredentialsOverTls'));
    expect(matcherFailure(() => expect(withCertificate).not.toHavePresentedClientCertificate())).toMatch(passed('toHavePresentedClientCertificate'));
    await expect(expect(mail.inbox()).not.toHaveNoDelivery()).rejects.toThrow(/^Expected a delivery \(with \.not\), but nothing arrived\./);
  });

  it('a .not form passes when the assertion fails (so it is not always failing)', async () => {
    expect(starttls12).not.toBeDeliveredOverTls({ minVersion: 'TLSv1.3' });
    expect(implicit13).not.toBeDeliveredOverTls({ mode: 'starttls' });
    expect(starttls12).not.toHaveHeader('X-Missing');
    await expect(mail.inbox(starttls12.envelope.rcptTo[0])).not.toHaveNoDelivery();
  });
});

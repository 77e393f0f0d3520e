import { AssertionError } from 'node:assert';
import { expect } from 'vitest';
import type { SmtpSession } from '@mailwright/core';
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
  assertFailsDkim,
  assertNoDelivery,
  assertPassesDkim,
  assertPassesDmarc,
  assertPassesSpf,
  assertRecipient,
  assertSender,
  assertSubject,
  type AuthenticatedMessage,
  type DeliveredMessage,
  type DeliveryTarget,
  type DkimFailExpectation,
  type DkimPassExpectation,
  type DmarcPassExpectation,
  type SpfPassExpectation,
  type TlsExpectation,
} from './assertions.js';
import { assertArrivedOnce, assertRetried, type RetriedMessage, type RetryExpectation } from './fault-assertions.js';
import {
  assertEncrypted,
  assertSigned,
  assertSignedThenEncrypted,
  type EncryptedExpectation,
  type ProtectedMessage,
  type ProtectionWaitOptions,
  type SignedExpectation,
} from './protection-assertions.js';

/** The Mailwright matchers, registered by `import '@mailwright/sdk/vitest'`. */
export interface MailwrightMatchers<R = unknown> {
  /** The message travelled over TLS (mode, version window, cipher). */
  toBeDeliveredOverTls(expected?: TlsExpectation): R;
  /** The message travelled without TLS. */
  toBeDeliveredInPlaintext(): R;
  /** The client authenticated (mechanism, username). */
  toHaveBeenAuthenticated(expected?: { mechanism?: string; username?: string }): R;
  /** Envelope recipient (Bcc too), To or Cc. */
  toHaveRecipient(address: string): R;
  /** From address or envelope sender. */
  toHaveSender(address: string): R;
  toHaveSubject(expected: string | RegExp): R;
  /** Text or HTML body contains a string or matches a pattern. */
  toContainText(expected: string | RegExp): R;
  /** A link (href or URL in the text) contains a string or matches a pattern. */
  toContainLink(pattern: string | RegExp): R;
  toHaveAttachment(expected?: { filename?: string | RegExp; contentType?: string | RegExp }): R;
  toHaveHeader(name: string, value?: string | RegExp): R;
  /** A session failed its TLS handshake (optionally with a code such as `certificate_expired`). */
  toHaveFailedTls(expected?: { code?: string | RegExp }): R;
  /** A session sent its credentials only over TLS. */
  toHaveSentCredentialsOverTls(): R;
  /** A message or session presented a client certificate. */
  toHavePresentedClientCertificate(expected?: { subject?: string | RegExp; authorized?: boolean }): R;
  /** A runtime listener (or inbox) received nothing; use with `await`. */
  toHaveNoDelivery(): Promise<R>;
  /** A DKIM signature (optionally of this domain and selector) verifies; use with `await` (waits for the verdicts). */
  toPassDkim(expected?: DkimPassExpectation): Promise<R>;
  /** DKIM signatures are present and none verifies (optionally with this result and reason); use with `await`. */
  toFailDkim(expected?: DkimFailExpectation): Promise<R>;
  /** SPF passes for the MAIL FROM identity; use with `await`. */
  toPassSpf(expected?: SpfPassExpectation): Promise<R>;
  /** DMARC passes for the From domain; use with `await`. */
  toPassDmarc(expected?: DmarcPassExpectation): Promise<R>;
  /** The message arrived after attempts a fault rule failed (at `after`, `times` of them); use with `await`. */
  toHaveBeenRetried(expected?: RetryExpectation): Promise<R>;
  /** No other stored message to its recipient has its Message-ID; use with `await`. */
  toHaveArrivedOnce(): Promise<R>;
  /** Encrypted end to end (optionally of a kind, with an algorithm, to recipients); use with `await` (waits for the examination). */
  toBeEncrypted(expected?: EncryptedExpectation): Promise<R>;
  /** A signature that verifies (optionally by a signer, trusted or not); use with `await`. */
  toBeSigned(expected?: SignedExpectation): Promise<R>;
  /** Signed, then encrypted: the signature that verifies is inside the encryption; use with `await`. */
  toBeSignedThenEncrypted(expected?: ProtectionWaitOptions): Promise<R>;
}

declare module 'vitest' {
  // vitest 4 picks custom matchers up from `Matchers`, which `Assertion` extends.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any
  interface Matchers<T = any> extends MailwrightMatchers<T> {}
}

interface MatcherState {
  isNot: boolean;
}

function outcome(state: MatcherState, name: string, run: () => void): { pass: boolean; message: () => string } {
  try {
    run();
    return { pass: true, message: () => `Expected the assertion ${name} to fail (with .not), but it passed.` };
  } catch (error) {
    if (!(error instanceof AssertionError)) throw error;
    return { pass: false, message: () => error.message };
  }
}

function wrapAsync<A extends unknown[]>(name: string, assertion: (subject: never, ...args: A) => Promise<void>) {
  return async function (this: MatcherState, received: unknown, ...args: A) {
    try {
      await assertion(received as never, ...args);
      return { pass: true, message: () => `Expected the assertion ${name} to fail (with .not), but it passed.` };
    } catch (error) {
      if (!(error instanceof AssertionError)) throw error;
      return { pass: false, message: () => error.message };
    }
  };
}

function wrap<A extends unknown[]>(name: string, assertion: (subject: never, ...args: A) => unknown) {
  return function (this: MatcherState, received: unknown, ...args: A) {
    return outcome(this, name, () => assertion(received as never, ...args));
  };
}

expect.extend({
  toBeDeliveredOverTls: wrap('toBeDeliveredOverTls', (message: DeliveredMessage, expected?: TlsExpectation) => assertDeliveredOverTls(message, expected)),
  toBeDeliveredInPlaintext: wrap('toBeDeliveredInPlaintext', (message: DeliveredMessage) => assertDeliveredInPlaintext(message)),
  toHaveBeenAuthenticated: wrap('toHaveBeenAuthenticated', (message: DeliveredMessage, expected?: { mechanism?: string; username?: string }) =>
    assertAuthenticated(message, expected),
  ),
  toHaveRecipient: wrap('toHaveRecipient', assertRecipient),
  toHaveSender: wrap('toHaveSender', assertSender),
  toHaveSubject: wrap('toHaveSubject', assertSubject),
  toContainText: wrap('toContainText', assertContainsText),
  toContainLink: wrap('toContainLink', assertContainsLink),
  toHaveAttachment: wrap('toHaveAttachment', (message: DeliveredMessage, expected?: { filename?: string | RegExp; contentType?: string | RegExp }) =>
    assertAttachment(message, expected),
  ),
  toHaveHeader: wrap('toHaveHeader', assertHeader),
  toHaveFailedTls: wrap('toHaveFailedTls', (session: SmtpSession, expected?: { code?: string | RegExp }) => assertFailedTls(session, expected)),
  toHaveSentCredentialsOverTls: wrap('toHaveSentCredentialsOverTls', assertCredentialsSentOverTls),
  toHavePresentedClientCertificate: wrap('toHavePresentedClientCertificate', assertClientCertificate),
  toPassDkim: wrapAsync('toPassDkim', (message: AuthenticatedMessage, expected?: DkimPassExpectation) => assertPassesDkim(message, expected)),
  toFailDkim: wrapAsync('toFailDkim', (message: AuthenticatedMessage, expected?: DkimFailExpectation) => assertFailsDkim(message, expected)),
  toPassSpf: wrapAsync('toPassSpf', (message: AuthenticatedMessage, expected?: SpfPassExpectation) => assertPassesSpf(message, expected)),
  toPassDmarc: wrapAsync('toPassDmarc', (message: AuthenticatedMessage, expected?: DmarcPassExpectation) => assertPassesDmarc(message, expected)),
  toHaveBeenRetried: wrapAsync('toHaveBeenRetried', (message: RetriedMessage, expected?: RetryExpectation) => assertRetried(message, expected)),
  toHaveArrivedOnce: wrapAsync('toHaveArrivedOnce', (message: RetriedMessage) => assertArrivedOnce(message)),
  toBeEncrypted: wrapAsync('toBeEncrypted', (message: ProtectedMessage, expected?: EncryptedExpectation) => assertEncrypted(message, expected)),
  toBeSigned: wrapAsync('toBeSigned', (message: ProtectedMessage, expected?: SignedExpectation) => assertSigned(message, expected)),
  toBeSignedThenEncrypted: wrapAsync('toBeSignedThenEncrypted', (message: ProtectedMessage, expected?: ProtectionWaitOptions) =>
    assertSignedThenEncrypted(message, expected),
  ),
  async toHaveNoDelivery(this: MatcherState, received: DeliveryTarget) {
    try {
      await assertNoDelivery(received);
      return { pass: true, message: () => 'Expected a delivery (with .not), but nothing arrived.' };
    } catch (error) {
      if (!(error instanceof AssertionError)) throw error;
      return { pass: false, message: () => error.message };
    }
  },
});

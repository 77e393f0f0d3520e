import { completeRecordOf, fail, label, show, type LateRecordSource } from './assertion-support.js';
import type { AttachmentSummary, AuthInfo, Authentication, CapturedMessage, DkimVerdict, Envelope, SmtpSession, TlsInfo, Verdict } from '@mailwright/core';

const TLS_ORDER = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** What a delivery assertion looks at: a captured message (or its detail). */
export interface DeliveredMessage {
  seq?: number;
  subject: string;
  envelope: Envelope;
  tls: TlsInfo;
  auth: AuthInfo | null;
  from: CapturedMessage['from'];
  to: CapturedMessage['to'];
  cc: CapturedMessage['cc'];
  attachments: AttachmentSummary[];
  snippet: string;
  text?: string | null;
  html?: string | null;
  headers?: Record<string, string[]>;
  /** The links the server found in the bodies: a message detail's `links`, or a received message's `links()`. */
  links?: readonly string[] | (() => string[]);
}

/** Expectations of `assertDeliveredOverTls`. */
export interface TlsExpectation {
  /** `starttls`, `implicit`, or `any` TLS (default). */
  mode?: 'starttls' | 'implicit' | 'any';
  /** Lowest acceptable protocol, e.g. `TLSv1.2`. */
  minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** Highest acceptable protocol. */
  maxVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
  /** Cipher name (OpenSSL or IANA standard name), or a pattern for either. */
  cipher?: string | RegExp;
}

function tlsRecord(tls: TlsInfo): Record<string, unknown> {
  return { mode: tls.mode, protocol: tls.protocol, cipher: tls.cipher?.standardName ?? null, starttlsOffered: tls.starttlsOffered, servername: tls.servername };
}

/** Whether a pattern matches, from the start of the value whatever it matched before (`g`/`y` keep a lastIndex). */
function testPattern(pattern: RegExp, value: string): boolean {
  pattern.lastIndex = 0;
  return pattern.test(value);
}

function matchesText(value: string, expected: string | RegExp): boolean {
  return typeof expected === 'string' ? value === expected : testPattern(expected, value);
}

/** Asserts the message travelled over TLS, with the given mode, version window and cipher. */
export function assertDeliveredOverTls(message: DeliveredMessage, expected: TlsExpectation = {}): void {
  const { tls } = message;
  const want = {
    mode: expected.mode ?? 'any',
    ...(expected.minVersion ? { minVersion: expected.minVersion } : {}),
    ...(expected.maxVersion ? { maxVersion: expected.maxVersion } : {}),
    ...(expected.cipher ? { cipher: expected.cipher } : {}),
  };
  const problems: string[] = [];
  if (tls.mode === 'none') problems.push('it was delivered in plaintext');
  else if (expected.mode && expected.mode !== 'any' && tls.mode !== expected.mode) problems.push(`it used ${tls.mode} instead of ${expected.mode}`);
  const version = TLS_ORDER.indexOf(tls.protocol ?? '');
  // A protocol outside the known order (or none recorded) cannot be shown to lie in the window.
  if (tls.mode !== 'none' && (expected.minVersion || expected.maxVersion) && version === -1)
    problems.push(tls.protocol === null ? 'its protocol is unknown' : `its protocol ${tls.protocol} is unknown`);
  if (tls.mode !== 'none' && version !== -1 && expected.minVersion && version < TLS_ORDER.indexOf(expected.minVersion))
    problems.push(`${tls.protocol} is below ${expected.minVersion}`);
  if (tls.mode !== 'none' && version !== -1 && expected.maxVersion && version > TLS_ORDER.indexOf(expected.maxVersion))
    problems.push(`${tls.protocol} is above ${expected.maxVersion}`);
  if (tls.mode !== 'none' && expected.cipher) {
    const names = [tls.cipher?.name ?? '', tls.cipher?.standardName ?? ''];
    if (!names.some((name) => matchesText(name, expected.cipher as string | RegExp)))
      problems.push(`cipher ${tls.cipher?.standardName ?? 'none'} does not match ${String(expected.cipher)}`);
  }
  if (problems.length > 0) fail(`Expected ${label(message)} to be delivered over TLS, but ${problems.join(', ')}.`, want, tlsRecord(tls), 'deliveredOverTls');
}

/** Asserts the message travelled without TLS. */
export function assertDeliveredInPlaintext(message: DeliveredMessage): void {
  if (message.tls.mode !== 'none')
    fail(
      `Expected ${label(message)} to be delivered in plaintext, but it used ${message.tls.mode} ${message.tls.protocol ?? ''}.`,
      { mode: 'none' },
      tlsRecord(message.tls),
      'deliveredInPlaintext',
    );
}

/** Asserts the session that carried the message authenticated, optionally with a mechanism and username. */
export function assertAuthenticated(message: DeliveredMessage, expected: { mechanism?: string; username?: string } = {}): void {
  const { auth } = message;
  const ok =
    auth !== null &&
    (expected.mechanism === undefined || auth.mechanism.toUpperCase() === expected.mechanism.toUpperCase()) &&
    (expected.username === undefined || auth.username === expected.username);
  const wanted = [
    expected.mechanism === undefined ? '' : ` with ${expected.mechanism}`,
    expected.username === undefined ? '' : ` as "${expected.username}"`,
  ].join('');
  if (!ok)
    fail(
      `Expected ${label(message)} to be sent by ${wanted === '' ? 'an authenticated client' : `a client authenticated${wanted}`}, but ${
        auth === null ? 'the client did not authenticate' : `it used ${auth.mechanism} as "${auth.username}"`
      }.`,
      { mechanism: expected.mechanism ?? 'any', username: expected.username ?? 'any' },
      auth,
      'authenticated',
    );
}

function allRecipients(message: DeliveredMessage): string[] {
  return [...new Set([...message.envelope.rcptTo, ...message.to.map((a) => a.address), ...message.cc.map((a) => a.address)].map((a) => a.toLowerCase()))];
}

/** Asserts the address received the message: envelope recipient (Bcc too), To or Cc. */
export function assertRecipient(message: DeliveredMessage, address: string): void {
  const recipients = allRecipients(message);
  if (!recipients.includes(address.toLowerCase())) fail(`Expected ${label(message)} to have recipient ${address}.`, address, recipients, 'recipient');
}

/** Asserts the sender: the From address or the envelope sender. */
export function assertSender(message: DeliveredMessage, address: string): void {
  const senders = [message.from?.address ?? null, message.envelope.mailFrom].filter((a): a is string => a !== null && a !== '');
  if (!senders.some((sender) => sender.toLowerCase() === address.toLowerCase()))
    fail(`Expected ${label(message)} to be sent by ${address}.`, address, senders, 'sender');
}

/** Asserts the subject equals a string or matches a pattern. */
export function assertSubject(message: DeliveredMessage, expected: string | RegExp): void {
  if (!matchesText(message.subject, expected))
    fail(`Expected ${label(message)} to have the subject ${String(expected)}.`, expected, message.subject, 'subject');
}

function bodyText(message: DeliveredMessage): string {
  const html = message.html ? message.html.replace(/<[^>]*>/g, ' ') : '';
  // A summary (from a list) carries no bodies: its snippet is all there is to search.
  return [message.text ?? '', html].filter((part) => part !== '').join('\n') || message.snippet;
}

/** Asserts the text (or HTML) body contains a string or matches a pattern. */
export function assertContainsText(message: DeliveredMessage, expected: string | RegExp): void {
  const body = bodyText(message);
  const ok = typeof expected === 'string' ? body.includes(expected) : testPattern(expected, body);
  if (!ok)
    fail(
      `Expected the body of ${label(message)} to contain ${String(expected)}.`,
      expected,
      body.length > 500 ? `${body.slice(0, 500)}…` : body,
      'containsText',
    );
}

/** Asserts the message links to a URL containing a string or matching a pattern; returns the first such link. */
export function assertContainsLink(message: DeliveredMessage, pattern: string | RegExp): string {
  // A summary (from a list) carries no bodies, so no links.
  const links = typeof message.links === 'function' ? message.links() : [...(message.links ?? [])];
  const found = links.find((link) => (typeof pattern === 'string' ? link.includes(pattern) : testPattern(pattern, link)));
  if (found === undefined) fail(`Expected ${label(message)} to contain a link matching ${String(pattern)}.`, pattern, links, 'containsLink');
  return found;
}

/** Asserts an attachment with the given filename and/or content type. */
export function assertAttachment(message: DeliveredMessage, expected: { filename?: string | RegExp; contentType?: string | RegExp } = {}): void {
  const found = message.attachments.some(
    (attachment) =>
      (expected.filename === undefined || (attachment.filename !== null && matchesText(attachment.filename, expected.filename))) &&
      (expected.contentType === undefined || matchesText(attachment.contentType, expected.contentType)),
  );
  if (!found)
    fail(
      `Expected ${label(message)} to have an attachment like ${show(expected)}.`,
      expected,
      message.attachments.map(({ filename, contentType, size }) => ({ filename, contentType, size })),
      'attachment',
    );
}

/** Asserts a header is present, optionally with a value (string equality or pattern). Needs the message detail. */
export function assertHeader(message: DeliveredMessage, name: string, value?: string | RegExp): void {
  if (!message.headers)
    fail(`Cannot check headers of ${label(message)}: it carries no headers (use a message from waitForMessage or messages.get).`, name, null, 'header');
  const values = message.headers[name.toLowerCase()] ?? [];
  const ok = value === undefined ? values.length > 0 : values.some((candidate) => matchesText(candidate, value));
  if (!ok)
    fail(
      `Expected ${label(message)} to have header ${name}${value === undefined ? '' : ` ${String(value)}`}.`,
      { [name]: value ?? 'present' },
      { [name]: values },
      'header',
    );
}

/** Asserts the session failed at the TLS stage, optionally with a code such as `certificate_expired`. */
export function assertFailedTls(session: SmtpSession, expected: { code?: string | RegExp } = {}): void {
  const { error } = session;
  const ok = error !== null && error.stage === 'tls' && (expected.code === undefined || matchesText(error.code, expected.code));
  const why =
    error === null ? 'it did not fail' : error.stage !== 'tls' ? `it failed at the ${error.stage} stage (${error.code})` : `it failed with ${error.code}`;
  if (!ok)
    fail(
      `Expected session ${session.id} on ${session.listener} to fail its TLS handshake${expected.code === undefined ? '' : ` with ${String(expected.code)}`}, but ${why}.`,
      { stage: 'tls', code: expected.code ?? 'any' },
      { error, tls: tlsRecord(session.tls), messages: session.messageIds.length },
      'failedTls',
    );
}

/** Asserts credentials were never sent on a plaintext connection. */
export function assertCredentialsSentOverTls(session: SmtpSession): void {
  if (session.auth === null && !session.authBeforeTls)
    fail(
      `Expected session ${session.id} to authenticate over TLS, but it did not authenticate.`,
      { authBeforeTls: false, auth: 'present' },
      { authBeforeTls: session.authBeforeTls, auth: null },
      'credentialsOverTls',
    );
  if (session.authBeforeTls)
    fail(
      `Expected session ${session.id} to send credentials over TLS, but they were sent in plaintext.`,
      { authBeforeTls: false },
      { authBeforeTls: true, tls: tlsRecord(session.tls) },
      'credentialsOverTls',
    );
}

/** Asserts a client certificate was presented, optionally with a subject (substring or pattern). */
export function assertClientCertificate(
  subject: { tls: TlsInfo; id?: string; subject?: string },
  expected: { subject?: string | RegExp; authorized?: boolean } = {},
): void {
  const certificate = subject.tls.clientCertificate;
  const ok =
    certificate !== null &&
    (expected.subject === undefined ||
      (typeof expected.subject === 'string' ? certificate.subject.includes(expected.subject) : expected.subject.test(certificate.subject))) &&
    (expected.authorized === undefined || certificate.authorized === expected.authorized);
  const wanted =
    expected.subject === undefined && expected.authorized === undefined
      ? 'a client certificate to have been presented'
      : `${expected.authorized === undefined ? 'a' : expected.authorized ? 'an authorized' : 'an unauthorized'} client certificate${
          expected.subject === undefined ? '' : ` with subject ${String(expected.subject)}`
        }`;
  if (!ok)
    fail(
      `Expected ${wanted}, but ${
        certificate === null ? 'none was' : `the one presented was ${certificate.subject} (${certificate.authorized ? 'authorized' : 'unauthorized'})`
      }.`,
      { subject: expected.subject ?? 'any', authorized: expected.authorized ?? 'any' },
      certificate,
      'clientCertificate',
    );
}

/** Asserts a list of messages is empty: nothing was delivered. */
export function assertNoMessages(messages: readonly CapturedMessage[], where: string): void {
  if (messages.length > 0)
    fail(
      `Expected no delivery on ${where}, but ${messages.length} message(s) arrived.`,
      [],
      messages.map((m) => ({ seq: m.seq, subject: m.subject, to: m.envelope.rcptTo, tls: m.tls.mode })),
      'noDelivery',
    );
}

/** Something that can list what it received: a runtime listener or an inbox. */
export interface DeliveryTarget {
  readonly name?: string;
  readonly address?: string;
  messages(): Promise<CapturedMessage[]>;
}

/** Asserts nothing was delivered to a listener (or inbox). */
export async function assertNoDelivery(target: DeliveryTarget): Promise<void> {
  assertNoMessages(await target.messages(), target.name !== undefined ? `listener ${target.name}` : `inbox ${target.address ?? ''}`);
}

/**
 * What an authentication assertion looks at: a message detail with its `authentication` record
 * (from `waitForMessage` or `messages.get`). While the verdicts are still being computed, a
 * received message's `waitForAuthentication()` is used to wait for them.
 */
export interface AuthenticatedMessage {
  seq?: number;
  subject: string;
  authentication?: Authentication | { status: Authentication['status'] } | null;
  waitForAuthentication?: (options?: { timeout?: number }) => Promise<Authentication>;
}

/** Options common to the authentication assertions. */
export interface VerdictWaitOptions {
  /** How long to wait for verdicts still being computed, in ms. Default 5000. */
  timeout?: number;
}

/** Expectations of `assertPassesDkim`: a passing signature, optionally of this domain (`d=`) and selector (`s=`). */
export interface DkimPassExpectation extends VerdictWaitOptions {
  domain?: string;
  selector?: string;
}

/** Expectations of `assertFailsDkim`: signatures that do not verify, optionally with this result and reason. */
export interface DkimFailExpectation extends VerdictWaitOptions {
  /** Only the signatures of this domain (`d=`). */
  domain?: string;
  /** Only the signatures with this selector (`s=`). */
  selector?: string;
  /** The result, e.g. `fail`, `permerror`; default: anything but `pass`. */
  result?: Exclude<Verdict, 'pass'>;
  /** A substring of (or a pattern for) the reason of a failing signature. */
  reason?: string | RegExp;
}

/** Expectations of `assertPassesSpf`. */
export interface SpfPassExpectation extends VerdictWaitOptions {
  /** The MAIL FROM domain SPF was evaluated for. */
  domain?: string;
}

/** Expectations of `assertPassesDmarc`. */
export interface DmarcPassExpectation extends VerdictWaitOptions {
  /** The From domain. */
  domain?: string;
}

function isComplete(authentication: unknown): authentication is Authentication {
  return (authentication as Authentication | null | undefined)?.status === 'done' && Array.isArray((authentication as Authentication).dkim);
}

/** The message's computed verdicts, waiting (bounded) for them when they are still pending. */
function verdictsOf(message: AuthenticatedMessage, check: string, options: VerdictWaitOptions): Promise<Authentication> {
  const source: LateRecordSource<Authentication> = {
    record: message.authentication,
    isComplete,
    says: {
      summaryOnly: 'it carries verdicts only',
      pending: 'its verdicts are still pending',
      missing: 'it carries no authentication record',
      waits: 'waits for them',
    },
    ...(message.waitForAuthentication ? { wait: message.waitForAuthentication } : {}),
  };
  return completeRecordOf(message, check, source, options.timeout);
}

function describeSignature(signature: DkimVerdict): string {
  return `d=${signature.domain || '(none)'} s=${signature.selector || '(none)'} ${signature.result}${signature.reason ? ` (${signature.reason})` : ''}`;
}

function signatureRecord(signature: DkimVerdict): Record<string, unknown> {
  return { result: signature.result, domain: signature.domain, selector: signature.selector, algorithm: signature.algorithm, reason: signature.reason };
}

function sameName(actual: string, expected: string | undefined): boolean {
  return expected === undefined || actual.toLowerCase() === expected.toLowerCase().replace(/\.$/, '');
}

function selected(dkim: DkimVerdict[], expected: { domain?: string; selector?: string }): DkimVerdict[] {
  return dkim.filter((signature) => sameName(signature.domain, expected.domain) && sameName(signature.selector, expected.selector));
}

function whose(expected: { domain?: string; selector?: string }): string {
  return [expected.domain === undefined ? '' : ` d=${expected.domain}`, expected.selector === undefined ? '' : ` s=${expected.selector}`].join('');
}

/**
 * Asserts the message carries a DKIM signature that verifies (`pass`), optionally of the given
 * domain and selector. Waits for verdicts still being computed.
 */
export async function assertPassesDkim(message: AuthenticatedMessage, expected: DkimPassExpectation = {}): Promise<void> {
  const { dkim } = await verdictsOf(message, 'DKIM', expected);
  const candidates = selected(dkim, expected);
  if (candidates.some((signature) => signature.result === 'pass')) return;
  const why =
    dkim.length === 0
      ? 'it carries no DKIM signature'
      : candidates.length === 0
        ? `it carries no signature${whose(expected)}, only ${dkim.map(describeSignature).join('; ')}`
        : candidates.length === 1
          ? `its signature ${describeSignature(candidates[0] as DkimVerdict)}`
          : `its signatures are ${candidates.map(describeSignature).join('; ')}`;
  fail(
    `Expected ${label(message)} to pass DKIM${whose(expected) === '' ? '' : ` with a signature${whose(expected)}`}, but ${why}.`,
    { result: 'pass', domain: expected.domain ?? 'any', selector: expected.selector ?? 'any' },
    dkim.map(signatureRecord),
    'passesDkim',
  );
}

/**
 * Asserts the message carries DKIM signatures (optionally of a domain and selector) and none of
 * them verifies; with `result` and `reason`, one of them failed that way.
 */
export async function assertFailsDkim(message: AuthenticatedMessage, expected: DkimFailExpectation = {}): Promise<void> {
  const { dkim } = await verdictsOf(message, 'DKIM', expected);
  const candidates = selected(dkim, expected);
  const passing = candidates.filter((signature) => signature.result === 'pass');
  const matching = candidates.filter(
    (signature) =>
      signature.result !== 'pass' &&
      (expected.result === undefined || signature.result === expected.result) &&
      (expected.reason === undefined ||
        (signature.reason !== null &&
          (typeof expected.reason === 'string' ? signature.reason.includes(expected.reason) : testPattern(expected.reason, signature.reason)))),
  );
  if (passing.length === 0 && matching.length > 0) return;
  const wanted = [
    expected.result === undefined ? '' : ` with ${expected.result}`,
    expected.reason === undefined ? '' : ` because ${String(expected.reason)}`,
  ].join('');
  const why =
    dkim.length === 0
      ? 'it carries no DKIM signature'
      : candidates.length === 0
        ? `it carries no signature${whose(expected)}, only ${dkim.map(describeSignature).join('; ')}`
        : passing.length > 0
          ? `${passing.length === 1 ? 'its signature' : 'signatures'} ${passing.map(describeSignature).join('; ')}`
          : `${candidates.length === 1 ? 'its signature is' : 'its signatures are'} ${candidates.map(describeSignature).join('; ')}`;
  fail(
    `Expected ${label(message)} to fail DKIM${whose(expected) === '' ? '' : ` for${whose(expected)}`}${wanted}, but ${why}.`,
    { result: expected.result ?? 'not pass', reason: expected.reason ?? 'any', domain: expected.domain ?? 'any', selector: expected.selector ?? 'any' },
    dkim.map(signatureRecord),
    'failsDkim',
  );
}

/** Asserts SPF passes for the MAIL FROM identity (optionally of the given domain). Waits for verdicts still being computed. */
export async function assertPassesSpf(message: AuthenticatedMessage, expected: SpfPassExpectation = {}): Promise<void> {
  const { spf, clientIp } = await verdictsOf(message, 'SPF', expected);
  if (spf.result === 'pass' && sameName(spf.domain, expected.domain)) return;
  const why =
    spf.result === 'pass'
      ? `SPF was evaluated for ${spf.domain}`
      : `SPF for ${spf.domain || '(no domain)'} from ${spf.clientIp} is ${spf.result}${spf.mechanism ? ` (matched ${spf.mechanism})` : ''}${spf.reason ? `: ${spf.reason}` : ''}`;
  fail(
    `Expected ${label(message)} to pass SPF${expected.domain === undefined ? '' : ` for ${expected.domain}`}, but ${why}.`,
    { result: 'pass', domain: expected.domain ?? 'any' },
    {
      result: spf.result,
      domain: spf.domain,
      clientIp: spf.clientIp,
      clientIpSource: clientIp.source,
      mechanism: spf.mechanism,
      record: spf.record,
      reason: spf.reason,
    },
    'passesSpf',
  );
}

/** Asserts DMARC passes for the From domain (optionally the given one). Waits for verdicts still being computed. */
export async function assertPassesDmarc(message: AuthenticatedMessage, expected: DmarcPassExpectation = {}): Promise<void> {
  const { dmarc } = await verdictsOf(message, 'DMARC', expected);
  if (dmarc.result === 'pass' && sameName(dmarc.domain, expected.domain)) return;
  const alignment = `SPF ${dmarc.spfAligned ? 'aligned' : 'not aligned'}, DKIM ${dmarc.dkimAligned ? 'aligned' : 'not aligned'}`;
  const why =
    dmarc.result === 'pass'
      ? `DMARC was evaluated for ${dmarc.domain}`
      : `DMARC for ${dmarc.domain || '(no From domain)'} is ${dmarc.result}${dmarc.policy ? ` (p=${dmarc.policy}, ${alignment})` : ''}${dmarc.reason ? `: ${dmarc.reason}` : ''}`;
  fail(
    `Expected ${label(message)} to pass DMARC${expected.domain === undefined ? '' : ` for ${expected.domain}`}, but ${why}.`,
    { result: 'pass', domain: expected.domain ?? 'any' },
    {
      result: dmarc.result,
      domain: dmarc.domain,
      policy: dmarc.policy,
      spfAligned: dmarc.spfAligned,
      dkimAligned: dmarc.dkimAligned,
      record: dmarc.record,
      reason: dmarc.reason,
    },
    'passesDmarc',
  );
}

import { z } from 'zod';
import { RE2JS } from 're2js';
import type { CapturedMessage } from './captured-message.js';
import { VerdictSchema, summarizeAuthentication } from './authentication.js';
import { ErrorCode, MailwrightError } from './error-codes.js';

/** Longest filter value, in characters. */
export const MAX_PATTERN_LENGTH = 1000;
/**
 * Largest compiled `re:` program, in RE2 instructions. Matching is linear in the subject's
 * length times this, so it bounds the work one filter can cost per message.
 */
export const MAX_PATTERN_INSTRUCTIONS = 1000;
/**
 * Work one `re:` test may cost, in program instructions times characters: a value is tested
 * up to its first `REGEX_WORK_BUDGET / instructions` characters (16 Mi for a simple pattern,
 * about 67,000 for the largest), so that one test stays within tens of milliseconds.
 */
export const REGEX_WORK_BUDGET = 2 ** 26;

/** A full address: a local part and a domain, without spaces or angle brackets. */
const FULL_ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/;

const pattern = z.string().min(1).max(MAX_PATTERN_LENGTH);

/**
 * Which messages to match. Every field is optional; fields combine with AND.
 * Text fields match a case-insensitive substring, or a regular expression with the
 * `re:` prefix (`re:^Reset` or `re:/^reset/i`). A full address in `to` or `from`
 * (`b@example.test`) matches that address exactly, case-insensitively; a partial one
 * (`example.test`, `@example.test`, `b@`) is a substring. Regular expressions run on a
 * linear-time engine (RE2 syntax: no backreferences or lookaround).
 */
export const MessageFilterSchema = z
  .object({
    /** Envelope recipients (so Bcc'd mail is found) and To/Cc header addresses. */
    to: pattern.optional(),
    /** Envelope sender and the From header. */
    from: pattern.optional(),
    subject: pattern.optional(),
    /** The subject and the text body. */
    text: pattern.optional(),
    /** How the message travelled; `any` = over TLS of either kind. */
    tls: z.enum(['none', 'starttls', 'implicit', 'any']).optional(),
    tag: z.string().min(1).optional(),
    listener: z.string().min(1).optional(),
    /** The message's DKIM verdict (its best signature's; `none` when unsigned). A message whose verdicts are pending matches no verdict. */
    dkim: VerdictSchema.optional(),
    /** The SPF verdict of the MAIL FROM identity. */
    spf: VerdictSchema.optional(),
    /** The DMARC verdict. */
    dmarc: VerdictSchema.optional(),
    /** End-to-end encrypted (S/MIME or OpenPGP) or not. A message whose protection is pending matches neither. */
    encrypted: z.enum(['true', 'false']).optional(),
    /** Signed end to end (S/MIME or OpenPGP) or not. */
    signed: z.enum(['true', 'false']).optional(),
    /** The protection technology: `smime`, or `pgp` (PGP/MIME or inline PGP). */
    protection: z.enum(['smime', 'pgp']).optional(),
  })
  .strict();
export type MessageFilter = z.infer<typeof MessageFilterSchema>;

/** The names of the filter fields, e.g. to pick them out of a query string. */
export const MESSAGE_FILTER_FIELDS = Object.keys(MessageFilterSchema.shape) as (keyof MessageFilter)[];

/** What a filter is matched against: the message, and its text body when known. */
export interface FilterSubject {
  message: CapturedMessage;
  /** The decoded text body; when absent, `text` matches the snippet. */
  text?: string | null;
}

/** A compiled filter: build once, match many. */
export type MessageMatcher = (subject: FilterSubject) => boolean;

type StringTest = (value: string) => boolean;

function invalidPattern(field: string, body: string, reason: string, cause?: unknown): MailwrightError {
  return new MailwrightError(ErrorCode.INVALID_FILTER, `Filter "${field}": cannot use regular expression ${JSON.stringify(body)}: ${reason}`, {
    cause,
    statusCode: 400,
  });
}

/** JavaScript-style flags mapped onto RE2's; `g`, `y`, `d`, `u` and `v` change nothing for a test. */
function re2Flags(field: string, body: string, flags: string): number {
  let result = 0;
  for (const flag of flags) {
    if (flag === 'i') result |= RE2JS.CASE_INSENSITIVE;
    else if (flag === 's') result |= RE2JS.DOTALL;
    else if (flag === 'm') result |= RE2JS.MULTILINE;
    else if (!'gyduv'.includes(flag)) throw invalidPattern(field, body, `unknown flag "${flag}"`);
  }
  return result;
}

/**
 * A regular expression on RE2's linear-time engine: no pattern can make matching
 * backtrack (`(a+)+$` costs as little as `a+`). Features RE2 lacks (backreferences,
 * lookaround) and programs over {@link MAX_PATTERN_INSTRUCTIONS} are refused.
 */
function compileRegex(field: string, body: string): StringTest {
  const literal = /^\/(.*)\/([a-z]*)$/s.exec(body);
  const source = literal ? (literal[1] ?? '') : body;
  const flags = literal ? re2Flags(field, body, literal[2] ?? '') : 0;
  let regex: RE2JS;
  try {
    // JavaScript escapes such as \u00e9 and [^] become their RE2 spelling first.
    regex = RE2JS.compile(RE2JS.translateRegExp(source), flags);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message.replace(/^error parsing regexp: /, '') : 'invalid';
    throw invalidPattern(field, body, `${reason} (RE2 syntax: no backreferences or lookaround)`, cause);
  }
  const size = regex.re2().numberOfInstructions() as number;
  if (size > MAX_PATTERN_INSTRUCTIONS) throw invalidPattern(field, body, `too complex (${size} instructions, at most ${MAX_PATTERN_INSTRUCTIONS})`);
  const maxChars = Math.floor(REGEX_WORK_BUDGET / Math.max(size, 1));
  return (value) => regex.test(value.length > maxChars ? value.slice(0, maxChars) : value);
}

function compilePattern(field: string, source: string): StringTest {
  if (source.startsWith('re:')) return compileRegex(field, source.slice(3));
  const needle = source.toLowerCase();
  return (value) => value.toLowerCase().includes(needle);
}

/** Whether a pattern names one full address, which `to`/`from` match exactly. */
function isFullAddress(pattern: string): boolean {
  return !pattern.startsWith('re:') && FULL_ADDRESS.test(pattern);
}

/**
 * An address pattern: a full address (`b@example.test`) equals one address, ignoring case,
 * so that `b@example.test` never finds mail for `ab@example.test`; anything else is a
 * {@link compilePattern} and also tests display names.
 */
function compileAddressPattern(field: string, source: string): { address: StringTest; name: StringTest | null } {
  if (isFullAddress(source)) {
    const wanted = source.toLowerCase();
    return { address: (value) => value.toLowerCase() === wanted, name: null };
  }
  const test = compilePattern(field, source);
  return { address: test, name: test };
}

/** Whether a filter has no criteria at all. */
export function isEmptyFilter(filter: MessageFilter): boolean {
  return MESSAGE_FILTER_FIELDS.every((field) => filter[field] === undefined);
}

/**
 * Compiles a filter into a matching function. Throws a `MailwrightError` with code
 * `INVALID_FILTER` when a field does not validate or a regular expression does not compile.
 */
export function compileFilter(input: MessageFilter): MessageMatcher {
  const parsed = MessageFilterSchema.safeParse(input);
  if (!parsed.success) {
    throw new MailwrightError(
      ErrorCode.INVALID_FILTER,
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'filter'}: ${issue.message}`).join('; '),
      { statusCode: 400, details: parsed.error.issues },
    );
  }
  const filter = parsed.data;
  const tests: ((subject: FilterSubject) => boolean)[] = [];
  if (filter.to !== undefined) {
    const test = compileAddressPattern('to', filter.to);
    const matches = (a: { name: string; address: string }): boolean => test.address(a.address) || (test.name !== null && a.name !== '' && test.name(a.name));
    tests.push(({ message }) => message.envelope.rcptTo.some(test.address) || message.to.some(matches) || message.cc.some(matches));
  }
  if (filter.from !== undefined) {
    const test = compileAddressPattern('from', filter.from);
    const name = test.name;
    tests.push(
      ({ message }) =>
        test.address(message.envelope.mailFrom) ||
        (message.from !== null && (test.address(message.from.address) || (name !== null && message.from.name !== '' && name(message.from.name)))),
    );
  }
  if (filter.subject !== undefined) {
    const test = compilePattern('subject', filter.subject);
    tests.push(({ message }) => test(message.subject));
  }
  if (filter.text !== undefined) {
    const test = compilePattern('text', filter.text);
    tests.push(({ message, text }) => test(message.subject) || test(text ?? message.snippet));
  }
  if (filter.tls !== undefined) {
    const mode = filter.tls;
    tests.push(({ message }) => (mode === 'any' ? message.tls.mode !== 'none' : message.tls.mode === mode));
  }
  if (filter.tag !== undefined) {
    const tag = filter.tag;
    tests.push(({ message }) => message.tags.includes(tag));
  }
  if (filter.listener !== undefined) {
    const listener = filter.listener;
    tests.push(({ message }) => message.listener === listener);
  }
  for (const field of ['dkim', 'spf', 'dmarc'] as const) {
    const verdict = filter[field];
    if (verdict !== undefined)
      tests.push(({ message }) => message.authentication?.status === 'done' && summarizeAuthentication(message.authentication)[field] === verdict);
  }
  for (const field of ['encrypted', 'signed'] as const) {
    const wanted = filter[field];
    if (wanted !== undefined) tests.push(({ message }) => message.protection?.status === 'done' && message.protection[field] === (wanted === 'true'));
  }
  if (filter.protection !== undefined) {
    const technology = filter.protection;
    tests.push(
      ({ message }) =>
        message.protection?.status === 'done' && (technology === 'smime' ? message.protection.kind === 'smime' : message.protection.kind.startsWith('pgp')),
    );
  }
  return (subject) => tests.every((test) => test(subject));
}

/**
 * Whether a filter asks for a verdict (`dkim`, `spf`, `dmarc`) or for end-to-end protection
 * (`encrypted`, `signed`, `protection`): such a filter matches a message only once that record is done.
 */
export function hasVerdictFilter(filter: MessageFilter | undefined): boolean {
  return (
    filter !== undefined &&
    (filter.dkim !== undefined ||
      filter.spf !== undefined ||
      filter.dmarc !== undefined ||
      filter.encrypted !== undefined ||
      filter.signed !== undefined ||
      filter.protection !== undefined)
  );
}

/** Whether one message matches a filter (compiles it each call; use {@link compileFilter} for many). */
export function matchesFilter(message: CapturedMessage, filter: MessageFilter, text?: string | null): boolean {
  return compileFilter(filter)({ message, text });
}

/**
 * Picks the filter fields out of a flat record such as a parsed query string, ignoring
 * other keys. Repeated values (arrays) keep the last one.
 */
export function pickFilter(record: Record<string, unknown>): MessageFilter {
  const filter: Record<string, string> = {};
  for (const field of MESSAGE_FILTER_FIELDS) {
    const value = record[field];
    const last = Array.isArray(value) ? value[value.length - 1] : value;
    if (typeof last === 'string' && last !== '') filter[field] = last;
  }
  return filter as MessageFilter;
}

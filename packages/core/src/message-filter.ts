import { z } from 'zod';
import type { CapturedMessage } from './captured-message.js';
import { ErrorCode, MailwrightError } from './error-codes.js';

const MAX_PATTERN_LENGTH = 1000;

const pattern = z.string().min(1).max(MAX_PATTERN_LENGTH);

/**
 * Which messages to match. Every field is optional; fields combine with AND.
 * Text fields match a case-insensitive substring, or a regular expression with the
 * `re:` prefix (`re:^Reset` or `re:/^reset/i`).
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

function compilePattern(field: string, source: string): StringTest {
  if (source.startsWith('re:')) {
    const body = source.slice(3);
    const literal = /^\/(.*)\/([dgimsuvy]*)$/s.exec(body);
    try {
      const regex = literal ? new RegExp(literal[1] ?? '', (literal[2] ?? '').replace(/[gy]/g, '')) : new RegExp(body);
      return (value) => regex.test(value);
    } catch (cause) {
      throw new MailwrightError(ErrorCode.INVALID_FILTER, `Filter "${field}": invalid regular expression ${JSON.stringify(body)}`, {
        cause,
        statusCode: 400,
      });
    }
  }
  const needle = source.toLowerCase();
  return (value) => value.toLowerCase().includes(needle);
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
    const test = compilePattern('to', filter.to);
    tests.push(
      ({ message }) =>
        message.envelope.rcptTo.some(test) ||
        message.to.some((a) => test(a.address) || (a.name !== '' && test(a.name))) ||
        message.cc.some((a) => test(a.address) || (a.name !== '' && test(a.name))),
    );
  }
  if (filter.from !== undefined) {
    const test = compilePattern('from', filter.from);
    tests.push(
      ({ message }) =>
        test(message.envelope.mailFrom) || (message.from !== null && (test(message.from.address) || (message.from.name !== '' && test(message.from.name)))),
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
  return (subject) => tests.every((test) => test(subject));
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

import { ErrorCode, compileFilter, type Address, type CapturedMessage, type MessageFilter } from '@mailwright/core';
import { httpError } from '../http-error.js';

/** What a search term may ask about a message besides the message itself: the layer's read flags and tags. */
export interface SearchMarks {
  isRead(id: string): boolean;
  tagsOf(message: CapturedMessage): readonly string[];
}

/**
 * One term of a Mailpit search. A `body` term needs the store (it reads the text body): it
 * holds the store filter whose matches satisfy it, besides what `test` finds in the message.
 */
export interface SearchTerm {
  negated: boolean;
  test(message: CapturedMessage, marks: SearchMarks): boolean;
  body?: MessageFilter;
}

const MAX_QUERY_LENGTH = 4096;
const MAX_TERMS = 32;

/**
 * Splits a search the way Mailpit does: on spaces, with double-quoted stretches kept together
 * and their quotes removed (`subject:"two words"` is one term, `subject:two words`).
 */
export function splitSearch(query: string): string[] {
  const terms: string[] = [];
  let current = '';
  let quoted = false;
  let started = false;
  for (const character of query) {
    if (character === '"') {
      quoted = !quoted;
      started = true;
    } else if (/\s/.test(character) && !quoted) {
      if (started) terms.push(current);
      current = '';
      started = false;
    } else {
      current += character;
      started = true;
    }
  }
  if (started) terms.push(current);
  return terms.map((term) => term.trim()).filter((term) => term !== '');
}

/** A value the core filter takes as a plain substring (never as its `re:` regular expression). */
function literal(value: string): string {
  return value.startsWith('re:') ? `re:/${value.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')}/i` : value;
}

function includes(haystack: string, needle: string): boolean {
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

/** A full address equals one address (ignoring case); anything else is a substring of addresses and display names. */
function addressTest(value: string): (addresses: readonly Address[]) => boolean {
  if (/^[^\s@<>]+@[^\s@<>]+$/.test(value)) {
    const wanted = value.toLowerCase();
    return (addresses) => addresses.some((address) => address.address.toLowerCase() === wanted);
  }
  return (addresses) => addresses.some((address) => includes(address.address, value) || (address.name !== '' && includes(address.name, value)));
}

/** Recipients of the envelope that neither To nor Cc names: Mailpit lists them as Bcc. */
export function bccOf(message: CapturedMessage): Address[] {
  const named = new Set([...message.to, ...message.cc].map((address) => address.address.toLowerCase()));
  return message.envelope.rcptTo.filter((address) => !named.has(address.toLowerCase())).map((address) => ({ name: '', address }));
}

/** Attachments with a Content-ID are inline parts (Mailpit's `Inline`); the others are attachments. */
export function isInline(attachment: CapturedMessage['attachments'][number]): boolean {
  return attachment.contentId !== null;
}

function everyAddress(message: CapturedMessage): Address[] {
  return [...(message.from ? [message.from] : []), ...message.to, ...message.cc, ...bccOf(message), ...message.replyTo];
}

/** `2kb`, `4MB`, `1.5m`, `300` → bytes; 0 when not a size (Mailpit's sizeToBytes). */
function sizeToBytes(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s?([a-z]{1,2})?$/.exec(value.toLowerCase());
  if (!match) return 0;
  const number = Number(match[1]);
  const unit = match[2] ?? '';
  if (unit === '') return Math.floor(number);
  if (unit === 'k' || unit === 'kb') return Math.floor(number * 1024);
  if (unit === 'm' || unit === 'mb') return Math.floor(number * 1024 * 1024);
  return 0;
}

/** The offset of a time zone from UTC at an instant, in ms. */
function zoneOffsetMs(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(instant));
  const field = (type: string): number => Number(parts.find((part) => part.type === type)?.value ?? 0);
  return Date.UTC(field('year'), field('month') - 1, field('day'), field('hour'), field('minute'), field('second')) - Math.floor(instant / 1000) * 1000;
}

/** Whether a time zone name is one the runtime knows. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * A date of `before:`/`after:` as an instant: `2024-05-01`, `2024-05-01 13:45[:10]` or
 * `2024-05-01T13:45[:10]` are wall-clock times in `timeZone` (the server's own without one);
 * a time with `Z` or an offset, or anything else `Date.parse` reads, stands for itself.
 */
export function parseSearchDate(value: string, timeZone: string | undefined): number | null {
  const wall = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(value.trim());
  if (wall) {
    const [year, month, day, hour, minute, second] = wall.slice(1).map((part) => Number(part ?? 0)) as [number, number, number, number, number, number];
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
    if (timeZone === undefined) return new Date(year, month - 1, day, hour, minute, second).getTime();
    const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
    const first = asUtc - zoneOffsetMs(asUtc, timeZone);
    // Near a daylight-saving change the offset at the guess can differ from the offset at the result.
    return asUtc - zoneOffsetMs(first, timeZone);
  }
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? null : parsed;
}

function invalid(message: string): Error {
  return httpError(400, ErrorCode.INVALID_FILTER, message);
}

/** Compiles a core filter field once, keeping Mailpit's meaning of the value (a substring, or one exact full address). */
function coreTest(field: 'to' | 'from' | 'subject', value: string): (message: CapturedMessage) => boolean {
  const matcher = compileFilter({ [field]: literal(value) });
  return (message) => matcher({ message });
}

const FIELD_PREFIXES = [
  'to:',
  'from:',
  'cc:',
  'bcc:',
  'reply-to:',
  'addressed:',
  'subject:',
  'message-id:',
  'tag:',
  'after:',
  'before:',
  'larger:',
  'smaller:',
];

/**
 * Parses a Mailpit search (https://mailpit.axllent.org/docs/usage/search-filters/) into terms
 * that all have to hold. A term prefixed with `-` or `!` is negated. `to:`, `from:` (and `cc:`,
 * `bcc:`, `reply-to:`, `addressed:`) take a full address, which matches that address exactly,
 * or a partial term, which matches as a substring of addresses and names; `to:` uses
 * Mailwright's `to` filter, so it also finds Cc'd and Bcc'd mail (the envelope). A plain word
 * matches the subject, the text body or an address. `before:`/`after:` read dates in
 * `timeZone`. A term Mailpit ignores (no letter or digit in it) is ignored; an unreadable date
 * or size is refused with 400 `INVALID_FILTER`.
 */
export function parseMailpitSearch(query: string, timeZone?: string): SearchTerm[] {
  if (query.length > MAX_QUERY_LENGTH) throw invalid(`The search is longer than ${MAX_QUERY_LENGTH} characters`);
  if (timeZone !== undefined && !isTimeZone(timeZone)) throw invalid(`Unknown time zone "${timeZone}" (tz takes an IANA name such as Europe/Berlin)`);
  const terms: SearchTerm[] = [];
  for (let word of splitSearch(query)) {
    let negated = false;
    if (word.length > 1 && (word.startsWith('-') || word.startsWith('!'))) {
      negated = true;
      word = word.slice(1);
    }
    if (!/[a-zA-Z0-9]/.test(word)) continue;
    if (terms.length === MAX_TERMS) throw invalid(`A search has at most ${MAX_TERMS} terms`);
    const lower = word.toLowerCase();
    const prefix = FIELD_PREFIXES.find((candidate) => lower.startsWith(candidate));
    const value = prefix === undefined ? word : word.slice(prefix.length).trim();
    if (prefix !== undefined && value === '') continue;
    const term = (test: SearchTerm['test'], body?: MessageFilter): void => void terms.push({ negated, test, ...(body ? { body } : {}) });
    switch (prefix) {
      case 'to:':
      case 'from:':
      case 'subject:': {
        const test = coreTest(prefix.slice(0, -1) as 'to' | 'from' | 'subject', value);
        term((message) => test(message));
        break;
      }
      case 'cc:': {
        const test = addressTest(value);
        term((message) => test(message.cc));
        break;
      }
      case 'bcc:': {
        const test = addressTest(value);
        term((message) => test(bccOf(message)));
        break;
      }
      case 'reply-to:': {
        const test = addressTest(value);
        term((message) => test(message.replyTo));
        break;
      }
      case 'addressed:': {
        const test = addressTest(value);
        term((message) => test(everyAddress(message)));
        break;
      }
      case 'message-id:':
        term((message) => message.messageId !== null && includes(message.messageId, value));
        break;
      case 'tag:':
        term((message, marks) => marks.tagsOf(message).includes(value));
        break;
      case 'after:':
      case 'before:': {
        const at = parseSearchDate(value, timeZone);
        if (at === null) throw invalid(`Cannot read the date "${value}" of ${prefix} (use e.g. 2024-05-01, "2024-05-01 13:45" or 2024-05-01T13:45:00Z)`);
        term(prefix === 'after:' ? (message) => Date.parse(message.receivedAt) >= at : (message) => Date.parse(message.receivedAt) <= at);
        break;
      }
      case 'larger:':
      case 'smaller:': {
        const bytes = sizeToBytes(value);
        if (bytes <= 0) throw invalid(`Cannot read the size "${value}" of ${prefix} (use e.g. 300, 2kb or 1.5mb)`);
        term(prefix === 'larger:' ? (message) => message.size > bytes : (message) => message.size < bytes);
        break;
      }
      default:
        if (lower === 'is:read') term((message, marks) => marks.isRead(message.id));
        else if (lower === 'is:unread') term((message, marks) => !marks.isRead(message.id));
        else if (lower === 'is:tagged') term((message, marks) => marks.tagsOf(message).length > 0);
        else if (lower === 'has:attachment' || lower === 'has:attachments') term((message) => message.attachments.some((attachment) => !isInline(attachment)));
        else if (lower === 'has:inline' || lower === 'has:inlines') term((message) => message.attachments.some(isInline));
        else {
          // A word is matched in the subject and text body by the store, and in the addresses here.
          term(
            (message) =>
              everyAddress(message).some((address) => includes(address.address, word) || includes(address.name, word)) ||
              (message.messageId !== null && includes(message.messageId, word)),
            { text: literal(word) },
          );
        }
    }
  }
  return terms;
}

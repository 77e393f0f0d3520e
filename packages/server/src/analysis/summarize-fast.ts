import { isUtf8 } from 'node:buffer';
import libmime, { type ParsedHeaderValue } from 'libmime';
import libqp from 'libqp';
import { addressParser as addressparser, type ParsedAddress } from './address-parser.js';
import punycode from 'punycode.js';
import type { Address } from '@mailwright/core';
import { messageText, snippetOf, snippetOfPrefix } from './message-text.js';
import type { MessageSummary } from './parse-message.js';

// This module reads the common shapes of a message the way mailparser (through mailsplit,
// libmime, libqp, libbase64 and nodemailer's addressparser) reads them, and returns null for
// anything else. Every rule below mirrors a step of those libraries; where mirroring one would
// take more than a line or two, the message is left to mailparser instead.

// mailsplit fails a message whose header block passes 1 MiB; real ones stay far below this.
const MAX_HEADER_BYTES = 64 * 1024;
// A multipart/alternative of text and HTML has two parts, or a few more from odd senders.
const MAX_PARTS = 8;
// Test traffic repeats a few senders and recipients, and addressparser is the largest cost of
// reading a small message: its results for recent header values are kept.
const ADDRESS_CACHE_ENTRIES = 256;
const MAX_CACHED_ADDRESS_VALUE = 1024;
// What mailsplit allows after the boundary on a delimiter line: an optional "--", up to 998
// spaces or tabs and the line ending (message-splitter.js, BOUNDARY_LINE_SUFFIX).
const MAX_DELIMITER_SUFFIX = 2 + 2 + 998 + 2;
// The snippet is told from this many bytes of a text body first (200 characters, line endings
// and a few spaces), four times more each time it cannot be.
const SNIPPET_PREFIX_BYTES = 320;
// A cut through a body garbles at most the characters of its last 3 bytes (a split escape,
// base64 quartet or UTF-8 sequence); this many are dropped. Blanks before the cut, which the
// quoted-printable decoder drops as trailing, only make the prefix shorter.
const PREFIX_CUT_CHARS = 8;

const LF = 0x0a;
const CR = 0x0d;
const NON_ASCII = /[\u0080-\uffff]/;
const HIGH_LATIN1 = /[\x80-\xff]/;
const ENCODED_WORD = /[=]\?[^?]+\?[BbQq]\?[^?]*\?[=]/;
const TRANSFER_ENCODINGS = new Set(['', '7bit', '8bit', 'binary', 'quoted-printable', 'base64']);
// iconv-lite's windows-1252 for 0x80-0x9f, which libmime uses for ISO-8859-1 and its aliases
// (as browsers do). Node's TextDecoder reads these bytes as Latin-1 control characters.
const CP1252_C1 =
  '\u20ac\ufffd\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\ufffd\u017d\ufffd' +
  '\ufffd\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\ufffd\u017e\u0178';

type HeaderValue = Readonly<Pick<ParsedHeaderValue, 'value' | 'params'>>;
// what libmime's parseHeaderValue makes of a missing header, and of mailsplit's default type
const NO_HEADER: HeaderValue = Object.freeze({ value: '', params: Object.freeze({}) });
const TEXT_PLAIN: HeaderValue = Object.freeze({ value: 'text/plain', params: Object.freeze({}) });

const addressCache = new Map<string, Address[]>();

type Charset = 'utf-8' | 'windows-1252';
type TextType = 'text/plain' | 'text/html';

interface HeaderLine {
  /** The lowercased name. */
  key: string;
  /** The whole line with its folding, one character per byte (Latin-1), as mailsplit keeps it. */
  line: string;
}

interface TextPart {
  type: TextType;
  charset: Charset;
  encoding: string;
}

/**
 * Summarizes a message without mailparser when it has one of the common shapes: a single
 * text/plain or text/html part, or a multipart/alternative of such parts, in UTF-8, US-ASCII or
 * ISO-8859-1, not encoded or in quoted-printable or base64, with UTF-8 headers. Returns
 * exactly what `summarizeWithMailparser` returns for such a message, and null for any other
 * message.
 */
export function summarizeFast(raw: Buffer): MessageSummary | null {
  try {
    return summarize(raw);
  } catch {
    // nothing here is expected to throw, but a message that makes it is mailparser's
    return null;
  }
}

function summarize(raw: Buffer): MessageSummary | null {
  // a message that opens with an empty line has no header block at all
  if (raw[0] === LF || raw[0] === CR) return null;
  const headerEnd = findHeaderEnd(raw, 0, Math.min(raw.length, MAX_HEADER_BYTES));
  if (headerEnd < 0 || !isUtf8(raw.subarray(0, headerEnd))) return null;
  const headers = parseHeaderLines(raw.toString('latin1', 0, headerEnd));
  if (!headers) return null;

  let text: string | undefined;
  let html: string | undefined;
  const contentType = firstValue(headers, 'content-type');
  if (contentType !== null && contentType.toLowerCase().startsWith('multipart/')) {
    const parsed = libmime.parseHeaderValue(contentType, { stripComments: true });
    if (parsed.value.toLowerCase().trim() !== 'multipart/alternative') return null;
    const boundary = (parsed.params.boundary ?? '').trimEnd();
    if (!boundary || NON_ASCII.test(boundary)) return null;
    const parts = splitParts(raw, headerEnd, boundary);
    if (!parts) return null;
    const bodies: [TextPart, Buffer][] = [];
    for (const [start, end] of parts) {
      const partHeaderEnd = findHeaderEnd(raw, start, end);
      if (partHeaderEnd < 0) return null;
      const partHeaders = parseHeaderLines(raw.toString('latin1', start, partHeaderEnd));
      const part = partHeaders && readTextPart(partHeaders);
      if (!part) return null;
      // the line ending in front of a delimiter line belongs to the delimiter
      let bodyEnd = end;
      if (bodyEnd > partHeaderEnd && raw[bodyEnd - 1] === LF) bodyEnd--;
      if (bodyEnd > partHeaderEnd && raw[bodyEnd - 1] === CR) bodyEnd--;
      bodies.push([part, raw.subarray(partHeaderEnd, bodyEnd)]);
    }
    // The text parts joined start with the first that is not empty: when a prefix of the first
    // text part tells the snippet, that part is not empty, and the rest is decoded when asked for.
    const first = bodies.find(([part]) => part.type === 'text/plain');
    if (first && bodies.every(([part, body]) => part.type !== 'text/plain' || isDecodable(body, part))) {
      const snippet = snippetOfBody(first[1], first[0]);
      if (snippet !== null) return new LazyTextSummary(summarizeHeaders(headers), snippet, bodies, null);
    }
    // The HTML of an alternative only counts when it has no text, so it is decoded only then.
    const plain = decodeBodies(bodies, 'text/plain');
    if (plain === null) return null;
    if (plain.length) text = plain.join('\n');
    else {
      const rich = decodeBodies(bodies, 'text/html');
      if (rich === null) return null;
      if (rich.length) html = rich.join('<br/>\n');
    }
  } else {
    const part = readTextPart(headers);
    if (!part) return null;
    const body = raw.subarray(headerEnd);
    if (part.type === 'text/plain' && isDecodable(body, part)) {
      const snippet = snippetOfBody(body, part);
      if (snippet !== null) return new LazyTextSummary(summarizeHeaders(headers), snippet, body, part);
    }
    const content = decodeBody(body, part);
    if (content === null) return null;
    if (content && part.type === 'text/plain') text = content;
    if (content && part.type === 'text/html') {
      // mailparser's skipHtmlToText leaves the text of an HTML-only message empty, not missing
      text = '';
      html = content;
    }
  }

  const { from, to, cc, replyTo, subject, messageId, date } = summarizeHeaders(headers);
  const bodyText = messageText(text, html);
  // Spelled out: a spread into a literal this size takes a slow path in V8 (~3 µs).
  return { from, to, cc, replyTo, subject, messageId, date, snippet: snippetOf(bodyText), attachments: [], text: bodyText };
}

/** The non-empty texts of the parts of one type, or null when one of them cannot be decoded. */
function decodeBodies(bodies: [TextPart, Buffer][], type: TextType): string[] | null {
  const texts: string[] = [];
  for (const [part, body] of bodies) {
    if (part.type !== type) continue;
    const content = decodeBody(body, part);
    if (content === null) return null;
    if (content) texts.push(content);
  }
  return texts;
}

/**
 * The offset just past the empty line that ends the header block starting at `start`, or -1
 * when there is none before `limit`. An empty line is `\n` or `\r\n`, as for mailsplit.
 */
function findHeaderEnd(raw: Buffer, start: number, limit: number): number {
  let lineStart = start;
  while (lineStart < limit) {
    if (raw[lineStart] === LF) return lineStart + 1;
    if (raw[lineStart] === CR && lineStart + 1 < limit && raw[lineStart + 1] === LF) return lineStart + 2;
    const lineEnd = raw.indexOf(LF, lineStart);
    if (lineEnd < 0 || lineEnd >= limit) return -1;
    lineStart = lineEnd + 1;
  }
  return -1;
}

/** Splits a header block into lines the way mailsplit's Headers does; null for odd blocks. */
function parseHeaderLines(block: string): HeaderLine[] | null {
  let end = block.length;
  while (end > 0 && (block.charCodeAt(end - 1) === LF || block.charCodeAt(end - 1) === CR)) end--;
  const lines: HeaderLine[] = [];
  if (end === 0) return lines;
  for (const rawLine of block.slice(0, end).split(/\r?\n/)) {
    const first = rawLine.charCodeAt(0);
    const last = lines[lines.length - 1];
    if ((first === 0x20 || first === 0x09) && last) {
      last.line += `\r\n${rawLine}`;
      continue;
    }
    const colon = rawLine.indexOf(':');
    // a line without a colon takes its name from a continuation line in mailsplit
    if (colon < 0) return null;
    lines.push({ key: rawLine.slice(0, colon).toLowerCase().trim(), line: rawLine });
  }
  // mailsplit reads a first line like these as an mbox or HTTP preamble, not as a header
  if (/^(?:From|POST) /i.test(lines[0]?.line ?? '')) return null;
  return lines;
}

/** A header's unfolded, trimmed value as mailparser derives it: the bytes read as UTF-8. */
function headerValue(line: string): string {
  const value = unfoldedValue(line);
  return HIGH_LATIN1.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value;
}

/**
 * A header line's value as libmime's decodeHeader reads it: unfolded, after the first colon,
 * trimmed. A line without folding that starts with its name is read here, without the
 * regular expressions.
 */
function unfoldedValue(line: string): string {
  const first = line.charCodeAt(0);
  const colon = line.indexOf(':');
  if (colon > 0 && first > 0x20 && first !== 0xa0 && !line.includes('\n') && !line.includes('\r')) return line.slice(colon + 1).trim();
  return String(libmime.decodeHeader(line).value || '').trim();
}

/**
 * The first value of a MIME header (Content-Type and the like), as mailsplit's getFirst
 * reads it, or null when the header is missing. A non-ASCII MIME header throws, to leave the
 * message to mailparser (mailsplit reads such a line with its own heuristic).
 */
function firstValue(headers: HeaderLine[], key: string): string | null {
  const header = headers.find((line) => line.key === key);
  if (!header) return null;
  if (NON_ASCII.test(header.line)) throw new Error(`non-ASCII ${key}`);
  return unfoldedValue(header.line);
}

/**
 * What mailsplit and mailparser make of a part's MIME headers, if the part is a text part the
 * fast path can decode: text/plain or text/html, shown inline, in a charset and a transfer
 * encoding it knows. Null for anything else.
 */
function readTextPart(headers: HeaderLine[]): TextPart | null {
  const dispositionHeader = firstValue(headers, 'content-disposition');
  const disposition = dispositionHeader === null ? NO_HEADER : libmime.parseHeaderValue(dispositionHeader, { stripComments: true });
  const contentType = firstValue(headers, 'content-type');
  // without a Content-Type, mailsplit guesses the type from a filename and defaults to text/plain
  if (contentType === null && disposition.params.filename) return null;
  const parsed = contentType === null ? TEXT_PLAIN : libmime.parseHeaderValue(contentType, { stripComments: true });
  const type = parsed.value.toLowerCase().trim();
  if (type !== 'text/plain' && type !== 'text/html') return null;
  // a filename makes no difference to a text part, but is a sign of an attachment
  if (disposition.params.filename || parsed.params.name) return null;
  // mailsplit honours a boundary parameter on any node, and would split this part by it
  if (parsed.params.boundary !== undefined) return null;
  // mailparser makes any disposition other than inline an attachment
  const dispositionValue = disposition.value.toLowerCase().trim();
  if (dispositionValue && dispositionValue !== 'inline') return null;
  // format=flowed text is unwrapped by mailsplit's FlowedDecoder
  if (type === 'text/plain' && parsed.params.format?.toLowerCase().trim() === 'flowed') return null;
  const encodingHeader = firstValue(headers, 'content-transfer-encoding') ?? '';
  if (encodingHeader.includes('(')) return null;
  const encoding = encodingHeader.toLowerCase().trim();
  if (!TRANSFER_ENCODINGS.has(encoding)) return null;
  const charset = readCharset(parsed.params.charset || 'utf-8');
  return charset && { type, charset, encoding };
}

/** How mailparser decodes a part in `name`, if the fast path knows the charset. */
function readCharset(name: string): Charset | null {
  // mailparser takes these as UTF-8 without a decoder, and hands every other name to libmime
  if (['ascii', 'usascii', 'utf8'].includes(name.toLowerCase().replace(/[^a-z0-9]+/g, ''))) return 'utf-8';
  return libmime.normalizeCharset(name) === 'windows-1252' ? 'windows-1252' : null;
}

/**
 * The text of a part as mailparser reads it, line endings made `\n`; null when the body is
 * one the fast path does not decode the same way.
 */
function decodeBody(body: Buffer, part: TextPart): string | null {
  return isDecodable(body, part) ? decodeBytes(body, part) : null;
}

/** Whether the fast path decodes this body as mailparser does. */
function isDecodable(body: Buffer, part: TextPart): boolean {
  return part.encoding !== 'base64' || isPlainBase64(body);
}

/**
 * The snippet of a text/plain body, told from a prefix of its bytes without decoding the rest;
 * null when the whole body is needed (it is short, or starts with much whitespace).
 */
function snippetOfBody(body: Buffer, part: TextPart): string | null {
  for (let length = SNIPPET_PREFIX_BYTES; length < body.length; length *= 4) {
    // Line endings are whitespace to the snippet: they are left as they are.
    const snippet = snippetOfPrefix(decodeBytes(body.subarray(0, length), part, false).slice(0, -PREFIX_CUT_CHARS));
    if (snippet !== null) return snippet;
  }
  return null;
}

/**
 * A summary whose text body is decoded when it is first read: most summaries are only listed.
 * `text` is a getter of the class, so that no summary carries a closure of its own; a copy
 * made by spreading must spell it out (`{ ...summary, text: summary.text }`).
 */
class LazyTextSummary implements MessageSummary {
  from: Address | null;
  to: Address[];
  cc: Address[];
  replyTo: Address[];
  subject: string;
  messageId: string | null;
  date: string | null;
  snippet: string;
  attachments: MessageSummary['attachments'] = [];
  /** The text/plain body, or the parts of a multipart/alternative. */
  readonly #source: Buffer | [TextPart, Buffer][];
  readonly #part: TextPart | null;
  #text: string | undefined;

  constructor(fields: HeaderSummary, snippet: string, source: Buffer | [TextPart, Buffer][], part: TextPart | null) {
    this.from = fields.from;
    this.to = fields.to;
    this.cc = fields.cc;
    this.replyTo = fields.replyTo;
    this.subject = fields.subject;
    this.messageId = fields.messageId;
    this.date = fields.date;
    this.snippet = snippet;
    this.#source = source;
    this.#part = part;
  }

  get text(): string {
    const source = this.#source;
    // Every part was checked with isDecodable before the summary was made.
    this.#text ??= Buffer.isBuffer(source) ? decodeBytes(source, this.#part as TextPart) : (decodeBodies(source, 'text/plain') as string[]).join('\n');
    return this.#text;
  }
}

/** The text of a body (or of a prefix of one) that {@link isDecodable} accepts, CRLF made LF unless `lf` is false. */
function decodeBytes(body: Buffer, part: TextPart, lf = true): string {
  let bytes = body;
  if (part.encoding === 'quoted-printable') bytes = libqp.decode(body);
  else if (part.encoding === 'base64') bytes = Buffer.from(body.toString('latin1'), 'base64');
  let content: string;
  if (part.charset === 'utf-8') content = bytes.toString('utf8');
  else {
    content = bytes.toString('latin1');
    if (/[\x80-\x9f]/.test(content)) content = content.replace(/[\x80-\x9f]/g, (c) => CP1252_C1.charAt(c.charCodeAt(0) - 0x80));
  }
  return lf && content.includes('\r') ? content.replace(/\r\n/g, '\n') : content;
}

/**
 * Whether a base64 body is whole quartets of base64 characters with padding only at its end,
 * and whitespace. libbase64's decoder stream then yields what Buffer.from decodes.
 */
function isPlainBase64(body: Buffer): boolean {
  let count = 0;
  let padding = 0;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i]!;
    if (byte === LF || byte === CR || byte === 0x20 || byte === 0x09) continue;
    if (byte === 0x3d) padding++;
    else if (
      padding ||
      !((byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || (byte >= 0x30 && byte <= 0x39) || byte === 0x2b || byte === 0x2f)
    ) {
      return false;
    }
    count++;
  }
  return count % 4 === 0 && padding <= 2;
}

/**
 * The [start, end) byte ranges of the parts of a multipart body split by `boundary`, the line
 * ending before each delimiter line still included; null unless the body is a preamble, at
 * least one part and a closing delimiter (an epilogue may follow).
 */
function splitParts(raw: Buffer, bodyStart: number, boundary: string): [number, number][] | null {
  // mailsplit also takes a delimiter line that opens with a lone CR, one byte longer
  if (raw.indexOf(`\n\r--${boundary}`, bodyStart - 1, 'latin1') >= 0) return null;
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: [number, number][] = [];
  let partStart = -1;
  let from = bodyStart;
  for (;;) {
    const at = raw.indexOf(delimiter, from);
    if (at < 0) return null;
    from = at + 1;
    // the body starts on a line of its own, so raw[at - 1] is always there
    if (raw[at - 1] !== LF) continue;
    const lineEnd = raw.indexOf(LF, at);
    const end = lineEnd < 0 ? raw.length : lineEnd + 1;
    const kind = delimiterKind(raw, at, end, delimiter.length);
    if (!kind) continue;
    if (partStart >= 0) parts.push([partStart, at]);
    else if (kind === 'close') return null;
    if (parts.length > MAX_PARTS) return null;
    if (kind === 'close') return parts;
    partStart = end;
    from = end;
  }
}

/**
 * Whether the line raw[at, end), which starts with `--boundary`, is a delimiter line by
 * mailsplit's compareBoundary: an optional `--`, spaces and tabs, then a line ending of any
 * number of CRs and an optional LF, or the end of the input after a closing delimiter.
 */
function delimiterKind(raw: Buffer, at: number, end: number, length: number): 'next' | 'close' | null {
  if (end - at < length + 1 || end - at > length + MAX_DELIMITER_SUFFIX - 2) return null;
  let i = at + length;
  let kind: 'next' | 'close' = 'next';
  if (raw[i] === 0x2d) {
    if (i + 1 >= end || raw[i + 1] !== 0x2d) return null;
    kind = 'close';
    i += 2;
  }
  while (i < end && (raw[i] === 0x20 || raw[i] === 0x09)) i++;
  if (i === end) return kind === 'close' ? kind : null;
  while (i < end && raw[i] === CR) i++;
  if (i < end && raw[i] === LF) i++;
  return i === end ? kind : null;
}

type HeaderSummary = Pick<MessageSummary, 'from' | 'to' | 'cc' | 'replyTo' | 'subject' | 'messageId' | 'date'>;

/**
 * The summary fields from the message's headers, as mailparser's processHeaders and
 * simpleParser derive them: the first From, Reply-To and Date, every To and Cc, the first
 * Subject and Message-ID that are not empty.
 */
function summarizeHeaders(headers: HeaderLine[]): HeaderSummary {
  let from: Address[] | undefined;
  let replyTo: Address[] | undefined;
  const to: Address[] = [];
  const cc: Address[] = [];
  let subject: string | undefined;
  let messageId: string | undefined;
  let date: string | null | undefined;
  for (const { key, line } of headers) {
    switch (key) {
      case 'from':
        from ??= parseAddresses(headerValue(line));
        break;
      case 'reply-to':
        replyTo ??= parseAddresses(headerValue(line));
        break;
      case 'to':
        for (const address of parseAddresses(headerValue(line))) to.push(address);
        break;
      case 'cc':
        for (const address of parseAddresses(headerValue(line))) cc.push(address);
        break;
      case 'subject':
        subject ||= decodeWords(headerValue(line));
        break;
      case 'message-id':
        messageId ||= ensureMessageIdFormat(decodeWords(headerValue(line)));
        break;
      case 'date':
        if (date === undefined) {
          // mailparser replaces a date it cannot parse with the time of parsing; the summary
          // reports that there is no usable date instead of inventing one
          const value = new Date(headerValue(line));
          date = Number.isNaN(value.getTime()) ? null : value.toISOString();
        }
        break;
    }
  }
  return { from: from?.[0] ?? null, to, cc, replyTo: replyTo ?? [], subject: subject || '', messageId: messageId || null, date: date ?? null };
}

function decodeWords(value: string): string {
  // every pattern libmime's decodeWords rewrites starts with "=?"
  if (!value.includes('=?')) return value;
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}

/** mailparser's ensureMessageIDFormat: angle brackets added where missing, '' stays ''. */
function ensureMessageIdFormat(value: string): string {
  if (!value) return '';
  return `${value.startsWith('<') ? '' : '<'}${value}${value.endsWith('>') ? '' : '>'}`;
}

/** An address header's mailboxes, groups flattened, as mailparser reads and decodes them. */
function parseAddresses(value: string): Address[] {
  const cached = addressCache.get(value);
  if (cached) return cached.map((address) => ({ ...address }));
  const result = readAddresses(value);
  if (value.length <= MAX_CACHED_ADDRESS_VALUE) {
    if (addressCache.size >= ADDRESS_CACHE_ENTRIES) addressCache.delete(addressCache.keys().next().value as string);
    addressCache.set(
      value,
      result.map((address) => ({ ...address })),
    );
  }
  return result;
}

function readAddresses(value: string): Address[] {
  const parsed = addressparser(value);
  decodeAddresses(parsed);
  const result: Address[] = [];
  const visit = (entries: ParsedAddress[]): void => {
    for (const entry of entries) {
      if (entry.group) visit(entry.group);
      else result.push({ name: entry.name ?? '', address: entry.address ?? '' });
    }
  };
  visit(parsed);
  return result;
}

/**
 * mailparser's decodeAddresses (address-header.js): encoded words in display names decoded, an
 * encoded word in an address kept only when it decodes to a plain `local@domain`, a punycode
 * domain decoded to Unicode.
 */
function decodeAddresses(entries: ParsedAddress[]): void {
  for (const entry of entries) {
    entry.name = (entry.name || '').toString().trim();
    if (entry.name) entry.name = decodeWords(entry.name);
    if (entry.group) {
      decodeAddresses(entry.group);
      continue;
    }
    if (entry.address && ENCODED_WORD.test(entry.address)) {
      let decoded = '';
      try {
        decoded = libmime.decodeWords(entry.address);
      } catch {
        // dropped, as mailparser drops it
      }
      entry.address = /^[^\s@]+@[^\s@]+$/.test(decoded) && !/[=]\?/.test(decoded) ? decoded : '';
    }
    if (entry.address && /@xn--/.test(entry.address)) {
      const at = entry.address.lastIndexOf('@');
      try {
        entry.address = entry.address.slice(0, at + 1) + punycode.toUnicode(entry.address.slice(at + 1));
      } catch {
        // not valid punycode, kept as it is
      }
    }
  }
}

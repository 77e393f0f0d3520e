import type { AddressObject, ParsedMail } from 'mailparser';
import type * as MailparserModule from 'mailparser';
import type { Address, AttachmentSummary } from '@mailwright/core';
import { htmlToPlain, messageText, snippetOf } from './message-text.js';
import { safeContentType, safeFilename } from './safe-attachment.js';
import { headersOf } from './headers-of.js';
import { extractLinks } from './extract-links.js';
import type * as FastSummaryModule from './summarize-fast.js';

type Mailparser = typeof MailparserModule;
type FastSummary = typeof FastSummaryModule;

let mailparser: Promise<Mailparser> | undefined;
let fastSummary: FastSummary | undefined;

// mailparser with its HTML and link libraries takes ~17 MB once loaded, so it is loaded on the
// first message the fast path leaves to it or the first detail read, not with the server. The
// fast path's own libraries (libmime and its charset tables) wait for the first message.
function loadMailparser(): Promise<Mailparser> {
  return (mailparser ??= import('mailparser'));
}

/**
 * The Date header as ISO 8601, or null when there is none or it cannot be parsed (where
 * mailparser would substitute the time of parsing).
 */
function usableDate(parsed: ParsedMail): string | null {
  const header = parsed.headerLines.find((line) => line.key === 'date');
  if (!header || !parsed.date) return null;
  const value = header.line
    .slice(header.line.indexOf(':') + 1)
    .replace(/\r?\n[ \t]+/g, ' ')
    .trim();
  return Number.isNaN(new Date(value).getTime()) ? null : parsed.date.toISOString();
}

/** The fields of a CapturedMessage that come from the message itself. */
export interface MessageSummary {
  from: Address | null;
  to: Address[];
  cc: Address[];
  replyTo: Address[];
  subject: string;
  messageId: string | null;
  date: string | null;
  snippet: string;
  attachments: AttachmentSummary[];
  /** The decoded text body (or the HTML body's text), for the `text` filter. */
  text: string;
}

/** A part of a message the detail shows incompletely, and why. */
export interface TruncatedPart {
  part: 'headers' | 'text' | 'body';
  reason: string;
}

/** Everything `GET /messages/:id` adds to the summary. */
export interface MessageContent {
  headers: Record<string, string[]>;
  text: string | null;
  html: string | null;
  attachments: ParsedAttachment[];
  /** Every http(s) link of the bodies (see `extractLinks`). */
  links: string[];
  /** Why the message could not be parsed (it is shown as far as it could be read), or null. */
  parseError: string | null;
  /** What is shown incompletely. */
  truncated: TruncatedPart[];
}

/**
 * The longest HTML body whose text is derived in full; html-to-text cuts its input here without
 * a word (its `limits.maxInputLength`), so the text of a longer one is derived from this much and
 * the cut is reported.
 */
export const HTML_TEXT_LIMIT = 16 * 1024 * 1024;

/** An attachment with its decoded content. */
export interface ParsedAttachment extends AttachmentSummary {
  content: Buffer;
}

/** mailparser's options for a summary, when the fast path leaves a message to it: no conversions, no links. */
const SUMMARY_PARSER_OPTIONS = {
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
  keepCidLinks: true,
} as const;

function addresses(value: AddressObject | AddressObject[] | undefined): Address[] {
  if (!value) return [];
  const list = Array.isArray(value) ? value : [value];
  const result: Address[] = [];
  const visit = (entries: AddressObject['value']): void => {
    for (const entry of entries) {
      if (entry.group) visit(entry.group);
      else result.push({ name: entry.name ?? '', address: entry.address ?? '' });
    }
  };
  for (const object of list) visit(object.value);
  return result;
}

function attachmentSummaries(parsed: ParsedMail): ParsedAttachment[] {
  return parsed.attachments.map((attachment, index) => {
    const partId = attachment.partId ?? String(index + 1);
    const filename = attachment.filename ?? null;
    return {
      partId,
      filename,
      safeFilename: safeFilename(filename, partId),
      contentType: safeContentType(attachment.contentType),
      size: attachment.size ?? attachment.content.length,
      contentId: attachment.contentId ?? null,
      content: attachment.content,
    };
  });
}

/**
 * Reads what the message list needs from raw message bytes. Never throws on malformed input:
 * the common shapes (a single text or HTML part, or a multipart/alternative of those) are read
 * synchronously by `summarizeFast`, everything else by mailparser, which is lenient, and a
 * failure yields an empty summary.
 */
export async function summarizeMessage(raw: Buffer): Promise<MessageSummary> {
  fastSummary ??= await import('./summarize-fast.js');
  return fastSummary.summarizeFast(raw) ?? summarizeWithMailparser(raw);
}

/** Messages at least this large are summarized in a worker. */
export const WORKER_SUMMARY_MIN_BYTES = 256 * 1024;

/**
 * {@link summarizeMessage}, with a large message summarized by `inWorker` (mailparser, whose
 * summary the fast path equals), off the event loop; small ones cost less than the trip. When
 * the worker cannot take it (its queue is full, it ran out of time or memory), the summary is
 * read from the headers alone, and `onFailure` told why: a large message is never parsed on the
 * event loop, and a summary is never refused.
 */
export async function summarizeOffThread(
  raw: Buffer,
  inWorker: (raw: Buffer) => Promise<MessageSummary>,
  onFailure?: (error: unknown) => void,
): Promise<MessageSummary> {
  if (raw.length < WORKER_SUMMARY_MIN_BYTES) return summarizeMessage(raw);
  return inWorker(raw).catch((error: unknown) => {
    onFailure?.(error);
    return headersSummary(raw);
  });
}

/** The summary of a message that could not be parsed: what its headers say, as far as they can be read. */
export function headersSummary(raw: Buffer): MessageSummary {
  const { headers } = headersOf(raw);
  const messageId = headers['message-id']?.[0] ?? null;
  return { from: null, to: [], cc: [], replyTo: [], subject: headers.subject?.[0] ?? '', messageId, date: null, snippet: '', attachments: [], text: '' };
}

/**
 * {@link summarizeMessage} by mailparser alone, for any message. The fast path must produce
 * exactly this summary for every message it accepts.
 */
export async function summarizeWithMailparser(raw: Buffer): Promise<MessageSummary> {
  const { simpleParser } = await loadMailparser();
  let parsed: ParsedMail;
  try {
    parsed = await simpleParser(raw, SUMMARY_PARSER_OPTIONS);
  } catch {
    // Beyond mailparser's limits: the list still shows what the headers say, as far as they can be read.
    return headersSummary(raw);
  }
  // With skipHtmlToText an HTML-only message comes back with `text` set to '', not left out.
  const text = messageText(parsed.text, parsed.html);
  return {
    from: addresses(parsed.from)[0] ?? null,
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    replyTo: addresses(parsed.replyTo),
    subject: parsed.subject ?? '',
    messageId: parsed.messageId ?? null,
    // mailparser turns a Date header it cannot parse into the time of parsing.
    date: usableDate(parsed),
    snippet: snippetOf(text),
    attachments: attachmentSummaries(parsed).map(({ content: _content, ...summary }) => summary),
    text,
  };
}

/** What the detail shows of a message that could not be parsed: its headers, read leniently, and why. */
export function unparsableContent(raw: Buffer, reason: string): MessageContent {
  const { headers, truncated } = headersOf(raw);
  return {
    headers,
    text: null,
    html: null,
    attachments: [],
    links: [],
    parseError: `The message could not be parsed: ${reason}. Its headers are shown as far as they could be read; the raw message is complete.`,
    truncated: [...truncated, { part: 'body', reason }],
  };
}

/**
 * Parses headers, bodies and attachments of a stored message for the detail views. Never throws
 * on malformed input: a message beyond the parser's limits (over 1,000 MIME parts, a header block
 * over 1 MiB) is shown as far as it can be read (its headers), with `parseError` saying why.
 */
export async function readMessageContent(raw: Buffer): Promise<MessageContent> {
  const { simpleParser } = await loadMailparser();
  let parsed: ParsedMail & { textConversionError?: Error };
  try {
    parsed = await simpleParser(raw, {
      skipImageLinks: true,
      skipTextLinks: true,
      skipTextToHtml: true,
      keepCidLinks: true,
      maxHtmlLengthToParse: HTML_TEXT_LIMIT,
    });
  } catch (error) {
    return unparsableContent(raw, error instanceof Error ? error.message : String(error));
  }
  const headers: Record<string, string[]> = {};
  for (const line of parsed.headerLines) {
    const value = line.line
      .slice(line.line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    (headers[line.key] ??= []).push(value);
  }
  const html = typeof parsed.html === 'string' ? parsed.html : null;
  let text = parsed.text ?? null;
  const truncated: TruncatedPart[] = [];
  if (parsed.textConversionError && html !== null) {
    // An HTML body over the limit is left unconverted by mailparser: its text is derived here, from the first HTML_TEXT_LIMIT characters.
    const plain = htmlToPlain(html.length > HTML_TEXT_LIMIT ? html.slice(0, HTML_TEXT_LIMIT) : html);
    text = text ? `${text}\n${plain}` : plain;
    truncated.push({
      part: 'text',
      reason:
        html.length > HTML_TEXT_LIMIT
          ? `The HTML body has ${html.length} characters; the text is derived from the first ${HTML_TEXT_LIMIT}.`
          : `The text of the HTML body could not be derived (${parsed.textConversionError.message}); it is a rough rendering.`,
    });
  }
  return { headers, text, html, attachments: attachmentSummaries(parsed), links: extractLinks(text, html), parseError: null, truncated };
}

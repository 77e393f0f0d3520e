import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import type { Address, AttachmentSummary } from '@mailwright/core';

const SNIPPET_LENGTH = 200;

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

/** Everything `GET /messages/:id` adds to the summary. */
export interface MessageContent {
  headers: Record<string, string[]>;
  text: string | null;
  html: string | null;
  attachments: ParsedAttachment[];
}

/** An attachment with its decoded content. */
export interface ParsedAttachment extends AttachmentSummary {
  content: Buffer;
}

const FAST_OPTIONS = {
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

function htmlToPlain(html: string): string {
  return html
    .replace(/<(script|style|head)[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/gi, ' ')
    .replace(/&amp;/gi, '&')
    .replace(/&lt;/gi, '<')
    .replace(/&gt;/gi, '>')
    .replace(/&quot;/gi, '"')
    .replace(/&#39;/gi, "'");
}

function snippetOf(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= SNIPPET_LENGTH ? flat : `${flat.slice(0, SNIPPET_LENGTH - 1)}…`;
}

function attachmentSummaries(parsed: ParsedMail): ParsedAttachment[] {
  return parsed.attachments.map((attachment, index) => ({
    partId: attachment.partId ?? String(index + 1),
    filename: attachment.filename ?? null,
    contentType: attachment.contentType,
    size: attachment.size ?? attachment.content.length,
    contentId: attachment.contentId ?? null,
    content: attachment.content,
  }));
}

/**
 * Reads what the message list needs from raw message bytes. Never throws on
 * malformed input: mailparser is lenient, and a failure yields an empty summary.
 */
export async function summarizeMessage(raw: Buffer): Promise<MessageSummary> {
  let parsed: ParsedMail;
  try {
    parsed = await simpleParser(raw, FAST_OPTIONS);
  } catch {
    return { from: null, to: [], cc: [], replyTo: [], subject: '', messageId: null, date: null, snippet: '', attachments: [], text: '' };
  }
  const text = parsed.text ?? (typeof parsed.html === 'string' ? htmlToPlain(parsed.html) : '');
  return {
    from: addresses(parsed.from)[0] ?? null,
    to: addresses(parsed.to),
    cc: addresses(parsed.cc),
    replyTo: addresses(parsed.replyTo),
    subject: parsed.subject ?? '',
    messageId: parsed.messageId ?? null,
    date: parsed.date && !Number.isNaN(parsed.date.getTime()) ? parsed.date.toISOString() : null,
    snippet: snippetOf(text),
    attachments: attachmentSummaries(parsed).map(({ content: _content, ...summary }) => summary),
    text,
  };
}

/** Parses headers, bodies and attachments of a stored message for the detail views. */
export async function readMessageContent(raw: Buffer): Promise<MessageContent> {
  let parsed: ParsedMail;
  try {
    parsed = await simpleParser(raw, { skipImageLinks: true, skipTextLinks: true, keepCidLinks: true });
  } catch {
    return { headers: {}, text: null, html: null, attachments: [] };
  }
  const headers: Record<string, string[]> = {};
  for (const line of parsed.headerLines) {
    const value = line.line
      .slice(line.line.indexOf(':') + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    (headers[line.key] ??= []).push(value);
  }
  return {
    headers,
    text: parsed.text ?? null,
    html: typeof parsed.html === 'string' ? parsed.html : null,
    attachments: attachmentSummaries(parsed),
  };
}

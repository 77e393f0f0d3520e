import type { CapturedMessage } from '@mailwright/core';
import { readMimeEntity, splitMultipart, type MimeEntity } from '../../analysis/protection/mime-entity.js';
import { deliveryRecord } from './compat-context.js';

/** MailHog's `Path`: an address split at its `@`. */
export interface MailhogPath {
  Relays: string[] | null;
  Mailbox: string;
  Domain: string;
  Params: string;
}

/** MailHog's `Content`: one MIME entity, its header fields as written and its body as received (still transfer-encoded). */
export interface MailhogContent {
  Headers: Record<string, string[]>;
  Body: string;
  Size: number;
  MIME: { Parts: MailhogContent[] } | null;
}

/** Multipart bodies nested deeper than this, and parts beyond this many, are left unsplit. */
const MAX_DEPTH = 16;
const MAX_PARTS = 1000;

function path(address: string): MailhogPath {
  const at = address.lastIndexOf('@');
  return { Relays: null, Mailbox: at === -1 ? address : address.slice(0, at), Domain: at === -1 ? '' : address.slice(at + 1), Params: '' };
}

/** Header fields by name as written (MailHog keeps their spelling), every occurrence, unfolded. */
function headerFields(block: Buffer): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const field of block.toString('utf8').split(/\r?\n(?![ \t])/)) {
    const colon = field.indexOf(':');
    if (colon <= 0) continue;
    const name = field.slice(0, colon).trim();
    const value = field
      .slice(colon + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    if (!Object.hasOwn(headers, name)) headers[name] = [];
    headers[name]?.push(value);
  }
  return headers;
}

/**
 * One entity the way MailHog shows it. As in MailHog, a multipart entity's parts are listed in
 * `MIME` of the parts themselves (nested multiparts), while the message's own parts are in the
 * message's `MIME` and its `Content.MIME` stays null.
 */
function content(bytes: Buffer, depth: number, budget: { parts: number }, withMime: boolean): MailhogContent {
  const entity = readMimeEntity(bytes);
  const body = entity.body.toString('utf8');
  return { Headers: headerFields(entity.headerBytes), Body: body, Size: Buffer.byteLength(body), MIME: withMime ? mimeOf(bytes, depth, budget) : null };
}

function mimeOf(bytes: Buffer, depth: number, budget: { parts: number }): MailhogContent['MIME'] {
  const entity = readMimeEntity(bytes);
  const boundary = entity.params.boundary;
  if (!entity.contentType.startsWith('multipart/') || boundary === undefined || boundary === '' || depth >= MAX_DEPTH) return null;
  const parts: MailhogContent[] = [];
  for (const part of splitMultipart(entity.body, boundary)) {
    if (budget.parts >= MAX_PARTS) break;
    budget.parts += 1;
    parts.push(content(part, depth + 1, budget, true));
  }
  return { Parts: parts };
}

/** The message the way MailHog's API serves it, with Mailwright's delivery record in an extra `Mailwright` field. */
export function mailhogMessage(message: CapturedMessage, raw: Buffer, helo: string) {
  const budget = { parts: 0 };
  return {
    ID: message.id,
    From: path(message.envelope.mailFrom),
    To: message.envelope.rcptTo.map(path),
    Content: content(raw, 0, budget, false),
    Created: message.receivedAt,
    MIME: mimeOf(raw, 0, budget),
    Raw: { From: message.envelope.mailFrom, To: message.envelope.rcptTo, Data: raw.toString('utf8'), Helo: helo },
    Mailwright: deliveryRecord(message),
  };
}

/** Part `index` (counted from 0) of a multipart message, as MailHog's part download numbers them; null when there is none. */
export function mimePart(raw: Buffer, index: string): MimeEntity | null {
  if (!/^\d{1,4}$/.test(index)) return null;
  const entity = readMimeEntity(raw);
  const boundary = entity.params.boundary;
  if (!entity.contentType.startsWith('multipart/') || boundary === undefined || boundary === '') return null;
  const part = splitMultipart(entity.body, boundary)[Number(index)];
  return part ? readMimeEntity(part) : null;
}

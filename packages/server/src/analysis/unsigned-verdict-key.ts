import type { Authentication } from '@mailwright/core';
import type { AuthenticationInput } from './compute-authentication.js';

/** A header block longer than this is not looked at: its message is checked on its own. */
const MAX_HEADER_BYTES = 64 * 1024;
/** Anything but printable ASCII, tab, and CRLF line ends: a header block that could be read more than one way. */
const UNUSUAL = /[^\t\x20-\x7e\r\n]|\r(?!\n)|(?<!\r)\n/;

/**
 * What the verdicts of an unsigned message are computed from, as one string; null when they
 * may depend on more. Without DKIM-Signature and ARC fields, mailauth reads of a message only
 * its From fields (the DMARC author domain) and Return-Path (the envelope sender when MAIL FROM
 * is empty): given the same envelope, client, authserv-id and DNS answers, two messages with
 * the same key get the same verdicts, all but the time they were computed at. Any header block
 * that is not plain ASCII with CRLF line ends, has a field name with spaces or a line without a
 * colon, or is very long gives null, as does a message with any DKIM or ARC field.
 */
export function unsignedVerdictKey(input: Omit<AuthenticationInput, 'raw'>, raw: Uint8Array): string | null {
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const end = bytes.indexOf('\r\n\r\n');
  if (end <= 0 || end > MAX_HEADER_BYTES) return null;
  const header = bytes.toString('latin1', 0, end);
  if (UNUSUAL.test(header) || header.startsWith(' ') || header.startsWith('\t')) return null;
  const fields: string[] = [];
  let kept = false;
  for (const line of header.split('\r\n')) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (kept) fields.push(line);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return null;
    const name = line.slice(0, colon).toLowerCase();
    if (name.trim() !== name || name.includes(' ') || name.includes('\t')) return null;
    if (name === 'dkim-signature' || name.startsWith('arc-')) return null;
    kept = name === 'from' || name === 'return-path';
    if (kept) fields.push(line);
  }
  return JSON.stringify([input.mailFrom, input.helo, input.clientIp, input.clientIpSource ?? 'connection', input.authservId, fields]);
}

/**
 * Whether the record of a message with an {@link unsignedVerdictKey} may stand for every
 * message with that key: it has no DKIM verdict, and nothing in it depends on timing (no
 * `temperror`, which a slow or failed DNS answer gives).
 */
export function isRepeatableUnsignedRecord(authentication: Authentication): boolean {
  const results = [authentication.spf.result, authentication.helo?.result, authentication.dmarc.result, authentication.arc?.result];
  return authentication.status === 'done' && authentication.dkim.length === 0 && !results.includes('temperror');
}

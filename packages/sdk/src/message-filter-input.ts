import type { MessageFilter, Verdict } from '@mailwright/core';

/** A filter as the SDK takes it: like the API's, but text fields may be regular expressions. */
export interface MessageFilterInput {
  /** Envelope recipients (Bcc included) and To/Cc addresses. */
  to?: string | RegExp;
  /** Envelope sender and From. */
  from?: string | RegExp;
  subject?: string | RegExp;
  /** Subject and text body. */
  text?: string | RegExp;
  tls?: MessageFilter['tls'];
  tag?: string;
  listener?: string;
  /** The DKIM verdict (the best signature's; `none` when unsigned). Matches once the verdicts are computed. */
  dkim?: Verdict;
  /** The SPF verdict of the MAIL FROM identity. */
  spf?: Verdict;
  /** The DMARC verdict. */
  dmarc?: Verdict;
  /** Encrypted end to end (S/MIME or OpenPGP), or not. Matches once the message is examined. */
  encrypted?: boolean;
  /** Signed end to end (S/MIME or OpenPGP), or not. */
  signed?: boolean;
  /** The technology: `smime`, or `pgp` (PGP/MIME or inline PGP). */
  protection?: 'smime' | 'pgp';
}

function pattern(value: string | RegExp | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value instanceof RegExp ? `re:/${value.source}/${value.flags}` : value;
}

/** Turns an SDK filter into the wire form (`re:/source/flags` for regular expressions). */
export function toWireFilter(input: MessageFilterInput): MessageFilter {
  const filter: MessageFilter = {};
  const to = pattern(input.to);
  const from = pattern(input.from);
  const subject = pattern(input.subject);
  const text = pattern(input.text);
  if (to !== undefined) filter.to = to;
  if (from !== undefined) filter.from = from;
  if (subject !== undefined) filter.subject = subject;
  if (text !== undefined) filter.text = text;
  if (input.tls !== undefined) filter.tls = input.tls;
  if (input.tag !== undefined) filter.tag = input.tag;
  if (input.listener !== undefined) filter.listener = input.listener;
  if (input.dkim !== undefined) filter.dkim = input.dkim;
  if (input.spf !== undefined) filter.spf = input.spf;
  if (input.dmarc !== undefined) filter.dmarc = input.dmarc;
  if (input.encrypted !== undefined) filter.encrypted = input.encrypted ? 'true' : 'false';
  if (input.signed !== undefined) filter.signed = input.signed ? 'true' : 'false';
  if (input.protection !== undefined) filter.protection = input.protection;
  return filter;
}

/** A readable form of a filter for error messages. */
export function describeFilter(input: MessageFilterInput): string {
  const parts = Object.entries(input)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}: ${value instanceof RegExp ? String(value) : JSON.stringify(value)}`);
  return parts.length === 0 ? '{}' : `{ ${parts.join(', ')} }`;
}

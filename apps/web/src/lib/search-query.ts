import type { MessageFilter } from '@mailwright/core';

/** The filter fields the search understands, as the API names them: every field of the filter. */
export const SEARCH_FIELDS = [
  'to',
  'from',
  'subject',
  'text',
  'tls',
  'tag',
  'listener',
  'dkim',
  'spf',
  'dmarc',
  'encrypted',
  'signed',
  'protection',
] as const satisfies readonly (keyof MessageFilter)[];
type SearchField = (typeof SEARCH_FIELDS)[number];
// A field the API's filter gains and the search does not know fails the type check here.
const _everyFilterField: Record<Exclude<keyof MessageFilter, SearchField>, never> = {};

/** The values of the `tls` filter. */
export const TLS_FILTERS = ['any', 'starttls', 'implicit', 'none'] as const;

/** The verdicts the `dkim`, `spf` and `dmarc` filters take. */
const VERDICTS: readonly string[] = ['pass', 'fail', 'neutral', 'softfail', 'policy', 'none', 'temperror', 'permerror'];
/** Fields whose value must be one of a few words (lower-cased); others are dropped, not sent. */
const BOOLEANS: readonly string[] = ['true', 'false'];
const CHOICES: Partial<Record<SearchField, readonly string[]>> = {
  tls: TLS_FILTERS,
  dkim: VERDICTS,
  spf: VERDICTS,
  dmarc: VERDICTS,
  encrypted: BOOLEANS,
  signed: BOOLEANS,
  protection: ['smime', 'pgp'],
};
const isField = (value: string): value is SearchField => (SEARCH_FIELDS as readonly string[]).includes(value);

const TOKEN = /(?:(\w+):)?(?:"((?:[^"\\]|\\.)*)"|(\S+))/g;

/**
 * Reads a search line such as `to:alice subject:"password reset" tls:none tag:signup listener:smtps welcome`:
 * `field:value` pairs (quoted when they hold spaces) and free words, which search `text`.
 * `encrypted:true`, `signed:true` and `protection:smime|pgp` find end-to-end protected mail.
 */
export function parseSearch(input: string): MessageFilter {
  const filter: Record<string, string> = {};
  const words: string[] = [];
  for (const match of input.matchAll(TOKEN)) {
    const [, key, quoted, bare] = match;
    const value = quoted !== undefined ? quoted.replace(/\\(.)/g, '$1') : (bare ?? '');
    const field = key?.toLowerCase();
    if (field !== undefined && isField(field)) {
      if (field === 'text') words.push(value);
      else {
        const choices = CHOICES[field];
        if (!choices) filter[field] = value;
        else if (choices.includes(value.toLowerCase())) filter[field] = value.toLowerCase();
      }
    } else words.push(key !== undefined ? `${key}:${value}` : value);
  }
  const text = words.filter(Boolean).join(' ');
  if (text) filter.text = text;
  return filter as MessageFilter;
}

function quote(value: string): string {
  return /[\s"]/.test(value) || value === '' ? `"${value.replace(/(["\\])/g, '\\$1')}"` : value;
}

/** The search line of a filter (its `tls` field is shown by the delivery picker instead). */
export function formatSearch(filter: MessageFilter): string {
  const parts: string[] = [];
  for (const field of ['to', 'from', 'subject', 'tag', 'listener', 'dkim', 'spf', 'dmarc', 'encrypted', 'signed', 'protection'] as const) {
    const value = filter[field];
    if (value) parts.push(`${field}:${quote(value)}`);
  }
  if (filter.text) parts.push(/^\w+:/.test(filter.text) ? `text:${quote(filter.text)}` : filter.text);
  return parts.join(' ');
}

/** The filter in an inbox address (`/?to=alice&tls=none`). */
export function filterFromQuery(query: URLSearchParams): MessageFilter {
  const filter: Record<string, string> = {};
  for (const field of SEARCH_FIELDS) {
    const value = query.get(field);
    if (value && (CHOICES[field]?.includes(value) ?? true)) filter[field] = value;
  }
  return filter as MessageFilter;
}

/** The inbox address of a filter, with the fields in a stable order. */
export function inboxHref(filter: MessageFilter): string {
  const query = new URLSearchParams();
  for (const field of SEARCH_FIELDS) {
    const value = filter[field];
    if (value) query.set(field, value);
  }
  const search = query.toString();
  return search ? `/?${search}` : '/';
}

/** Whether a filter has any criterion. */
export function hasCriteria(filter: MessageFilter): boolean {
  return SEARCH_FIELDS.some((field) => Boolean(filter[field]));
}

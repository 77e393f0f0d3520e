import { decodeHTML } from 'entities';

const SNIPPET_LENGTH = 200;
// Long enough that its collapsed form is nearly always past SNIPPET_LENGTH.
const SNIPPET_PREFIX_LENGTH = 512;
// Every run of whitespace but a single space, which collapses to itself: prose has one after
// nearly every word, and leaving those alone saves a replacement each.
const COLLAPSIBLE_WHITESPACE = / \s+|[^\S ]\s*/g;

/** A rough plain-text rendering of HTML, for the `text` filter and the snippet. */
export function htmlToPlain(html: string): string {
  const stripped = html.replace(/<(script|style|head)[\s\S]*?<\/\1\s*>/gi, ' ').replace(/<[^>]*>/g, ' ');
  // A no-break space reads as a space, as the `text` filter expects.
  return decodeHTML(stripped).replace(/\u00a0/g, ' ');
}

/**
 * The text of a message for its summary: the text body, or the HTML body's text when the
 * text body is missing or empty.
 */
export function messageText(text: string | false | undefined, html: string | false | undefined): string {
  return text || (typeof html === 'string' && html ? htmlToPlain(html) : '');
}

/**
 * The first {@link SNIPPET_LENGTH} characters of `text` with whitespace collapsed, ending in
 * `…` when cut short.
 */
export function snippetOf(text: string): string {
  // Collapsing a prefix instead of the whole body bounds the work, and the snippet (a slice,
  // which V8 keeps as a view of its parent string) then pins the short collapsed prefix in
  // memory instead of a collapsed copy of the whole body. The result is the same: the
  // prefix only grows while its collapsed form is still too short to decide.
  for (let length = SNIPPET_PREFIX_LENGTH; ; length *= 4) {
    const flat = collapse(text.slice(0, length));
    if (flat.length > SNIPPET_LENGTH) return cut(flat);
    if (length >= text.length) return flat;
  }
}

/**
 * The snippet of every text that starts with `prefix`, or null when the prefix is too short
 * to tell: a whitespace run collapses to one space however long it is, so the collapsed
 * prefix is a prefix of the collapsed text.
 */
export function snippetOfPrefix(prefix: string): string | null {
  const flat = collapse(prefix);
  return flat.length > SNIPPET_LENGTH ? cut(flat) : null;
}

const cut = (flat: string): string => `${flat.slice(0, SNIPPET_LENGTH - 1)}…`;

function collapse(text: string): string {
  return text.replace(COLLAPSIBLE_WHITESPACE, ' ').trim();
}

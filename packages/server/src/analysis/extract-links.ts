import { Parser } from 'htmlparser2';
import LinkifyIt from 'linkify-it';

// Only links with a scheme: a bare `example.com` or an e-mail address in prose is not a link
// the sender made, and `mailto:`, `ftp:` and protocol-relative links are not web links.
const linkify = new LinkifyIt({}, { fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false }).add('ftp:', null).add('//', null).add('mailto:', null);
const WEB_LINK = /^https?:\/\//i;
/** Elements whose content is not text a reader sees. */
const HIDDEN_ELEMENTS = new Set(['script', 'style', 'template']);

/** The decoded targets of an HTML body's links (`<a href>`, `<area href>`), and its visible text. */
function readHtml(html: string): { hrefs: string[]; text: string } {
  const hrefs: string[] = [];
  const text: string[] = [];
  let hidden = 0;
  // htmlparser2 decodes character references in attribute values and text (`&amp;`, `&#x3D;`, `&quot`).
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (HIDDEN_ELEMENTS.has(name)) hidden += 1;
        if ((name === 'a' || name === 'area') && attributes.href !== undefined) hrefs.push(attributes.href);
        text.push(' ');
      },
      onclosetag(name) {
        if (HIDDEN_ELEMENTS.has(name)) hidden = Math.max(0, hidden - 1);
        text.push(' ');
      },
      ontext(data) {
        if (hidden === 0) text.push(data);
      },
    },
    { decodeEntities: true },
  );
  parser.end(html);
  return { hrefs, text: text.join('') };
}

function linksInText(text: string): string[] {
  return (linkify.match(text) ?? []).map((match) => match.url);
}

/**
 * Every http(s) link of a message's bodies, in order and without duplicates: the targets of the
 * HTML body's links first, then the links written out in the text body and in the HTML body's
 * text. Character references are decoded (`?a=1&amp;b=2` is `?a=1&b=2`); trailing punctuation
 * of prose is not part of a link.
 */
export function extractLinks(text: string | null, html: string | null): string[] {
  const links = new Set<string>();
  const fromHtml = html ? readHtml(html) : { hrefs: [], text: '' };
  for (const href of fromHtml.hrefs) {
    // A URL attribute's value is stripped of leading and trailing ASCII whitespace (HTML Standard, "valid URL potentially surrounded by spaces").
    const target = href.replace(/^[\t\n\f\r ]+|[\t\n\f\r ]+$/g, '');
    if (WEB_LINK.test(target)) links.add(target);
  }
  for (const link of [...linksInText(text ?? ''), ...linksInText(fromHtml.text)]) links.add(link);
  return [...links];
}

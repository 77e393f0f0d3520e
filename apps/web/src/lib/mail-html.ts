import type { AttachmentSummary } from '@mailwright/core';

/** What the HTML tab renders: the iframe document, and what it keeps from loading. */
export interface MailDocument {
  /** The `srcdoc` of the sandboxed iframe. */
  srcdoc: string;
  /** How many remote images the document refers to (blocked until allowed). Remote style sheets and fonts stay blocked. */
  remoteCount: number;
  /** How many links were disabled because they were not http(s), mailto or tel. */
  blockedLinks: number;
}

/** Inputs of {@link buildMailDocument}. */
export interface MailDocumentOptions {
  html: string;
  attachments: readonly AttachmentSummary[];
  /** The address of an attachment, for `cid:` references. */
  attachmentUrl(partId: string): string;
  /** Let remote images load. */
  allowRemote: boolean;
  /** The viewer's origin, where `cid:` images are served from. */
  origin: string;
}

const REMOTE_URL = /^\s*(?:https?:)?\/\//i;
const CSS_URL = /url\(\s*(['"]?)(.*?)\1\s*\)/gi;
const SAFE_LINK = /^\s*(?:https?:|mailto:|tel:)/i;
const URL_ATTRIBUTES = ['src', 'background', 'poster', 'href', 'xlink:href'];

/** Whether an attribute loads an image (as opposed to a link or media). */
function isImageAttribute(element: Element, name: string): boolean {
  if (name === 'background' || name === 'poster') return true;
  if (name === 'src') return element.localName === 'img' || element.localName === 'input';
  return element.localName === 'image';
}

/** Bare content id of `cid:<abc@x>`, `<abc@x>` or `abc@x`. */
function contentIdKey(value: string): string {
  const bare = value.replace(/^\s*cid:/i, '').trim();
  let decoded = bare;
  try {
    decoded = decodeURIComponent(bare);
  } catch {
    // A stray % in a content id: compare it as written.
  }
  return decoded.replace(/^<|>$/g, '').toLowerCase();
}

/**
 * The policy of the mail document. It is the main guard against remote loads (it covers every
 * way of referring to a URL, unlike rewriting): nothing but inline styles, data: and the
 * viewer's own attachment URLs, plus remote images once allowed. Scripts match nothing.
 */
function contentSecurityPolicy(origin: string, allowRemote: boolean): string {
  const remote = allowRemote ? ' http: https:' : '';
  return [
    "default-src 'none'",
    `img-src ${origin} data: cid:${remote}`,
    "style-src 'unsafe-inline'",
    'font-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

function countCssRemotes(css: string): number {
  let count = 0;
  for (const match of css.matchAll(CSS_URL)) if (REMOTE_URL.test(match[2] ?? '')) count += 1;
  return count;
}

/**
 * Turns a message's HTML into the document of a sandboxed iframe. The sandbox (no scripts,
 * opaque origin) is what keeps the mail from running code or reaching the viewer; this adds
 * what a mail client does on top: remote content is blocked until allowed, `cid:` images
 * point at the attachments, links open in a new tab, and refresh redirects are dropped.
 */
export function buildMailDocument(options: MailDocumentOptions): MailDocument {
  const doc = new DOMParser().parseFromString(options.html, 'text/html');
  const byContentId = new Map<string, string>();
  for (const attachment of options.attachments) {
    if (attachment.contentId) byContentId.set(contentIdKey(attachment.contentId), options.origin + options.attachmentUrl(attachment.partId));
  }
  const resolveCid = (value: string): string => (/^\s*cid:/i.test(value) ? (byContentId.get(contentIdKey(value)) ?? value) : value);
  const rewriteCss = (css: string): string =>
    css.replace(CSS_URL, (whole, quoteMark: string, url: string) => (/^\s*cid:/i.test(url) ? `url(${quoteMark}${resolveCid(url)}${quoteMark})` : whole));

  let remoteCount = 0;
  let blockedLinks = 0;

  for (const element of doc.querySelectorAll('meta[http-equiv], base')) {
    if (element.localName === 'base' || element.getAttribute('http-equiv')?.toLowerCase() === 'refresh') element.remove();
  }

  for (const element of doc.querySelectorAll('*')) {
    for (const name of URL_ATTRIBUTES) {
      const value = element.getAttribute(name);
      if (value === null) continue;
      if (/^\s*cid:/i.test(value)) element.setAttribute(name, resolveCid(value));
      else if (isImageAttribute(element, name) && REMOTE_URL.test(value)) remoteCount += 1;
    }
    const srcset = element.getAttribute('srcset');
    if (srcset !== null && srcset.split(',').some((candidate) => REMOTE_URL.test(candidate))) remoteCount += 1;
    const style = element.getAttribute('style');
    if (style !== null) {
      remoteCount += countCssRemotes(style);
      element.setAttribute('style', rewriteCss(style));
    }
  }

  for (const style of doc.querySelectorAll('style')) {
    remoteCount += countCssRemotes(style.textContent ?? '');
    style.textContent = rewriteCss(style.textContent ?? '');
  }

  for (const anchor of doc.querySelectorAll('a[href], area[href]')) {
    const href = anchor.getAttribute('href') ?? '';
    if (href.startsWith('#')) {
      // A srcdoc document resolves URLs against the viewer's address, so a bare fragment
      // would load the viewer into the frame; point it at the document itself.
      anchor.setAttribute('href', `about:srcdoc${href}`);
      continue;
    }
    if (SAFE_LINK.test(href)) {
      anchor.setAttribute('target', '_blank');
      anchor.setAttribute('rel', 'noopener noreferrer');
    } else {
      // javascript:, data:, relative and other links have nowhere sensible to go from a
      // sandboxed document; keep the text, show the target on hover.
      anchor.removeAttribute('href');
      anchor.setAttribute('title', `Blocked link: ${href}`);
      anchor.setAttribute('data-blocked-href', href);
      blockedLinks += 1;
    }
  }

  const head = doc.head;
  const policy = doc.createElement('meta');
  policy.setAttribute('http-equiv', 'Content-Security-Policy');
  policy.setAttribute('content', contentSecurityPolicy(options.origin, options.allowRemote));
  const referrer = doc.createElement('meta');
  referrer.setAttribute('name', 'referrer');
  referrer.setAttribute('content', 'no-referrer');
  // Mail is written for a white page; the viewer's dark theme must not leak into it.
  const baseStyle = doc.createElement('style');
  baseStyle.textContent = 'html{background:#fff;color:#000;color-scheme:light}body{margin:16px;font-family:system-ui,sans-serif}';
  head.prepend(policy, referrer, baseStyle);

  const doctype = doc.doctype ? new XMLSerializer().serializeToString(doc.doctype) : '<!DOCTYPE html>';
  return { srcdoc: `${doctype}\n${doc.documentElement.outerHTML}`, remoteCount, blockedLinks };
}

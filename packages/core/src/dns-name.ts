/** The longest domain name in presentation form (RFC 1035 §2.3.4, without the root dot). */
const MAX_NAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
/** Letters, digits, hyphens, and underscores (for `_domainkey`, `_dmarc` and the like). */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;

/**
 * An internationalized name in A-labels (`bücher.example` → `xn--bcher-kva.example`) by the
 * WHATWG URL host parser, which browsers and Node.js share; empty when it is not a domain name.
 */
function toALabels(name: string): string {
  // Characters that would end the host part of a URL are never part of a domain name.
  if (/[\s/?#@:\\[\]%]/.test(name)) return '';
  try {
    return new URL(`http://${name}/`).hostname;
  } catch {
    return '';
  }
}

/**
 * A domain name in the form the zone keys it by: lower-case, A-labels (punycode) for
 * internationalized names, without the trailing root dot. Returns a problem (a sentence) for a
 * name that cannot be one.
 */
export function normalizeDnsName(input: string): { name: string } | { problem: string } {
  let name = input.trim();
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (name === '') return { problem: 'the name is empty' };
  // ASCII names pass through unchanged (bar case); internationalized ones become A-labels.
  const ascii = /^[\x21-\x7e]*$/.test(name) ? name : toALabels(name);
  if (ascii === '') return { problem: `"${input}" is not a valid domain name` };
  name = ascii.toLowerCase();
  if (name.length > MAX_NAME_LENGTH) return { problem: `the name is ${name.length} characters long; at most ${MAX_NAME_LENGTH} are allowed` };
  for (const label of name.split('.')) {
    if (label === '') return { problem: `"${input}" has an empty label` };
    if (label.length > MAX_LABEL_LENGTH) return { problem: `the label "${label}" is ${label.length} characters long; at most ${MAX_LABEL_LENGTH} are allowed` };
    if (!LABEL.test(label)) return { problem: `the label "${label}" may hold only letters, digits, "-" and "_" (and may not start or end with "-")` };
  }
  return { name };
}

/** The name and every ancestor of it, closest first: `a.b.c` → `a.b.c`, `b.c`, `c`. */
export function nameAndAncestors(name: string): string[] {
  const labels = name.split('.');
  return labels.map((_, index) => labels.slice(index).join('.'));
}

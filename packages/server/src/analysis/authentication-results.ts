import type { Authentication } from '@mailwright/core';

/**
 * A pvalue that needs no quoting: an RFC 2045 token (no tspecials such as `/` or `=`), or an
 * address (RFC 8601 §2.2 allows `local@domain` unquoted). Anything else is a quoted-string.
 */
const PLAIN_VALUE = /^[A-Za-z0-9!#$%&'*+\-.^_`{|}~@]+$/;

function propertyValue(value: string): string {
  return PLAIN_VALUE.test(value) ? value : `"${value.replace(/[\\"]/g, (character) => `\\${character}`)}"`;
}

function comment(text: string | null): string {
  if (!text) return '';
  // RFC 5322 comments nest parentheses; escaping them keeps the comment one unit.
  return ` (${text.replace(/[\\()]/g, (character) => `\\${character}`).replace(/[\r\n]+/g, ' ')})`;
}

function resinfo(method: string, result: string, reason: string | null, properties: [string, string | null | undefined][]): string {
  const props = properties.filter((entry): entry is [string, string] => Boolean(entry[1])).map(([name, value]) => ` ${name}=${propertyValue(value)}`);
  return `${method}=${result}${comment(reason)}${props.join('')}`;
}

/**
 * The RFC 8601 Authentication-Results header value for a set of verdicts, on one line:
 * `authserv-id; dkim=… ; spf=… ; dmarc=… [; arc=…]`.
 */
export function formatAuthenticationResults(
  authservId: string,
  auth: Omit<Authentication, 'status' | 'authenticationResults' | 'computedAt' | 'clientIp'>,
  context: { mailFrom: string; helo: string | null; headerFromDomain: string | null },
): string {
  const parts: string[] = [];
  if (auth.dkim.length === 0) parts.push('dkim=none (message not signed)');
  for (const signature of auth.dkim) {
    parts.push(
      resinfo('dkim', signature.result, signature.reason, [
        ['header.d', signature.domain],
        ['header.s', signature.selector],
        ['header.a', signature.algorithm],
        ['header.b', signature.signature.slice(0, 8)],
      ]),
    );
  }
  parts.push(
    resinfo('spf', auth.spf.result, auth.spf.reason, [
      ['smtp.mailfrom', context.mailFrom || (auth.spf.domain ? `postmaster@${auth.spf.domain}` : '')],
      ['smtp.helo', context.helo],
    ]),
  );
  parts.push(resinfo('dmarc', auth.dmarc.result, auth.dmarc.reason, [['header.from', context.headerFromDomain ?? auth.dmarc.domain]]));
  if (auth.arc) parts.push(resinfo('arc', auth.arc.result, auth.arc.reason, []));
  return `${authservId}; ${parts.join('; ')}`;
}

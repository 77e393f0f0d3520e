import { describe, expect, it } from 'vitest';
import { filterFromQuery, formatSearch, hasCriteria, inboxHref, parseSearch } from './search-query';

describe('parseSearch', () => {
  it('reads every filter field of the API, tag: and listener: included', () => {
    expect(parseSearch('to:alice from:billing subject:"password reset" tls:NONE tag:signup listener:smtps welcome')).toEqual({
      to: 'alice',
      from: 'billing',
      subject: 'password reset',
      tls: 'none',
      tag: 'signup',
      listener: 'smtps',
      text: 'welcome',
    });
  });

  it('reads the verdict filters dkim:, spf: and dmarc:, and leaves a value that is not a verdict out', () => {
    expect(parseSearch('dkim:PASS spf:softfail dmarc:great')).toEqual({ dkim: 'pass', spf: 'softfail' });
    expect(formatSearch({ dkim: 'fail', to: 'bob' })).toBe('to:bob dkim:fail');
    expect(filterFromQuery(new URLSearchParams('dmarc=none&spf=nope'))).toEqual({ dmarc: 'none' });
  });

  it('reads the protection filters encrypted:, signed: and protection:, and leaves other values out', () => {
    expect(parseSearch('encrypted:TRUE signed:false protection:SMIME invoice')).toEqual({
      encrypted: 'true',
      signed: 'false',
      protection: 'smime',
      text: 'invoice',
    });
    expect(parseSearch('encrypted:yes protection:gpg')).toEqual({});
    expect(formatSearch(parseSearch('protection:pgp encrypted:true to:bob'))).toBe('to:bob encrypted:true protection:pgp');
    expect(filterFromQuery(new URLSearchParams('signed=true&protection=x&encrypted=maybe'))).toEqual({ signed: 'true' });
    expect(inboxHref(parseSearch('protection:pgp signed:true'))).toBe('/?signed=true&protection=pgp');
  });

  it('takes quoted values with spaces and escaped quotes, and field names in any case', () => {
    expect(parseSearch('TAG:"beta users" Listener:"lab \\"2\\""')).toEqual({ tag: 'beta users', listener: 'lab "2"' });
  });

  it('searches the text for unknown fields and free words, and leaves an unknown tls value out', () => {
    expect(parseSearch('cc:bob tls:maybe hello')).toEqual({ text: 'cc:bob hello' });
    expect(parseSearch('text:"a b" c')).toEqual({ text: 'a b c' });
  });
});

describe('formatSearch', () => {
  it('writes tag: and listener: back, so that a line and its filter agree', () => {
    const line = 'to:alice tag:signup listener:"lab 2" hello';
    expect(formatSearch(parseSearch(line))).toBe(line);
    expect(parseSearch(formatSearch({ tag: 'a"b', listener: 'smtps' }))).toEqual({ tag: 'a"b', listener: 'smtps' });
  });
});

describe('the inbox address', () => {
  it('carries tag and listener and reads them back', () => {
    const href = inboxHref({ subject: 'Invoice', tag: 'billing', listener: 'smtps' });
    expect(href).toBe('/?subject=Invoice&tag=billing&listener=smtps');
    expect(filterFromQuery(new URLSearchParams(href.slice(2)))).toEqual({ subject: 'Invoice', tag: 'billing', listener: 'smtps' });
    expect(hasCriteria({ listener: 'smtps' })).toBe(true);
    expect(hasCriteria({})).toBe(false);
  });
});

import { isMailwrightError } from '@mailwright/core';
import { describe, expect, test } from 'vitest';
import type { DnsResolver } from './dns-resolver.js';
import { DnsZone, MAX_ZONE_RECORDS } from './dns-zone.js';
import { MAX_TXT_BYTES, splitTxt } from './dns-record-value.js';
import { MAX_CNAME_CHAIN, createZoneResolver } from './zone-resolver.js';

/** The error code a resolver call rejects with. */
async function codeOf(resolve: DnsResolver, name: string, type: string): Promise<string> {
  try {
    await resolve(name, type);
  } catch (error) {
    return (error as { code?: string }).code ?? 'no code';
  }
  return 'answered';
}

function problemsOf(action: () => unknown): string[] {
  try {
    action();
  } catch (error) {
    if (!isMailwrightError(error)) throw error;
    expect(error.code).toBe('INVALID_DNS_RECORD');
    return (error.details as { message: string }[]).map((problem) => problem.message);
  }
  throw new Error('expected INVALID_DNS_RECORD');
}

describe('DnsZone records', () => {
  test('set replaces the records of a name and type; add appends; get and delete by name and type', () => {
    const zone = new DnsZone();
    zone.set('Example.COM.', 'a', ['192.0.2.1', '192.0.2.2']);
    zone.add('example.com', 'A', '192.0.2.3');
    zone.set('example.com', 'TXT', 'v=spf1 -all');
    expect(zone.get('example.com', 'A').map((record) => record.value)).toEqual(['192.0.2.1', '192.0.2.2', '192.0.2.3']);
    zone.set('example.com', 'A', '198.51.100.1');
    expect(zone.get('EXAMPLE.com')).toEqual([
      { name: 'example.com', type: 'A', value: '198.51.100.1' },
      { name: 'example.com', type: 'TXT', value: 'v=spf1 -all' },
    ]);
    expect(zone.delete('example.com', 'TXT')).toBe(1);
    expect(zone.delete('example.com', 'TXT')).toBe(0);
    expect(zone.size).toBe(1);
    expect(zone.delete('example.com')).toBe(1);
    expect(zone.records()).toEqual([]);
  });

  test('the revision grows with every change, not with a read', () => {
    const zone = new DnsZone();
    const start = zone.revision;
    zone.set('example.com', 'A', '192.0.2.1');
    zone.get('example.com');
    expect(zone.revision).toBe(start + 1);
    zone.delete('nothing.example');
    expect(zone.revision).toBe(start + 1);
    zone.clear();
    expect(zone.revision).toBe(start + 2);
  });

  test('values are brought into one form: IDN names, MX, IPv6 case', () => {
    const zone = DnsZone.from([
      { name: 'bücher.example', type: 'MX', value: '10   MX.Bücher.example.' },
      { name: 'v6.example', type: 'AAAA', value: '2001:DB8::1' },
      { name: 'null-mx.example', type: 'MX', value: '0 .' },
    ]);
    expect(zone.records()).toEqual([
      { name: 'null-mx.example', type: 'MX', value: '0 .' },
      { name: 'v6.example', type: 'AAAA', value: '2001:db8::1' },
      { name: 'xn--bcher-kva.example', type: 'MX', value: '10 mx.xn--bcher-kva.example' },
    ]);
  });

  test('a list with bad records changes nothing, and every problem is listed with its position', () => {
    const zone = DnsZone.from([{ name: 'keep.example', type: 'A', value: '192.0.2.1' }]);
    const problems = problemsOf(() =>
      zone.put([
        { name: 'ok.example', type: 'A', value: '192.0.2.9' },
        { name: 'bad..example', type: 'A', value: '192.0.2.1' },
        { name: 'x.example', type: 'SRV', value: '0 5 5060 sip.example' },
        { name: 'x.example', type: 'A', value: '300.1.1.1' },
        { name: 'x.example', type: 'AAAA', value: '192.0.2.1' },
        { name: 'x.example', type: 'MX', value: 'mx.example' },
        { name: 'x.example', type: 'MX', value: '70000 mx.example' },
        { name: 'x.example', type: 'CNAME', value: 'under_score-.example' },
        { name: `${'a'.repeat(64)}.example`, type: 'A', value: '192.0.2.1' },
        { name: 'big.example', type: 'TXT', value: 'x'.repeat(MAX_TXT_BYTES + 1) },
      ]),
    );
    expect(problems).toEqual([
      'name: "bad..example" has an empty label',
      'type: "SRV" is not one of TXT, MX, A, AAAA, CNAME, PTR',
      'value: "300.1.1.1" is not an IPv4 address',
      'value: "192.0.2.1" is not an IPv6 address',
      'value: "mx.example" is not "priority exchange" (e.g. "10 mx.example.com")',
      'value: the priority 70000 is over 65535',
      'value: the label "under_score-" may hold only letters, digits, "-" and "_" (and may not start or end with "-")',
      `name: the label "${'a'.repeat(64)}" is 64 characters long; at most 63 are allowed`,
      `value: the text is ${MAX_TXT_BYTES + 1} bytes long; one TXT record holds at most ${MAX_TXT_BYTES}`,
    ]);
    expect(zone.records()).toEqual([{ name: 'keep.example', type: 'A', value: '192.0.2.1' }]);
  });

  test('a CNAME stands alone at its name (RFC 1034 §3.6.2)', () => {
    const zone = DnsZone.from([{ name: 'www.example.com', type: 'A', value: '192.0.2.1' }]);
    expect(problemsOf(() => zone.set('www.example.com', 'CNAME', 'example.com'))).toEqual(['a name with a CNAME holds no other records (it also has A)']);
    expect(problemsOf(() => zone.set('alias.example.com', 'CNAME', ['a.example.com', 'b.example.com']))).toEqual([
      'a name has at most one CNAME (found 2: a.example.com, b.example.com)',
    ]);
    zone.set('alias.example.com', 'CNAME', 'www.example.com');
    expect(problemsOf(() => zone.add('alias.example.com', 'TXT', 'x'))).toEqual(['a name with a CNAME holds no other records (it also has TXT)']);
  });

  test('the zone is bounded', () => {
    const zone = new DnsZone();
    const records = Array.from({ length: MAX_ZONE_RECORDS + 1 }, (_, index) => ({ name: `h${index}.example`, type: 'A', value: '192.0.2.1' }));
    expect(problemsOf(() => zone.put(records))).toEqual([`the zone would hold ${MAX_ZONE_RECORDS + 1} records; at most ${MAX_ZONE_RECORDS} are allowed`]);
    expect(zone.size).toBe(0);
  });
});

describe('createZoneResolver', () => {
  const zone = DnsZone.from([
    { name: 'example.com', type: 'A', value: '192.0.2.1' },
    { name: 'example.com', type: 'AAAA', value: '2001:db8::1' },
    { name: 'example.com', type: 'MX', value: '20 mx2.example.com' },
    { name: 'example.com', type: 'MX', value: '10 mx1.example.com' },
    { name: 'example.com', type: 'TXT', value: 'v=spf1 -all' },
    { name: 's1._domainkey.example.com', type: 'TXT', value: 'v=DKIM1; p=abc' },
    { name: 'www.example.com', type: 'CNAME', value: 'example.com' },
    { name: '1.2.0.192.in-addr.arpa', type: 'PTR', value: 'mail.example.com' },
  ]);
  const resolve = createZoneResolver(zone);

  test('answers in the shapes dns.promises.resolve gives', async () => {
    expect(await resolve('example.com')).toEqual(['192.0.2.1']);
    expect(await resolve('EXAMPLE.com.', 'AAAA')).toEqual(['2001:db8::1']);
    expect(await resolve('example.com', 'MX')).toEqual([
      { priority: 20, exchange: 'mx2.example.com' },
      { priority: 10, exchange: 'mx1.example.com' },
    ]);
    expect(await resolve('example.com', 'TXT')).toEqual([['v=spf1 -all']]);
    expect(await resolve('1.2.0.192.in-addr.arpa', 'PTR')).toEqual(['mail.example.com']);
    expect(await resolve('www.example.com', 'CNAME')).toEqual(['example.com']);
  });

  test('a missing name is ENOTFOUND, a name without that type ENODATA, never a network query', async () => {
    expect(await codeOf(resolve, 'nowhere.example.com', 'TXT')).toBe('ENOTFOUND');
    expect(await codeOf(resolve, 'example.org', 'A')).toBe('ENOTFOUND');
    expect(await codeOf(resolve, 'example.com', 'PTR')).toBe('ENODATA');
    expect(await codeOf(resolve, 'example.com', 'NS')).toBe('ENODATA');
    // A name with records only below it exists (an empty non-terminal).
    expect(await codeOf(resolve, '_domainkey.example.com', 'TXT')).toBe('ENODATA');
    expect(await codeOf(resolve, 'bad..name', 'A')).toBe('ENOTFOUND');
    expect(await codeOf(resolve, 'example.com', 'BOGUS')).toBe('ERR_INVALID_ARG_VALUE');
    const error = await resolve('nowhere.example.com', 'TXT').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ENOTFOUND', syscall: 'queryTxt', hostname: 'nowhere.example.com' });
  });

  test('CNAMEs are followed, boundedly; a loop is ESERVFAIL', async () => {
    expect(await resolve('www.example.com', 'A')).toEqual(['192.0.2.1']);
    expect(await resolve('www.example.com', 'TXT')).toEqual([['v=spf1 -all']]);
    const chain = new DnsZone();
    for (let index = 0; index < MAX_CNAME_CHAIN + 1; index++) chain.set(`c${index}.example`, 'CNAME', `c${index + 1}.example`);
    chain.set(`c${MAX_CNAME_CHAIN + 1}.example`, 'A', '192.0.2.7');
    const chained = createZoneResolver(chain);
    expect(await chained('c1.example')).toEqual(['192.0.2.7']);
    expect(await codeOf(chained, 'c0.example', 'A')).toBe('ESERVFAIL');
    chain.set('loop1.example', 'CNAME', 'loop2.example');
    chain.set('loop2.example', 'CNAME', 'loop1.example');
    expect(await codeOf(chained, 'loop1.example', 'A')).toBe('ESERVFAIL');
    chain.set('dangling.example', 'CNAME', 'gone.example');
    expect(await codeOf(chained, 'dangling.example', 'A')).toBe('ENOTFOUND');
  });

  test('a 16 KB TXT record is served whole, in strings of at most 255 bytes', async () => {
    const text = `v=DKIM1; k=rsa; p=${'A'.repeat(16 * 1024)}`;
    const big = DnsZone.from([{ name: 'big._domainkey.example.com', type: 'TXT', value: text }]);
    const [strings] = (await createZoneResolver(big)('big._domainkey.example.com', 'TXT')) as string[][];
    expect(strings?.join('')).toBe(text);
    expect(Math.max(...(strings ?? []).map((string) => Buffer.byteLength(string)))).toBe(255);
    // Multi-byte characters are never split.
    expect(splitTxt('é'.repeat(200)).map((string) => Buffer.byteLength(string))).toEqual([254, 146]);
    expect(splitTxt('')).toEqual(['']);
  });

  test('answers are copies: a caller that sorts them changes nothing', async () => {
    const first = (await resolve('example.com', 'MX')) as { priority: number }[];
    first.sort((left, right) => left.priority - right.priority);
    expect(((await resolve('example.com', 'MX')) as { priority: number }[]).map((mx) => mx.priority)).toEqual([20, 10]);
  });

  test('a change to the zone is seen by the next query', async () => {
    const live = new DnsZone();
    const ask = createZoneResolver(live);
    expect(await codeOf(ask, 's1._domainkey.example.net', 'TXT')).toBe('ENOTFOUND');
    live.set('s1._domainkey.example.net', 'TXT', 'v=DKIM1; p=xyz');
    expect(await ask('s1._domainkey.example.net', 'TXT')).toEqual([['v=DKIM1; p=xyz']]);
  });
});

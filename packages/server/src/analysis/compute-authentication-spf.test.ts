import type { DnsRecord } from '@mailwright/core';
import { describe, expect, test } from 'vitest';
import { DnsZone } from '../dns/dns-zone.js';
import { spfAllowRecord } from '@mailwright/core';
import { composeMessage } from '../test-support/compose-message.js';
import { verifyAuthentication } from '../test-support/verify-authentication.js';

const txt = (name: string, value: string): DnsRecord => ({ name, type: 'TXT', value });
const a = (name: string, value: string): DnsRecord => ({ name, type: 'A', value });

async function spfOf(records: DnsRecord[], envelope: { mailFrom?: string; helo?: string | null; clientIp?: string } = {}) {
  return verifyAuthentication(await composeMessage(), DnsZone.from(records), envelope);
}

describe('SPF mechanisms', () => {
  test.each<[string, DnsRecord[], string, string]>([
    ['ip4', [txt('example.com', 'v=spf1 ip4:198.51.100.0/24 ip4:203.0.113.0/24 -all')], '203.0.113.7', 'ip4:203.0.113.0/24'],
    ['ip6', [txt('example.com', 'v=spf1 ip6:2001:db8::/32 -all')], '2001:db8::7', 'ip6:2001:db8::/32'],
    ['a', [txt('example.com', 'v=spf1 a -all'), a('example.com', '203.0.113.7')], '203.0.113.7', 'a'],
    [
      'a:domain/cidr',
      [txt('example.com', 'v=spf1 a:relay.example.com/28 -all'), a('relay.example.com', '203.0.113.1')],
      '203.0.113.7',
      'a:relay.example.com/28',
    ],
    [
      'mx',
      [
        txt('example.com', 'v=spf1 mx -all'),
        { name: 'example.com', type: 'MX', value: '10 mx1.example.com' },
        { name: 'example.com', type: 'MX', value: '20 mx2.example.com' },
        a('mx1.example.com', '198.51.100.1'),
        a('mx2.example.com', '203.0.113.7'),
      ],
      '203.0.113.7',
      'mx (mx2.example.com)',
    ],
    [
      'include',
      [txt('example.com', 'v=spf1 include:_spf.example.net -all'), txt('_spf.example.net', 'v=spf1 ip4:203.0.113.7 -all')],
      '203.0.113.7',
      'include:_spf.example.net (ip4:203.0.113.7)',
    ],
    [
      'redirect',
      [txt('example.com', 'v=spf1 redirect=_spf.example.org'), txt('_spf.example.org', 'v=spf1 ip4:203.0.113.7 -all')],
      '203.0.113.7',
      'ip4:203.0.113.7',
    ],
    [
      'exists with a macro',
      [txt('example.com', 'v=spf1 exists:%{i}._allow.example.com -all'), a('203.0.113.7._allow.example.com', '127.0.0.2')],
      '203.0.113.7',
      'exists:203.0.113.7._allow.example.com',
    ],
    [
      'a CNAME on the way',
      [
        txt('example.com', 'v=spf1 a:relay.example.com -all'),
        { name: 'relay.example.com', type: 'CNAME', value: 'host.example.net' },
        a('host.example.net', '203.0.113.7'),
      ],
      '203.0.113.7',
      'a:relay.example.com',
    ],
  ])('%s passes and names the mechanism', async (_name, records, clientIp, mechanism) => {
    const auth = await spfOf(records, { clientIp });
    expect(auth.spf).toMatchObject({ result: 'pass', domain: 'example.com', clientIp, mechanism });
    expect(auth.authenticationResults).toContain('spf=pass (mx.mailwright.test: domain of alice@example.com designates');
    expect(auth.authenticationResults).toContain('smtp.mailfrom=alice@example.com');
  });

  test.each([
    ['-all', 'fail'],
    ['~all', 'softfail'],
    ['?all', 'neutral'],
  ])('an address not listed meets %s: %s', async (all, result) => {
    const auth = await spfOf([txt('example.com', `v=spf1 ip4:198.51.100.0/24 ${all}`)]);
    expect(auth.spf).toMatchObject({ result, mechanism: all, record: `v=spf1 ip4:198.51.100.0/24 ${all}` });
  });

  test('the lookup count is reported', async () => {
    const auth = await spfOf([
      txt('example.com', 'v=spf1 a mx include:_spf.example.net -all'),
      a('example.com', '198.51.100.1'),
      txt('_spf.example.net', 'v=spf1 ip4:203.0.113.7 -all'),
    ]);
    expect(auth.spf).toMatchObject({ result: 'pass', lookups: 3 });
  });
});

describe('SPF errors', () => {
  test('more than 10 DNS-querying mechanisms is permerror', async () => {
    const includes = Array.from({ length: 11 }, (_, index) => `include:n${index}.example.net`);
    const records = [txt('example.com', `v=spf1 ${includes.join(' ')} -all`), ...includes.map((_, index) => txt(`n${index}.example.net`, 'v=spf1 ?all'))];
    const auth = await spfOf(records);
    expect(auth.spf).toMatchObject({ result: 'permerror', reason: expect.stringContaining('Too many DNS requests'), lookups: 11 });
    // Ten are still allowed.
    const ten = await spfOf([txt('example.com', `v=spf1 ${includes.slice(0, 10).join(' ')} ip4:203.0.113.7 -all`), ...records.slice(1)]);
    expect(ten.spf.result).toBe('pass');
  });

  test('a record that includes itself is permerror, not a hang', async () => {
    const auth = await spfOf([txt('example.com', 'v=spf1 include:example.com -all')]);
    expect(auth.spf.result).toBe('permerror');
    const pair = await spfOf([txt('example.com', 'v=spf1 redirect=example.net'), txt('example.net', 'v=spf1 redirect=example.com')]);
    expect(pair.spf.result).toBe('permerror');
  });

  test('more than two void lookups is permerror', async () => {
    const auth = await spfOf([txt('example.com', 'v=spf1 a:gone1.example.com a:gone2.example.com a:gone3.example.com ip4:203.0.113.7 -all')]);
    expect(auth.spf).toMatchObject({ result: 'permerror', reason: expect.stringContaining('Too many void DNS results'), voidLookups: 3 });
    const two = await spfOf([txt('example.com', 'v=spf1 a:gone1.example.com a:gone2.example.com ip4:203.0.113.7 -all')]);
    expect(two.spf).toMatchObject({ result: 'pass', voidLookups: 2 });
  });

  test('two SPF records, or a mechanism that does not exist, are permerror', async () => {
    expect((await spfOf([txt('example.com', 'v=spf1 -all'), txt('example.com', 'v=spf1 +all')])).spf.result).toBe('permerror');
    expect((await spfOf([txt('example.com', 'v=spf1 ip5:203.0.113.7 -all')])).spf).toMatchObject({
      result: 'permerror',
      reason: expect.stringContaining('Unknown mechanism ip5'),
    });
  });

  test('no SPF record is none', async () => {
    const auth = await spfOf([txt('example.com', 'google-site-verification=abc')]);
    expect(auth.spf).toMatchObject({ result: 'none', mechanism: null, record: null });
  });
});

describe('SPF identities and the client address', () => {
  test('HELO is checked on its own', async () => {
    const auth = await spfOf([spfAllowRecord('example.com', '198.51.100.1'), spfAllowRecord('mail.example.com', '203.0.113.7')]);
    expect(auth.spf.result).toBe('fail');
    expect(auth.helo).toEqual({ result: 'pass', domain: 'mail.example.com', reason: expect.stringContaining('designates 203.0.113.7') });
  });

  test('a HELO address literal has no SPF identity', async () => {
    const auth = await spfOf([spfAllowRecord('example.com', '203.0.113.7')], { helo: '[203.0.113.7]' });
    expect(auth.helo).toBeNull();
    expect(auth.spf.result).toBe('pass');
  });

  test('the null sender is judged by postmaster@ the HELO name (RFC 7208 §2.4)', async () => {
    const auth = await spfOf([spfAllowRecord('mail.example.com', '203.0.113.7')], { mailFrom: '' });
    expect(auth.spf).toMatchObject({ result: 'pass', domain: 'mail.example.com' });
    expect(auth.authenticationResults).toContain('smtp.mailfrom=postmaster@mail.example.com');
  });

  test('an IPv4-mapped IPv6 client address is judged as IPv4', async () => {
    const auth = await spfOf([spfAllowRecord('example.com', '203.0.113.7')], { clientIp: '::ffff:203.0.113.7' });
    expect(auth.spf).toMatchObject({ result: 'pass', clientIp: '203.0.113.7' });
    expect(auth.clientIp).toEqual({ address: '203.0.113.7', source: 'connection' });
  });
});

describe('record builders', () => {
  test('spfAllowRecord lists every address before the all of choice', () => {
    expect(spfAllowRecord('Example.COM.', ['203.0.113.7', '2001:db8::/32'], { all: '~all', also: ['include:_spf.example.net'] })).toEqual({
      name: 'example.com',
      type: 'TXT',
      value: 'v=spf1 ip4:203.0.113.7 ip6:2001:db8::/32 include:_spf.example.net ~all',
    });
    expect(() => spfAllowRecord('example.com', '203.0.113.300')).toThrow(/not an IP address/);
    expect(() => spfAllowRecord('example.com', '203.0.113.0/33')).toThrow(/not an IP address/);
  });
});

import { describe, expect, it } from 'vitest';
import { normalizeDnsName } from './dns-name.js';
import { dmarcRecord, spfAllowRecord } from './policy-records.js';

describe('spfAllowRecord', () => {
  it('lists IPv4 and IPv6 addresses and networks before -all', () => {
    expect(spfAllowRecord('Example.COM.', ['203.0.113.7', '2001:db8::/32'])).toEqual({
      name: 'example.com',
      type: 'TXT',
      value: 'v=spf1 ip4:203.0.113.7 ip6:2001:db8::/32 -all',
    });
    expect(spfAllowRecord('example.com', '203.0.113.0/24', { all: '~all', also: ['include:_spf.example.net'] }).value).toBe(
      'v=spf1 ip4:203.0.113.0/24 include:_spf.example.net ~all',
    );
  });

  it('refuses what is not an address, a prefix too long, or a bad domain', () => {
    expect(() => spfAllowRecord('example.com', '203.0.113.256')).toThrow('"203.0.113.256" is not an IP address or network');
    expect(() => spfAllowRecord('example.com', '203.0.113.0/33')).toThrow('is not an IP address or network');
    expect(() => spfAllowRecord('exa mple.com', '203.0.113.7')).toThrow(/^domain: /);
  });
});

describe('dmarcRecord', () => {
  it('writes the tags at _dmarc', () => {
    expect(
      dmarcRecord('example.com', 'reject', { subdomainPolicy: 'none', dkimAlignment: 'strict', spfAlignment: 'relaxed', reportTo: ['d@example.com'] }),
    ).toEqual({
      name: '_dmarc.example.com',
      type: 'TXT',
      value: 'v=DMARC1; p=reject; sp=none; adkim=s; aspf=r; rua=mailto:d@example.com',
    });
  });

  it('refuses an unknown policy', () => {
    expect(() => dmarcRecord('example.com', 'block' as never)).toThrow('policy must be none, quarantine or reject (got block)');
  });
});

describe('normalizeDnsName', () => {
  it('writes internationalized names in A-labels, without Node.js APIs', () => {
    expect(normalizeDnsName('Bücher.Example.')).toEqual({ name: 'xn--bcher-kva.example' });
  });

  it('refuses what cannot be a name', () => {
    expect(normalizeDnsName('bücher.example/x')).toEqual({ problem: '"bücher.example/x" is not a valid domain name' });
    expect(normalizeDnsName('a..b')).toEqual({ problem: '"a..b" has an empty label' });
    expect(normalizeDnsName('')).toEqual({ problem: 'the name is empty' });
  });
});

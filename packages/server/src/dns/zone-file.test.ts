import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMailwrightError } from '@mailwright/core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadZoneFile, parseZoneFile, zoneFromText } from './zone-file.js';
import { createZoneResolver } from './zone-resolver.js';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'mailwright-zone-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const EXAMPLE = `# The zone of example.com, for the sign-up mail tests.
example.com                TXT  v=spf1 ip4:203.0.113.0/24 include:_spf.example.net -all
_dmarc.example.com.        TXT  v=DMARC1; p=reject; rua=mailto:dmarc@example.com
s1._domainkey.example.com  TXT  "v=DKIM1; k=rsa; " "p=MIIBIjANBgkqh\\"kiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"
example.com                MX   10 mx1.example.com
example.com                MX   20 mx2.example.com

; BIND-style lines work too: a TTL and the IN class are read and ignored.
mx1.example.com  300 IN A     203.0.113.10
mx2.example.com  IN  300 AAAA  2001:DB8::10
www.example.com        CNAME example.com
10.113.0.203.in-addr.arpa  PTR  mx1.example.com
empty.example.com      TXT
`;

describe('parseZoneFile', () => {
  test('reads one record per line, with comments, quoted TXT strings, TTL and class', () => {
    const { records, problems } = parseZoneFile(EXAMPLE);
    expect(problems).toEqual([]);
    expect(records).toEqual([
      { line: 2, record: { name: 'example.com', type: 'TXT', value: 'v=spf1 ip4:203.0.113.0/24 include:_spf.example.net -all' } },
      { line: 3, record: { name: '_dmarc.example.com', type: 'TXT', value: 'v=DMARC1; p=reject; rua=mailto:dmarc@example.com' } },
      { line: 4, record: { name: 's1._domainkey.example.com', type: 'TXT', value: 'v=DKIM1; k=rsa; p=MIIBIjANBgkqh"kiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA' } },
      { line: 5, record: { name: 'example.com', type: 'MX', value: '10 mx1.example.com' } },
      { line: 6, record: { name: 'example.com', type: 'MX', value: '20 mx2.example.com' } },
      { line: 9, record: { name: 'mx1.example.com', type: 'A', value: '203.0.113.10' } },
      { line: 10, record: { name: 'mx2.example.com', type: 'AAAA', value: '2001:db8::10' } },
      { line: 11, record: { name: 'www.example.com', type: 'CNAME', value: 'example.com' } },
      { line: 12, record: { name: '10.113.0.203.in-addr.arpa', type: 'PTR', value: 'mx1.example.com' } },
      { line: 13, record: { name: 'empty.example.com', type: 'TXT', value: '' } },
    ]);
  });

  test('lists every problem at once, each with its line', () => {
    const text = [
      'example.com TXT v=spf1 -all', // 1 fine
      'example.com', // 2 no type
      'example.com A', // 3 no value
      'example.com A 203.0.113.300', // 4 bad address
      'example..com TXT x', // 5 bad name
      'example.com SRV 0 5 5060 sip.example.com', // 6 unknown type
      'example.com TXT "unterminated', // 7
      'example.com TXT "a" trailing', // 8
      'alias.example.com CNAME example.com', // 9 CNAME …
      'alias.example.com TXT also here', // 10 … with other data
      'example.com MX ten mx.example.com', // 11
      '', // 12 blank
      '# fine', // 13 comment
      'example.com AAAA 203.0.113.7', // 14
    ].join('\r\n');
    const { problems, records } = parseZoneFile(text);
    expect(problems).toEqual([
      { line: 2, message: 'expected "name TYPE value" (found only "example.com")' },
      { line: 3, message: 'expected a value after "example.com A"' },
      { line: 4, message: 'value: "203.0.113.300" is not an IPv4 address' },
      { line: 5, message: 'name: "example..com" has an empty label' },
      { line: 6, message: 'type: "SRV" is not one of TXT, MX, A, AAAA, CNAME, PTR' },
      { line: 7, message: 'a quoted TXT string is not closed (a record is one line)' },
      { line: 8, message: 'after a quoted TXT string only another quoted string may follow (found "trailing")' },
      { line: 9, message: 'alias.example.com: a name with a CNAME holds no other records (it also has TXT)' },
      { line: 11, message: 'value: "ten mx.example.com" is not "priority exchange" (e.g. "10 mx.example.com")' },
      { line: 14, message: 'value: "203.0.113.7" is not an IPv6 address' },
    ]);
    expect(records.map((record) => record.line)).toEqual([1, 9, 10]);
  });

  test('a 16 KB TXT value on one line is read whole', () => {
    const key = 'A'.repeat(16 * 1024);
    const { records, problems } = parseZoneFile(`big._domainkey.example.com TXT v=DKIM1; k=rsa; p=${key}\n`);
    expect(problems).toEqual([]);
    expect(records[0]?.record.value).toBe(`v=DKIM1; k=rsa; p=${key}`);
  });
});

describe('zoneFromText and loadZoneFile', () => {
  test('a valid file becomes a zone the resolver answers from', async () => {
    const path = join(directory, 'ok.zone');
    await writeFile(path, EXAMPLE);
    const zone = await loadZoneFile(path);
    expect(zone.size).toBe(10);
    const resolve = createZoneResolver(zone);
    expect(await resolve('www.example.com', 'MX')).toEqual([
      { priority: 10, exchange: 'mx1.example.com' },
      { priority: 20, exchange: 'mx2.example.com' },
    ]);
    await expect(resolve('www.example.com', 'A')).rejects.toMatchObject({ code: 'ENODATA' });
    expect(await resolve('s1._domainkey.example.com', 'TXT')).toEqual([['v=DKIM1; k=rsa; p=MIIBIjANBgkqh"kiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA']]);
  });

  test('a file with errors is refused with every problem as file:line', async () => {
    const path = join(directory, 'bad.zone');
    await writeFile(path, 'example.com TXT ok\nexample.com A nope\n\nexample.com PTR -bad-.example\n');
    const error = await loadZoneFile(path).catch((caught: unknown) => caught);
    expect(isMailwrightError(error) && error.code).toBe('INVALID_DNS_RECORD');
    expect((error as Error).message).toBe(
      `${path} has 2 problems:\n  ${path}:2: value: "nope" is not an IPv4 address\n  ${path}:4: value: the label "-bad-" may hold only letters, digits, "-" and "_" (and may not start or end with "-")`,
    );
    expect((error as { details: unknown }).details).toEqual([
      { line: 2, message: 'value: "nope" is not an IPv4 address' },
      { line: 4, message: expect.stringContaining('-bad-') },
    ]);
  });

  test('a missing file is a clear error', async () => {
    await expect(loadZoneFile(join(directory, 'missing.zone'))).rejects.toThrow(/cannot read the DNS zone file .*missing\.zone/);
  });

  test('zoneFromText names its source', () => {
    expect(() => zoneFromText('x TXT "open', '--dns-zone')).toThrow(
      '--dns-zone has 1 problem:\n  --dns-zone:1: a quoted TXT string is not closed (a record is one line)',
    );
  });
});

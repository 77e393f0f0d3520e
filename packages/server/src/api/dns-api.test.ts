import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isMailwrightError } from '@mailwright/core';
import { createMailwright, type RunningMailwright } from '../mailwright.js';

let server: RunningMailwright;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailwright-dns-api-'));
  const zoneFile = join(dir, 'example.zone');
  await writeFile(zoneFile, 'example.com TXT v=spf1 ip4:203.0.113.7 -all\nexample.com MX 10 mx.example.com\n');
  server = await createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0, dnsZone: zoneFile });
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function request(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('the mock DNS zone over REST', () => {
  it('serves the records loaded from --dns-zone', async () => {
    const response = await request('GET', '/dns/records');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      mode: 'mock',
      records: [
        { name: 'example.com', type: 'TXT', value: 'v=spf1 ip4:203.0.113.7 -all' },
        { name: 'example.com', type: 'MX', value: '10 mx.example.com' },
      ],
    });
  });

  it('sets the records of a name and type (replacing them), answers the new state of the names, and deletes them', async () => {
    const put = await request('PUT', '/dns/records', [
      { name: 'Example.ORG.', type: 'txt', value: 'v=spf1 -all' },
      { name: 'example.org', type: 'MX', value: '10 a.example.org' },
      { name: 'example.org', type: 'MX', value: '20 b.example.org' },
    ]);
    expect(put.status).toBe(200);
    expect((await put.json()).records).toEqual([
      { name: 'example.org', type: 'TXT', value: 'v=spf1 -all' },
      { name: 'example.org', type: 'MX', value: '10 a.example.org' },
      { name: 'example.org', type: 'MX', value: '20 b.example.org' },
    ]);
    const single = await request('PUT', '/dns/records', { name: 'example.org', type: 'MX', value: '5 c.example.org' });
    expect((await single.json()).records).toEqual([
      { name: 'example.org', type: 'TXT', value: 'v=spf1 -all' },
      { name: 'example.org', type: 'MX', value: '5 c.example.org' },
    ]);
    expect((await request('DELETE', '/dns/records?name=example.org&type=MX')).status).toBe(204);
    expect(server.dnsZone.get('example.org')).toEqual([{ name: 'example.org', type: 'TXT', value: 'v=spf1 -all' }]);
    expect((await request('DELETE', '/dns/records?name=example.org')).status).toBe(204);
    expect(server.dnsZone.get('example.org')).toEqual([]);
  });

  it('refuses bad records with 400 INVALID_DNS_RECORD listing every problem, and changes nothing', async () => {
    const before = server.dnsZone.records();
    const response = await request('PUT', '/dns/records', [
      { name: 'ok.example.com', type: 'A', value: '192.0.2.1' },
      { name: 'mx.example.com', type: 'A', value: 'nope' },
      { name: '-bad-.example.com', type: 'SRV', value: 'x' },
    ]);
    expect(response.status).toBe(400);
    const { error } = await response.json();
    expect(error.code).toBe('INVALID_DNS_RECORD');
    expect(error.message).toMatch(/record 1 \(mx\.example\.com\): value: "nope" is not an IPv4 address/);
    expect(error.message).toMatch(/record 2 \(-bad-\.example\.com\): name:/);
    expect(error.message).toMatch(/record 2 \(-bad-\.example\.com\): type:/);
    expect(server.dnsZone.records()).toEqual(before);
    const noName = await request('DELETE', '/dns/records');
    expect(noName.status).toBe(400);
    expect((await noName.json()).error.code).toBe('INVALID_REQUEST');
  });

  it('creates a DKIM key, publishes its record, and answers nodemailer’s dkim option', async () => {
    const response = await request('POST', '/dkim/keys', { domain: 'example.net', selector: 's1' });
    expect(response.status).toBe(201);
    const key = await response.json();
    expect(key).toMatchObject({ domain: 'example.net', selector: 's1', algorithm: 'rsa-2048' });
    expect(key.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(key.dkim).toEqual({ domainName: 'example.net', keySelector: 's1', privateKey: key.privateKey });
    expect(server.dnsZone.get('s1._domainkey.example.net', 'TXT')).toEqual([key.record]);
    const ed = await (await request('POST', '/dkim/keys', { domain: 'example.net', selector: 'ed', algorithm: 'ed25519' })).json();
    expect(ed.record.value).toMatch(/^v=DKIM1; k=ed25519; p=/);
    expect(ed.dkim).toBeNull();
    const bad = await request('POST', '/dkim/keys', { domain: 'example.net', selector: 's1', algorithm: 'dsa' });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toMatch(/algorithm/);
  });
});

describe('--dns live', () => {
  it('serves the zone read-only: PUT, DELETE and new keys answer 409 DNS_LIVE', async () => {
    const live = await createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0, dns: 'live', dnsServers: ['127.0.0.1:9'] });
    try {
      for (const [method, path, body] of [
        ['PUT', '/dns/records', { name: 'example.com', type: 'TXT', value: 'x' }],
        ['DELETE', '/dns/records?name=example.com', undefined],
        ['POST', '/dkim/keys', { domain: 'example.com', selector: 's1' }],
      ] as const) {
        const response = await fetch(`${live.url}/api/v1${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        expect(response.status).toBe(409);
        expect((await response.json()).error.code).toBe('DNS_LIVE');
      }
    } finally {
      await live.close();
    }
  });
});

describe('--dns-zone with mistakes', () => {
  it('is a configuration error listing every problem with its line', async () => {
    const file = join(dir, 'bad.zone');
    await writeFile(file, 'a.example.com A nope\n\nexample.com TXT fine\nb.example.com AAAA 192.0.2.1\n');
    const error = await createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0, dnsZone: file }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(isMailwrightError(error) && error.code).toBe(ErrorCode.INVALID_OPTIONS);
    expect((error as { details: unknown }).details).toEqual([
      { path: 'dnsZone', message: `${file}:1: value: "nope" is not an IPv4 address` },
      { path: 'dnsZone', message: expect.stringMatching(new RegExp(`^${file.replace(/[.]/g, '\\.')}:4: value:`)) },
    ]);
  });
});

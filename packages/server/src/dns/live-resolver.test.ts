import { afterEach, expect, test } from 'vitest';
import { computeAuthentication } from '../analysis/compute-authentication.js';
import { composeMessage } from '../test-support/compose-message.js';
import { startDnsTestServer, type DnsTestServer } from '../test-support/dns-test-server.js';
import { createLiveResolver } from './live-resolver.js';

let server: DnsTestServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

test('asks the configured name server and answers in dns.promises shapes', async () => {
  server = await startDnsTestServer((name, type) =>
    name === 's1._domainkey.example.com' && type === 'TXT' ? { txt: [['v=DKIM1; k=rsa; ', 'p=abc']] } : type === 'A' ? { a: ['192.0.2.1'] } : 'nxdomain',
  );
  const resolve = createLiveResolver({ servers: [server.address], timeoutMs: 5_000 });
  expect(await resolve('s1._domainkey.example.com', 'TXT')).toEqual([['v=DKIM1; k=rsa; ', 'p=abc']]);
  expect(await resolve('example.com')).toEqual(['192.0.2.1']);
  await expect(resolve('missing.example.com', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
  expect(server.questions).toEqual(['s1._domainkey.example.com TXT', 'example.com A', 'missing.example.com TXT']);
});

test('a server that never answers is ETIMEOUT, not a hang', async () => {
  server = await startDnsTestServer(() => 'silent');
  const resolve = createLiveResolver({ servers: [server.address], timeoutMs: 150 });
  await expect(resolve('slow.example.com', 'TXT')).rejects.toMatchObject({ code: 'ETIMEOUT' });
  expect(server.questions).toContain('slow.example.com TXT');
});

test('refuses a timeout that is no bound', () => {
  expect(() => createLiveResolver({ timeoutMs: 0 })).toThrow(/positive number/);
  expect(() => createLiveResolver({ timeoutMs: Number.POSITIVE_INFINITY })).toThrow(/positive number/);
});

test('types other than the ones the checks need are not asked live', async () => {
  const resolve = createLiveResolver({ servers: ['127.0.0.1:9'], timeoutMs: 100 });
  await expect(resolve('example.com', 'SOA')).rejects.toMatchObject({ code: 'ENODATA' });
});

test('verdicts over live DNS that never answers are temperror within the time allowed', async () => {
  server = await startDnsTestServer(() => 'silent');
  const auth = await computeAuthentication(
    { raw: await composeMessage(), mailFrom: 'alice@example.com', helo: 'mail.example.com', clientIp: '203.0.113.7', authservId: 'mx.test' },
    { resolver: createLiveResolver({ servers: [server.address], timeoutMs: 100 }), timeoutMs: 2_000 },
  );
  expect(auth.spf).toMatchObject({ result: 'temperror', reason: expect.stringContaining('DNS timeout') });
  expect(auth.dmarc.result).toBe('temperror');
});

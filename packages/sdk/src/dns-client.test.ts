// mail.dns, mail.dkim, mail.spf and mail.dmarc against a real in-process server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMailwrightError, type DnsRecord } from '@mailwright/core';
import { Mailwright } from './mailwright.js';

let mail: Mailwright;

beforeAll(async () => {
  mail = await Mailwright.start();
});

afterAll(async () => {
  await mail?.close();
});

const at = async (name: string, type?: string): Promise<DnsRecord[]> =>
  (await mail.dns.records()).filter((record) => record.name === name && (type === undefined || record.type === type));

describe('mail.dns', () => {
  it('sets the records of a name and type, and restores what was there when disposed', async () => {
    await mail.dns.set('Restore.Example.', 'TXT', 'v=spf1 -all');
    {
      await using change = await mail.dns.set('restore.example', 'TXT', 'v=spf1 ip4:203.0.113.7 -all');
      expect(change.records).toEqual([{ name: 'restore.example', type: 'TXT', value: 'v=spf1 ip4:203.0.113.7 -all' }]);
      expect(change.previous).toEqual([{ name: 'restore.example', type: 'TXT', value: 'v=spf1 -all' }]);
      expect(await at('restore.example')).toEqual(change.records);
    }
    expect(await at('restore.example')).toEqual([{ name: 'restore.example', type: 'TXT', value: 'v=spf1 -all' }]);
    await mail.dns.delete('restore.example');
  });

  it('removes a name and type it created, leaving the other types of the name alone', async () => {
    await using _a = await mail.dns.set('mx.example', 'A', '203.0.113.10');
    {
      await using _mx = await mail.dns.set('mx.example', 'MX', ['10 mx.example', '20 backup.example']);
      expect((await at('mx.example', 'MX')).map((record) => record.value).sort()).toEqual(['10 mx.example', '20 backup.example']);
    }
    expect(await at('mx.example')).toEqual([{ name: 'mx.example', type: 'A', value: '203.0.113.10' }]);
  });

  it('restores once, however often restore() is called', async () => {
    const change = await mail.dns.set('once.example', 'TXT', 'first');
    await Promise.all([change.restore(), change.restore()]);
    await mail.dns.set('once.example', 'TXT', 'second');
    await change.restore();
    expect(await at('once.example')).toEqual([{ name: 'once.example', type: 'TXT', value: 'second' }]);
    await mail.dns.delete('once.example', 'TXT');
    expect(await at('once.example')).toEqual([]);
  });

  it('refuses a record the zone cannot hold, with the server’s reason, and changes nothing', async () => {
    const error: unknown = await mail.dns.set('bad.example', 'A', 'not-an-address').catch((caught: unknown) => caught);
    expect(isMailwrightError(error) && error.code).toBe('INVALID_DNS_RECORD');
    expect((error as Error).message).toContain('not-an-address');
    expect(await at('bad.example')).toEqual([]);
    await expect(mail.dns.set('bad.example', 'TXT', [])).rejects.toThrow('dns.set needs at least one value');
  });
});

describe('mail.dkim, mail.spf, mail.dmarc', () => {
  it('createKey publishes the key’s record and hands nodemailer’s dkim option; disposing removes the record', async () => {
    {
      await using key = await mail.dkim.createKey({ domain: 'keys.example', selector: 's1' });
      expect(key).toMatchObject({ domain: 'keys.example', selector: 's1', algorithm: 'rsa-2048' });
      expect(key.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(key.dkim).toEqual({ domainName: 'keys.example', keySelector: 's1', privateKey: key.privateKey });
      expect(key.record).toMatchObject({ name: 's1._domainkey.keys.example', type: 'TXT' });
      expect(key.record.value).toMatch(/^v=DKIM1; k=rsa; p=MII/);
      expect(await at('s1._domainkey.keys.example')).toEqual([key.record]);
    }
    expect(await at('s1._domainkey.keys.example')).toEqual([]);

    await using ed = await mail.dkim.createKey({ domain: 'keys.example', selector: 'ed', algorithm: 'ed25519' });
    expect(ed.dkim).toBeNull();
    expect(ed.record.value).toMatch(/^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
    await expect(mail.dkim.createKey({ domain: 'keys.example', selector: 's1', algorithm: 'dsa' as never })).rejects.toThrow(/algorithm/);
  });

  it('spf.allow and dmarc.publish put the records the builders make', async () => {
    {
      await using _spf = await mail.spf.allow('policy.example', ['203.0.113.7', '2001:db8::/32'], { all: '~all' });
      await using _dmarc = await mail.dmarc.publish('policy.example', 'reject', { dkimAlignment: 'strict' });
      expect(await at('policy.example', 'TXT')).toEqual([{ name: 'policy.example', type: 'TXT', value: 'v=spf1 ip4:203.0.113.7 ip6:2001:db8::/32 ~all' }]);
      expect(await at('_dmarc.policy.example')).toEqual([{ name: '_dmarc.policy.example', type: 'TXT', value: 'v=DMARC1; p=reject; adkim=s' }]);
    }
    expect(await at('policy.example')).toEqual([]);
    expect(await at('_dmarc.policy.example')).toEqual([]);
    await expect(mail.spf.allow('policy.example', '203.0.113.300')).rejects.toThrow('"203.0.113.300" is not an IP address or network');
  });

  it('a listener created with clientIp has SPF judged for that address', async () => {
    await using lab = await mail.listeners.create({ clientIp: '203.0.113.7' });
    expect(lab.clientIp).toBe('203.0.113.7');
    expect((await mail.listeners.list()).find((listener) => listener.name === lab.name)?.clientIp).toBe('203.0.113.7');
  });
});

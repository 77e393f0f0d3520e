import type { DnsRecord } from '@mailwright/core';
import { authenticate } from 'mailauth';
import { beforeAll, describe, expect, test } from 'vitest';
import { createDkimKey, type DkimKey } from '../dns/create-dkim-key.js';
import { DnsZone } from '../dns/dns-zone.js';
import { dmarcRecord, spfAllowRecord } from '@mailwright/core';
import { createZoneResolver } from '../dns/zone-resolver.js';
import { composeMessage } from '../test-support/compose-message.js';
import { alter, verifyAuthentication } from '../test-support/verify-authentication.js';

let example: DkimKey;
let other: DkimKey;
let forwarder: DkimKey;

beforeAll(async () => {
  [example, other, forwarder] = await Promise.all([
    createDkimKey({ domain: 'example.com', selector: 's1' }),
    createDkimKey({ domain: 'esp.example.net', selector: 'esp' }),
    createDkimKey({ domain: 'forwarder.example.org', selector: 'arc' }),
  ]);
});

async function dmarcOf(records: DnsRecord[], message: { from?: string; dkim?: DkimKey | null }, envelope: { mailFrom?: string } = {}) {
  const raw = await composeMessage({ from: message.from ?? 'alice@example.com', ...(message.dkim?.nodemailer ? { dkim: message.dkim.nodemailer } : {}) });
  return verifyAuthentication(raw, DnsZone.from(records), envelope);
}

describe('DMARC with p=reject', () => {
  test('aligned DKIM alone passes (SPF fails)', async () => {
    const auth = await dmarcOf([example.record, spfAllowRecord('example.com', '198.51.100.1'), dmarcRecord('example.com', 'reject')], { dkim: example });
    expect(auth.spf.result).toBe('fail');
    expect(auth.dmarc).toMatchObject({ result: 'pass', domain: 'example.com', policy: 'reject', p: 'reject', dkimAligned: true, spfAligned: false });
    expect(auth.authenticationResults).toContain('dmarc=pass (p=REJECT) header.from=example.com');
  });

  test('aligned SPF alone passes (the message is not signed)', async () => {
    const auth = await dmarcOf([spfAllowRecord('example.com', '203.0.113.7'), dmarcRecord('example.com', 'reject')], { dkim: null });
    expect(auth.dmarc).toMatchObject({ result: 'pass', spfAligned: true, dkimAligned: false });
  });

  test('neither aligned fails, with the policy a receiver would apply', async () => {
    const auth = await dmarcOf(
      [other.record, spfAllowRecord('example.net', '203.0.113.7'), dmarcRecord('example.com', 'reject')],
      { dkim: other },
      { mailFrom: 'bounce@example.net' },
    );
    // SPF and DKIM both pass, for domains other than the From domain.
    expect(auth.spf.result).toBe('pass');
    expect(auth.dkim[0]).toMatchObject({ result: 'pass', domain: 'esp.example.net', aligned: false });
    expect(auth.dmarc).toMatchObject({
      result: 'fail',
      policy: 'reject',
      spfAligned: false,
      dkimAligned: false,
      reason: expect.stringContaining('neither SPF nor DKIM passed for a domain aligned with example.com'),
    });
    expect(auth.authenticationResults).toContain('dmarc=fail');
  });

  test('a failing DKIM signature of the From domain does not align', async () => {
    const raw = await composeMessage({ dkim: example.nodemailer ?? undefined });
    const auth = await verifyAuthentication(
      alter(raw, 'this message is signed', 'this message is forged'),
      DnsZone.from([example.record, dmarcRecord('example.com', 'reject')]),
    );
    expect(auth.dmarc).toMatchObject({ result: 'fail', dkimAligned: false });
  });
});

describe('DMARC alignment modes and domains', () => {
  test('a From subdomain aligns with d= of the organizational domain when relaxed, not when strict', async () => {
    const records = [example.record, dmarcRecord('example.com', 'reject')];
    const relaxed = await dmarcOf(records, { from: 'news@mail.example.com', dkim: example });
    expect(relaxed.dmarc).toMatchObject({
      result: 'pass',
      domain: 'mail.example.com',
      organizationalDomain: 'example.com',
      dkimAligned: true,
      dkimAlignment: 'relaxed',
    });
    const strict = await dmarcOf([example.record, dmarcRecord('example.com', 'reject', { dkimAlignment: 'strict' })], {
      from: 'news@mail.example.com',
      dkim: example,
    });
    expect(strict.dmarc).toMatchObject({ result: 'fail', dkimAligned: false, dkimAlignment: 'strict', reason: expect.stringContaining('strict DKIM') });
    // Strict still passes when the domains are equal.
    const equal = await dmarcOf([example.record, dmarcRecord('example.com', 'reject', { dkimAlignment: 'strict' })], { dkim: example });
    expect(equal.dmarc).toMatchObject({ result: 'pass', dkimAligned: true });
  });

  test('strict SPF alignment needs the MAIL FROM domain to equal the From domain', async () => {
    const records = [spfAllowRecord('bounces.example.com', '203.0.113.7'), dmarcRecord('example.com', 'reject', { spfAlignment: 'strict' })];
    const strict = await dmarcOf(records, { dkim: null }, { mailFrom: 'b@bounces.example.com' });
    expect(strict.spf.result).toBe('pass');
    expect(strict.dmarc).toMatchObject({ result: 'fail', spfAligned: false, spfAlignment: 'strict' });
    const relaxed = await dmarcOf([records[0] as DnsRecord, dmarcRecord('example.com', 'reject')], { dkim: null }, { mailFrom: 'b@bounces.example.com' });
    expect(relaxed.dmarc).toMatchObject({ result: 'pass', spfAligned: true });
  });

  test("a subdomain without its own record takes the organizational domain's sp=", async () => {
    const auth = await dmarcOf([example.record, dmarcRecord('example.com', 'reject', { subdomainPolicy: 'quarantine' })], {
      from: 'news@mail.example.com',
      dkim: null,
    });
    expect(auth.dmarc).toMatchObject({
      result: 'fail',
      domain: 'mail.example.com',
      organizationalDomain: 'example.com',
      policy: 'quarantine',
      p: 'reject',
      sp: 'quarantine',
    });
  });

  test('a subdomain with its own record uses it', async () => {
    const auth = await dmarcOf([dmarcRecord('example.com', 'reject'), dmarcRecord('mail.example.com', 'none')], { from: 'news@mail.example.com', dkim: null });
    expect(auth.dmarc).toMatchObject({ result: 'fail', policy: 'none', p: 'none' });
  });

  test('no DMARC record is none', async () => {
    const auth = await dmarcOf([example.record], { dkim: example });
    expect(auth.dmarc).toMatchObject({ result: 'none', policy: null, record: null, reason: 'no DMARC record at _dmarc.example.com' });
    expect(auth.authenticationResults).toContain('dmarc=none');
  });

  test('a From header with two addresses is permerror', async () => {
    const auth = await dmarcOf([dmarcRecord('example.com', 'reject')], { from: 'alice@example.com, eve@example.net', dkim: null });
    expect(auth.dmarc).toMatchObject({ result: 'permerror', reason: expect.stringContaining('2 From addresses') });
  });

  test('dmarcRecord writes the tags asked for', () => {
    expect(
      dmarcRecord('Example.com', 'quarantine', {
        subdomainPolicy: 'reject',
        dkimAlignment: 'strict',
        spfAlignment: 'relaxed',
        reportTo: ['dmarc@example.com'],
      }),
    ).toEqual({
      name: '_dmarc.example.com',
      type: 'TXT',
      value: 'v=DMARC1; p=quarantine; sp=reject; adkim=s; aspf=r; rua=mailto:dmarc@example.com',
    });
    expect(() => dmarcRecord('example.com', 'block' as never)).toThrow(/policy must be/);
  });
});

describe('ARC', () => {
  /** A message signed by example.com, then received and ARC-sealed by forwarder.example.org with mailauth's sealer. */
  async function sealed(): Promise<{ raw: Buffer; zone: DnsZone }> {
    const zone = DnsZone.from([example.record, forwarder.record, spfAllowRecord('example.com', '203.0.113.7'), dmarcRecord('example.com', 'reject')]);
    const original = await composeMessage({ dkim: example.nodemailer ?? undefined });
    const result = await authenticate(original, {
      ip: '203.0.113.7',
      helo: 'mail.example.com',
      sender: 'alice@example.com',
      mta: 'forwarder.example.org',
      resolver: createZoneResolver(zone) as never,
      seal: { signingDomain: 'forwarder.example.org', selector: 'arc', privateKey: forwarder.privateKey },
      disableBimi: true,
    });
    expect(result.headers).toMatch(/^ARC-Seal: i=1; a=rsa-sha256; t=\d+; cv=none;/);
    return { raw: Buffer.concat([Buffer.from(result.headers), original]), zone };
  }

  test('a chain sealed by mailauth verifies', async () => {
    const { raw, zone } = await sealed();
    const auth = await verifyAuthentication(raw, zone, { mailFrom: 'alice@example.com', clientIp: '198.51.100.9', helo: 'relay.example.org' });
    // The reason is what the sealer recorded (its ARC-Authentication-Results).
    expect(auth.arc).toEqual({ result: 'pass', instances: 1, reason: 'i=1 spf=pass dkim=pass dkdomain=example.com dmarc=pass fromdomain=example.com' });
    expect(auth.authenticationResults).toMatch(/; arc=pass \(i=1 spf=pass [^)]*\)$/);
    // The forwarder's address is not in example.com's SPF; DKIM survived the forwarding.
    expect(auth.spf.result).toBe('fail');
    expect(auth.dmarc.result).toBe('pass');
  });

  test('a seal broken in transit fails, with the reason', async () => {
    const { raw, zone } = await sealed();
    const text = raw.toString('latin1');
    const seal = /ARC-Seal: [^]*?b=([A-Za-z0-9+/]{8})/.exec(text);
    const sealB = seal?.[1] ?? '';
    expect(sealB).not.toBe('');
    const broken = alter(raw, `b=${sealB}`, `b=${sealB.split('').reverse().join('')}`);
    const auth = await verifyAuthentication(broken, zone);
    expect(auth.arc).toMatchObject({ result: 'fail', instances: 1, reason: expect.stringContaining('seal signature validation failed') });
  });

  test('a sealed message changed after sealing fails the ARC-Message-Signature', async () => {
    const { raw, zone } = await sealed();
    const auth = await verifyAuthentication(alter(raw, 'Subject: Authentication test', 'Subject: Authentication jest'), zone);
    expect(auth.arc).toMatchObject({ result: 'fail', reason: expect.stringContaining('no valid signature') });
  });

  test('a message without ARC headers has no ARC record', async () => {
    const auth = await dmarcOf([], { dkim: null });
    expect(auth.arc).toBeNull();
    expect(auth.authenticationResults).not.toMatch(/; arc=/);
  });
});

import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dkimSign as mailauthDkimSign } from 'mailauth';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createDkimKey, type DkimKey } from '../dns/create-dkim-key.js';
import type { DnsResolver } from '../dns/dns-resolver.js';
import { dnsError } from '../dns/dns-resolver.js';
import { DnsZone } from '../dns/dns-zone.js';
import { parseZoneFile } from '../dns/zone-file.js';
import { createZoneResolver } from '../dns/zone-resolver.js';
import { composeMessage } from '../test-support/compose-message.js';
import { requireExecutable, runProcess } from '../test-support/external-client.js';
import { alter, verifyAuthentication } from '../test-support/verify-authentication.js';
import { MAX_VERIFIED_DKIM_SIGNATURES, computeAuthentication } from './compute-authentication.js';
import { withFirstDkimSignatures } from './dkim-signature-fields.js';

/** mailauth's signer; its typings ask for top-level key fields that it ignores in favour of `signatureData`. */
const dkimSign = mailauthDkimSign as unknown as (
  input: Buffer,
  options: { signatureData: object[]; [option: string]: unknown },
) => ReturnType<typeof mailauthDkimSign>;

/** Signs `raw` with mailauth's own DKIM signer and returns the signed message. */
async function mailauthSign(raw: Buffer, key: DkimKey, options: { canonicalization?: string; maxBodyLength?: number } = {}): Promise<Buffer> {
  const result = await dkimSign(raw, {
    canonicalization: options.canonicalization ?? 'relaxed/relaxed',
    signTime: new Date(),
    signatureData: [
      {
        ...key.mailauth,
        ...(options.canonicalization ? { canonicalization: options.canonicalization } : {}),
        ...(options.maxBodyLength !== undefined ? { maxBodyLength: options.maxBodyLength } : {}),
      },
    ],
  });
  expect(result.errors).toEqual([]);
  return Buffer.concat([Buffer.from(result.signatures), raw]);
}

let rsa2048: DkimKey;
let rsa1024: DkimKey;
let ed25519: DkimKey;

beforeAll(async () => {
  [rsa2048, rsa1024, ed25519] = await Promise.all([
    createDkimKey({ domain: 'example.com', selector: 's1' }),
    createDkimKey({ domain: 'example.com', selector: 'short', algorithm: 'rsa-1024' }),
    createDkimKey({ domain: 'example.com', selector: 'ed', algorithm: 'ed25519' }),
  ]);
});

function zoneWith(...keys: DkimKey[]): DnsZone {
  return DnsZone.from(keys.map((key) => key.record));
}

describe('createDkimKey', () => {
  test('publishes the public half under selector._domainkey.domain, in the form each algorithm needs', () => {
    expect(rsa2048.record).toMatchObject({ name: 's1._domainkey.example.com', type: 'TXT' });
    expect(rsa2048.record.value).toMatch(/^v=DKIM1; k=rsa; p=MII[A-Za-z0-9+/=]+$/);
    expect(rsa2048.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    // RFC 8463: the bare 32-byte key, 44 characters of base64.
    expect(ed25519.record.value).toMatch(/^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
    expect(ed25519.nodemailer).toBeNull();
  });

  test('refuses what it cannot make', async () => {
    await expect(createDkimKey({ domain: 'example.com', selector: 's1', algorithm: 'dsa' as never })).rejects.toThrow(/algorithm must be one of/);
    await expect(createDkimKey({ domain: 'exa mple.com', selector: 's1' })).rejects.toThrow(/domain:/);
  });
});

describe('DKIM signed by nodemailer', () => {
  test.each([
    ['RSA-2048', () => rsa2048, 2048],
    ['RSA-1024', () => rsa1024, 1024],
  ])('%s passes with its key size, relaxed canonicalization and alignment reported', async (_name, key, bits) => {
    const raw = await composeMessage({ dkim: key().nodemailer ?? undefined });
    const auth = await verifyAuthentication(raw, zoneWith(key()));
    expect(auth.dkim).toEqual([
      expect.objectContaining({
        result: 'pass',
        domain: 'example.com',
        selector: key().selector,
        algorithm: 'rsa-sha256',
        canonicalization: 'relaxed/relaxed',
        bodyHashMatched: true,
        keyBits: bits,
        bodyLengthLimit: null,
        aligned: true,
        reason: null,
      }),
    ]);
    // header.b is the first 8 characters of b=, quoted when it holds a "/" (not a token character).
    const b = auth.dkim[0]?.signature.slice(0, 8) ?? '';
    expect(auth.authenticationResults).toContain(
      `dkim=pass header.d=example.com header.s=${key().selector} header.a=rsa-sha256 header.b=${b.includes('/') ? `"${b}"` : b}`,
    );
  });

  test('a body changed in transit fails, naming the body hash', async () => {
    const raw = await composeMessage({ dkim: rsa2048.nodemailer ?? undefined });
    const auth = await verifyAuthentication(alter(raw, 'this message is signed', 'this message is forged'), zoneWith(rsa2048));
    expect(auth.dkim[0]).toMatchObject({ result: 'fail', bodyHashMatched: false, reason: expect.stringMatching(/^body hash did not verify/) });
    expect(auth.authenticationResults).toMatch(/dkim=fail \(body hash did not verify[^)]*\) header\.d=example\.com/);
  });

  test('a signed header changed in transit fails, naming the signature', async () => {
    const raw = await composeMessage({ dkim: rsa2048.nodemailer ?? undefined, subject: 'Your invoice' });
    const auth = await verifyAuthentication(alter(raw, 'Subject: Your invoice', 'Subject: Your refund'), zoneWith(rsa2048));
    expect(auth.dkim[0]).toMatchObject({ result: 'fail', bodyHashMatched: true, keyBits: 2048, reason: expect.stringMatching(/^signature did not verify/) });
  });

  test('a header the signature does not cover may change', async () => {
    const raw = await composeMessage({ dkim: rsa2048.nodemailer ?? undefined, headers: { 'X-Mailer-Note': 'one' } });
    const auth = await verifyAuthentication(alter(raw, 'X-Mailer-Note: one', 'X-Mailer-Note: two'), zoneWith(rsa2048));
    expect(auth.dkim[0]?.result).toBe('pass');
  });
});

describe('DKIM signed by mailauth', () => {
  test.each(['relaxed/relaxed', 'simple/simple', 'relaxed/simple', 'simple/relaxed'])('RSA-2048 with %s canonicalization passes', async (canonicalization) => {
    const raw = await mailauthSign(await composeMessage(), rsa2048, { canonicalization });
    const auth = await verifyAuthentication(raw, zoneWith(rsa2048));
    expect(auth.dkim).toEqual([expect.objectContaining({ result: 'pass', canonicalization, keyBits: 2048 })]);
  });

  test('Ed25519 passes, its key reported as 256 bits', async () => {
    const raw = await mailauthSign(await composeMessage(), ed25519);
    const auth = await verifyAuthentication(raw, zoneWith(ed25519));
    expect(auth.dkim).toEqual([expect.objectContaining({ result: 'pass', algorithm: 'ed25519-sha256', selector: 'ed', keyBits: 256 })]);
  });

  test('simple body canonicalization fails on a whitespace change that relaxed tolerates', async () => {
    const base = await composeMessage();
    const simple = await mailauthSign(base, rsa2048, { canonicalization: 'relaxed/simple' });
    const relaxed = await mailauthSign(base, rsa2048, { canonicalization: 'relaxed/relaxed' });
    const zone = zoneWith(rsa2048);
    expect((await verifyAuthentication(alter(simple, 'this message', 'this  message'), zone)).dkim[0]?.result).toBe('fail');
    expect((await verifyAuthentication(alter(relaxed, 'this message', 'this  message'), zone)).dkim[0]?.result).toBe('pass');
  });

  test('an l= signature is flagged, and content appended after the signed length is counted', async () => {
    const base = await composeMessage();
    const signed = await mailauthSign(base, rsa2048, { maxBodyLength: 10 });
    const zone = zoneWith(rsa2048);
    const auth = await verifyAuthentication(Buffer.concat([signed, Buffer.from('Click here: https://evil.example/\r\n')]), zone);
    expect(auth.dkim[0]).toMatchObject({ result: 'pass', bodyLengthLimit: 10, reason: expect.stringContaining('l=10') });
    expect(auth.dkim[0]?.unsignedBodyBytes).toBeGreaterThan(30);
  });

  test('a key under 1024 bits is policy, with its size', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 512 });
    const key: DkimKey = {
      ...rsa2048,
      selector: 'weak',
      record: {
        name: 'weak._domainkey.example.com',
        type: 'TXT',
        value: `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`,
      },
      mailauth: {
        signingDomain: 'example.com',
        selector: 'weak',
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        algorithm: 'rsa-sha256',
      },
    };
    const auth = await verifyAuthentication(await mailauthSign(await composeMessage(), key), zoneWith(key));
    expect(auth.dkim[0]).toMatchObject({ result: 'policy', keyBits: 512, reason: expect.stringMatching(/512 bits.*under 1024/) });
  });
});

describe('DKIM when the key is not there', () => {
  test('a key removed from the zone is permerror "no key for signature" (RFC 6376 §6.1.2)', async () => {
    const raw = await composeMessage({ dkim: rsa2048.nodemailer ?? undefined });
    const zone = zoneWith(rsa2048);
    expect((await verifyAuthentication(raw, zone)).dkim[0]?.result).toBe('pass');
    zone.delete('s1._domainkey.example.com');
    const auth = await verifyAuthentication(raw, zone);
    expect(auth.dkim[0]).toMatchObject({ result: 'permerror', keyBits: null, reason: 'no key for signature: s1._domainkey.example.com has no TXT record' });
  });

  test('a revoked key (empty p=) is permerror', async () => {
    const raw = await composeMessage({ dkim: rsa2048.nodemailer ?? undefined });
    const zone = DnsZone.from([{ name: 's1._domainkey.example.com', type: 'TXT', value: 'v=DKIM1; k=rsa; p=' }]);
    expect((await verifyAuthentication(raw, zone)).dkim[0]).toMatchObject({ result: 'permerror', reason: expect.stringMatching(/^key revoked/) });
  });

  test('a key record that is not a key is permerror', async () => {
    const raw = await composeMessage({ dkim: rsa2048.nodemailer ?? undefined });
    const zone = DnsZone.from([{ name: 's1._domainkey.example.com', type: 'TXT', value: 'v=DKIM1; k=rsa; p=bm90IGEga2V5' }]);
    expect((await verifyAuthentication(raw, zone)).dkim[0]).toMatchObject({ result: 'permerror', reason: expect.stringMatching(/^key syntax error/) });
  });

  test('a DNS failure on the key is temperror (RFC 6376: TEMPFAIL, key unavailable)', async () => {
    const raw = await composeMessage({ dkim: rsa2048.nodemailer ?? undefined });
    const zoneResolver = createZoneResolver(zoneWith(rsa2048));
    const failing: DnsResolver = (name, type) =>
      name.endsWith('_domainkey.example.com') ? Promise.reject(dnsError('ESERVFAIL', name, type ?? 'A')) : zoneResolver(name, type);
    expect((await verifyAuthentication(raw, failing)).dkim[0]).toMatchObject({ result: 'temperror', reason: expect.stringContaining('ESERVFAIL') });
  });

  test('a key lookup that never answers is temperror once the time is up, not a hang', async () => {
    const raw = await composeMessage({ dkim: rsa2048.nodemailer ?? undefined });
    const never: DnsResolver = () => new Promise(() => undefined);
    const auth = await verifyAuthentication(raw, never, {}, 200);
    expect(auth.status).toBe('done');
    expect(auth.dkim[0]).toMatchObject({ result: 'temperror', reason: expect.stringContaining('ETIMEOUT') });
    expect(auth.spf.result).toBe('temperror');
    expect(auth.dmarc.result).toBe('temperror');
  });
});

describe('DKIM signed by OpenDKIM (opendkim-genkey, opendkim-testmsg)', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'mailwright-opendkim-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  /** Makes a key with opendkim-genkey, signs a message with opendkim-testmsg; returns the zone and the signed bytes. */
  async function openDkimSigned(
    context: Parameters<typeof requireExecutable>[1],
    genkeyArgs: string[],
  ): Promise<{ zone: DnsZone; signed: Buffer; record: string }> {
    const genkey = requireExecutable('opendkim-genkey', context);
    const testmsg = requireExecutable('opendkim-testmsg', context);
    const dir = await mkdtemp(join(directory, 'key-'));
    const generated = await runProcess(genkey, ['--domain=example.com', '--selector=od', `--directory=${dir}`, ...genkeyArgs]);
    expect(generated.code, generated.stderr).toBe(0);
    // opendkim-genkey writes a BIND stub (`od._domainkey IN TXT ( "…" "…" ) ; comment`) over
    // two lines; its quoted strings go on one line of our zone format as they are.
    const stub = await readFile(join(dir, 'od.txt'), 'utf8');
    const strings = stub
      .slice(stub.indexOf('(') + 1, stub.indexOf(')'))
      .replace(/\s*\n\s*/g, ' ')
      .trim();
    const parsed = parseZoneFile(`od._domainkey.example.com IN TXT ${strings}\n`);
    expect(parsed.problems).toEqual([]);
    const message = (await composeMessage()).toString('latin1');
    const signedRun = await runProcess(testmsg, ['-C', '-d', 'example.com', '-s', 'od', '-k', join(dir, 'od.private')], { input: message });
    expect(signedRun.code, signedRun.stderr).toBe(0);
    expect(signedRun.stdout).toMatch(/^DKIM-Signature: v=1; a=rsa-sha1; c=relaxed\/simple; d=example.com; s=od;/);
    return {
      zone: DnsZone.from(parsed.records.map((entry) => entry.record)),
      signed: Buffer.from(signedRun.stdout, 'latin1'),
      record: parsed.records[0]?.record.value ?? '',
    };
  }

  test('its signature verifies; rsa-sha1, which opendkim-testmsg always uses, is policy under RFC 8301', async (context) => {
    const { zone, signed, record } = await openDkimSigned(context, ['--bits=2048', '--hash-algorithms=sha1:sha256']);
    expect(record).toMatch(/^v=DKIM1; h=sha1:sha256; k=rsa; p=/);
    const auth = await verifyAuthentication(signed, zone);
    expect(auth.dkim).toEqual([
      expect.objectContaining({
        result: 'policy',
        domain: 'example.com',
        selector: 'od',
        algorithm: 'rsa-sha1',
        canonicalization: 'relaxed/simple',
        bodyHashMatched: true,
        keyBits: 2048,
      }),
    ]);
    expect(auth.dkim[0]?.reason).toMatch(/RFC 8301.*the signature itself verifies/);
    // Not a pass, so it does not count for DMARC.
    expect(auth.dmarc.dkimAligned).toBe(false);
  });

  test('a body or signed header changed after OpenDKIM signed fails', async (context) => {
    const { zone, signed } = await openDkimSigned(context, ['--bits=1024', '--hash-algorithms=sha1:sha256']);
    expect((await verifyAuthentication(alter(signed, 'this message is signed', 'this message is forged'), zone)).dkim[0]).toMatchObject({
      result: 'fail',
      bodyHashMatched: false,
    });
    expect((await verifyAuthentication(alter(signed, 'Subject: Authentication test', 'Subject: Authentication jest'), zone)).dkim[0]).toMatchObject({
      result: 'fail',
      bodyHashMatched: true,
      keyBits: 1024,
    });
  });

  test("OpenDKIM's default key record (h=sha256) refuses its own rsa-sha1 signature: permerror, inappropriate hash algorithm", async (context) => {
    const { zone, signed, record } = await openDkimSigned(context, ['--bits=2048']);
    expect(record).toMatch(/h=sha256/);
    const auth = await verifyAuthentication(signed, zone);
    expect(auth.dkim[0]).toMatchObject({
      result: 'permerror',
      reason: expect.stringMatching(/^inappropriate hash algorithm: .* allows only h=sha256, the signature uses sha1/),
    });
  });
});

describe('DKIM-Signature headers that are malformed or many', () => {
  test('each malformed signature gets a permerror with its problem; a good one beside them still passes', async () => {
    const signed = await mailauthSign(await composeMessage(), rsa2048);
    const broken = [
      'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; s=s1; h=from:subject; bh=AAAA; b=AAAA',
      'DKIM-Signature: v=1; a=dsa-sha512; c=relaxed/relaxed; d=example.com; s=s1; h=from; bh=AAAA; b=AAAA',
      'DKIM-Signature: this is not a tag list at all',
      'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=s1; h=subject; bh=AAAA; b=AAAA',
      'DKIM-Signature: v=2; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=s1; h=from; bh=AAAA; b=AAAA',
      'DKIM-Signature: v=1; a=rsa-sha256; c=fancy/relaxed; d=example.com; s=s1; h=from; bh=AAAA; b=AAAA',
      'DKIM-Signature:',
    ];
    const raw = Buffer.concat([Buffer.from(broken.join('\r\n') + '\r\n'), signed]);
    const auth = await verifyAuthentication(raw, zoneWith(rsa2048));
    expect(auth.dkim.map((entry) => entry.result)).toEqual(['permerror', 'permerror', 'permerror', 'permerror', 'permerror', 'permerror', 'permerror', 'pass']);
    const reasons = auth.dkim.map((entry) => entry.reason ?? '');
    expect(reasons[0]).toMatch(/missing required tag d=/);
    expect(reasons[1]).toMatch(/unsupported algorithm a=dsa-sha512/);
    expect(reasons[2]).toMatch(/not a tag=value pair/);
    expect(reasons[3]).toMatch(/h= does not include From/);
    expect(reasons[4]).toMatch(/v=2 is not version 1/);
    expect(reasons[5]).toMatch(/unsupported canonicalization c=fancy\/relaxed/);
    expect(reasons[6]).toMatch(/missing required tags v=, a=, b=, bh=, d=, h=, s=/);
    for (const reason of reasons.slice(0, 7)) expect(reason).toMatch(/^signature syntax error: /);
    expect(auth.authenticationResults.match(/dkim=permerror/g)).toHaveLength(7);
  });

  test('100 signatures, each over a different body length, get 100 verdicts: the first 50 verified, the rest policy', async () => {
    const base = await composeMessage({ text: 'x'.repeat(2_000) });
    const result = await dkimSign(base, {
      signTime: new Date(),
      signatureData: Array.from({ length: 100 }, (_, index) => ({ ...rsa2048.mailauth, maxBodyLength: 100 + index * 10 })),
    });
    expect(result.errors).toEqual([]);
    const signed = Buffer.concat([Buffer.from(result.signatures), base]);
    const auth = await verifyAuthentication(signed, zoneWith(rsa2048));
    expect(auth.dkim).toHaveLength(100);
    expect(auth.dkim.slice(0, MAX_VERIFIED_DKIM_SIGNATURES).map((entry) => [entry.result, entry.bodyLengthLimit])).toEqual(
      Array.from({ length: MAX_VERIFIED_DKIM_SIGNATURES }, (_, index) => ['pass', 100 + index * 10]),
    );
    expect(new Set(auth.dkim.slice(MAX_VERIFIED_DKIM_SIGNATURES).map((entry) => `${entry.result}: ${entry.reason}`))).toEqual(
      new Set([`policy: not verified: only the first ${MAX_VERIFIED_DKIM_SIGNATURES} DKIM signatures of a message are verified`]),
    );
    expect(auth.dkim[99]).toMatchObject({ domain: 'example.com', selector: 's1', algorithm: 'rsa-sha256' });
  });

  test('past the limit, the later DKIM-Signature fields are taken out and every other byte stays', () => {
    const raw = Buffer.from(
      'DKIM-Signature: v=1; d=a.example;\r\n\tb=one\r\nX-Keep: 1\r\nDKIM-Signature: v=1; d=b.example;\r\n b=two\r\n' +
        'dkim-signature: v=1; d=c.example; b=three\r\nSubject: hi\r\n\r\nDKIM-Signature: in the body stays\r\n',
    );
    expect(withFirstDkimSignatures(raw, 1).toString()).toBe(
      'DKIM-Signature: v=1; d=a.example;\r\n\tb=one\r\nX-Keep: 1\r\nSubject: hi\r\n\r\nDKIM-Signature: in the body stays\r\n',
    );
    expect(withFirstDkimSignatures(raw, 2).toString()).toBe(
      'DKIM-Signature: v=1; d=a.example;\r\n\tb=one\r\nX-Keep: 1\r\nDKIM-Signature: v=1; d=b.example;\r\n b=two\r\nSubject: hi\r\n\r\nDKIM-Signature: in the body stays\r\n',
    );
    expect(withFirstDkimSignatures(raw, 3)).toBe(raw);
  });

  test('an unsigned message has no DKIM verdicts and says so in Authentication-Results', async () => {
    const auth = await verifyAuthentication(await composeMessage(), new DnsZone());
    expect(auth.dkim).toEqual([]);
    expect(auth.authenticationResults).toContain('dkim=none (message not signed)');
  });

  test('bytes that are not a message still get verdicts', async () => {
    for (const raw of [Buffer.alloc(0), Buffer.from('\r\n\r\n'), Buffer.from('no headers here at all'), Buffer.from([0, 255, 254, 13, 10, 13, 10, 0])]) {
      const auth = await verifyAuthentication(raw, new DnsZone());
      expect(auth.status).toBe('done');
      expect(auth.dmarc.result).toBe('permerror');
    }
  });
});

test('the signing time is judged: an expired signature is neutral, "expired"', async () => {
  const base = await composeMessage();
  const result = await dkimSign(base, {
    signTime: new Date(Date.now() - 7_200_000),
    expires: new Date(Date.now() - 3_600_000),
    signatureData: [rsa2048.mailauth],
  });
  const auth = await verifyAuthentication(Buffer.concat([Buffer.from(result.signatures), base]), zoneWith(rsa2048));
  expect(auth.dkim[0]).toMatchObject({ result: 'neutral', reason: 'expired' });
});

test('keys are written to files usable by other tools', async () => {
  // The PEM private key is a plain PKCS#8 file, as OpenSSL reads it.
  const directory = await mkdtemp(join(tmpdir(), 'mailwright-key-'));
  try {
    await writeFile(join(directory, 'key.pem'), rsa2048.privateKey);
    expect((await readFile(join(directory, 'key.pem'), 'utf8')).trim().split('\n').at(-1)).toBe('-----END PRIVATE KEY-----');
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});

test('the time signatures are judged at can be given', async () => {
  const base = await composeMessage();
  const result = await dkimSign(base, { signTime: new Date(), expires: new Date(Date.now() + 3_600_000), signatureData: [rsa2048.mailauth] });
  const raw = Buffer.concat([Buffer.from(result.signatures), base]);
  const input = { raw, mailFrom: 'alice@example.com', helo: 'mail.example.com', clientIp: '203.0.113.7', authservId: 'mx.test' };
  const resolver = createZoneResolver(zoneWith(rsa2048));
  expect((await computeAuthentication(input, { resolver })).dkim[0]?.result).toBe('pass');
  expect((await computeAuthentication(input, { resolver, now: new Date(Date.now() + 7_200_000) })).dkim[0]).toMatchObject({
    result: 'neutral',
    reason: 'expired',
  });
});

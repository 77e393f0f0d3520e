import { createPrivateKey } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Authentication, CapturedMessage, MessageDetail } from '@mailwright/core';
import { createMailwright, type RunningMailwright } from '../mailwright.js';
import { requireExecutable, runProcess } from '../test-support/external-client.js';
import { createZoneResolver } from '../dns/zone-resolver.js';
import { computeAuthentication } from './compute-authentication.js';

let server: RunningMailwright;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailwright-auth-'));
  server = await createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0, hostname: 'mx.test' });
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (response.status === 204 ? null : await response.json()) as T };
}

/** The detail once its verdicts are done (bounded polling: they are computed after the 250). */
async function doneDetail(id: string): Promise<MessageDetail & { authentication: Authentication }> {
  let detail: MessageDetail | null = null;
  await expect
    .poll(
      async () => {
        detail = (await api<MessageDetail>('GET', `/messages/${id}`)).body;
        return detail.authentication?.status;
      },
      { timeout: 10_000 },
    )
    .toBe('done');
  return detail as unknown as MessageDetail & { authentication: Authentication };
}

async function idOf(messageId: string): Promise<string> {
  const { body } = await api<{ messages: CapturedMessage[] }>('GET', '/messages?limit=1000');
  const id = body.messages.find((message) => message.messageId === messageId)?.id;
  if (!id) throw new Error(`no message with Message-ID ${messageId}`);
  return id;
}

describe('verdicts of captured messages', () => {
  it('passes a nodemailer DKIM signature made with a key from POST /dkim/keys, SPF for the listener’s clientIp, and DMARC', async () => {
    const key = (
      await api<{ dkim: { domainName: string; keySelector: string; privateKey: string } }>('POST', '/dkim/keys', { domain: 'example.com', selector: 's1' })
    ).body;
    expect(
      (
        await api('PUT', '/dns/records', [
          { name: 'example.com', type: 'TXT', value: 'v=spf1 ip4:203.0.113.7 -all' },
          { name: '_dmarc.example.com', type: 'TXT', value: 'v=DMARC1; p=reject' },
        ])
      ).status,
    ).toBe(200);
    const relay = (await api<{ port: number; clientIp: string }>('POST', '/listeners', { name: 'relay', tls: 'none', clientIp: '203.0.113.7' })).body;
    expect(relay.clientIp).toBe('203.0.113.7');
    const transport = nodemailer.createTransport({
      host: server.smtp.host,
      port: relay.port,
      secure: false,
      ignoreTLS: true,
      name: 'mail.example.com',
      dkim: key.dkim,
    });
    const info = await transport.sendMail({ from: 'alice@example.com', to: 'bob@example.test', subject: 'signed', text: 'Hello, signed world.\n' });
    transport.close();
    const id = await idOf(info.messageId);
    const detail = await doneDetail(id);
    const { authentication } = detail;
    expect(authentication.dkim).toEqual([
      expect.objectContaining({ result: 'pass', domain: 'example.com', selector: 's1', algorithm: 'rsa-sha256', keyBits: 2048 }),
    ]);
    expect(authentication.spf).toMatchObject({ result: 'pass', domain: 'example.com', clientIp: '203.0.113.7', mechanism: 'ip4:203.0.113.7' });
    expect(authentication.clientIp).toEqual({ address: '203.0.113.7', source: 'listener' });
    expect(authentication.helo).toMatchObject({ domain: 'mail.example.com' });
    expect(authentication.dmarc).toMatchObject({ result: 'pass', policy: 'reject', dkimAligned: true, spfAligned: true });
    expect(authentication.authenticationResults).toMatch(/^mx\.test; dkim=pass header\.d=example\.com header\.s=s1/);

    // The list carries the verdicts only, and the filters match them.
    const listed = (await api<{ messages: CapturedMessage[] }>('GET', `/messages?dkim=pass&spf=pass&dmarc=pass`)).body.messages;
    expect(listed.find((message) => message.id === id)?.authentication).toEqual({ status: 'done', dkim: 'pass', spf: 'pass', dmarc: 'pass' });
    expect((await api<{ messages: CapturedMessage[] }>('GET', `/messages?dkim=fail`)).body.messages.map((message) => message.id)).not.toContain(id);
    expect((await api<{ error: { code: string } }>('GET', `/messages?dkim=great`)).status).toBe(400);

    // After the key is removed from the zone, a recompute finds no key: permerror (RFC 6376 §6.1.2).
    expect((await api('DELETE', '/dns/records?name=s1._domainkey.example.com&type=TXT')).status).toBe(204);
    const recomputed = await api<Authentication>('POST', `/messages/${id}/authentication`);
    expect(recomputed.status).toBe(200);
    expect(recomputed.body.dkim).toEqual([
      expect.objectContaining({ result: 'permerror', reason: 'no key for signature: s1._domainkey.example.com has no TXT record' }),
    ]);
    expect((await api<MessageDetail>('GET', `/messages/${id}`)).body.authentication?.dkim[0]?.result).toBe('permerror');
    expect((await api<{ messages: CapturedMessage[] }>('GET', `/messages?dkim=permerror`)).body.messages.map((message) => message.id)).toContain(id);
    expect((await api<{ error: { code: string } }>('POST', '/messages/nope/authentication')).status).toBe(404);
  });

  it('judges SPF for the connection’s address when the listener sets none', async () => {
    await api('PUT', '/dns/records', { name: 'example.org', type: 'TXT', value: 'v=spf1 ip4:127.0.0.1 -all' });
    const transport = nodemailer.createTransport({ host: server.smtp.host, port: server.smtp.port, secure: false, ignoreTLS: true, name: 'localhost' });
    const info = await transport.sendMail({ from: 'carol@example.org', to: 'bob@example.test', subject: 'loopback', text: 'hi\n' });
    transport.close();
    const { authentication } = await doneDetail(await idOf(info.messageId));
    expect(authentication.clientIp).toEqual({ address: '127.0.0.1', source: 'connection' });
    expect(authentication.spf).toMatchObject({ result: 'pass', clientIp: '127.0.0.1' });
    expect(authentication.dkim).toEqual([]);
  });

  it('passes signatures made by dkimpy’s dkimsign (an independent signer), rsa-sha256 and ed25519-sha256', async (context) => {
    const dkimsign = requireExecutable('dkimsign', context);
    for (const algorithm of ['rsa-2048', 'ed25519'] as const) {
      const selector = algorithm === 'ed25519' ? 'ed' : 'rsa';
      const key = (await api<{ privateKey: string }>('POST', '/dkim/keys', { domain: 'example.net', selector, algorithm })).body;
      const keyFile = join(dir, `${selector}.key`);
      // dkimpy reads RSA keys as PKCS#1 PEM and Ed25519 keys as the base64 32-byte seed (the tail of the PKCS#8 DER).
      const keyText =
        algorithm === 'ed25519'
          ? createPrivateKey(key.privateKey).export({ type: 'pkcs8', format: 'der' }).subarray(-32).toString('base64')
          : (createPrivateKey(key.privateKey).export({ type: 'pkcs1', format: 'pem' }) as string);
      await writeFile(keyFile, keyText);
      const messageId = `<dkimpy-${selector}@example.net>`;
      const message = `From: dave@example.net\r\nTo: bob@example.test\r\nSubject: dkimpy ${selector}\r\nMessage-ID: ${messageId}\r\nDate: Wed, 02 Dec 2026 04:00:00 +0000\r\n\r\nSigned by dkimpy.\r\n`;
      const signed = await runProcess(
        dkimsign,
        [
          '--signalg',
          algorithm === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256',
          '--hcanon',
          'relaxed',
          '--bcanon',
          'relaxed',
          selector,
          'example.net',
          keyFile,
        ],
        { input: message },
      );
      expect(signed.code, signed.stderr).toBe(0);
      expect(signed.stdout).toMatch(/^DKIM-Signature: /);
      const transport = nodemailer.createTransport({ host: server.smtp.host, port: server.smtp.port, secure: false, ignoreTLS: true });
      await transport.sendMail({ envelope: { from: 'dave@example.net', to: ['bob@example.test'] }, raw: signed.stdout });
      transport.close();
      const { authentication } = await doneDetail(await idOf(messageId));
      expect(authentication.dkim).toEqual([
        expect.objectContaining({
          result: 'pass',
          domain: 'example.net',
          selector,
          algorithm: algorithm === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256',
          canonicalization: 'relaxed/relaxed',
        }),
      ]);
    }
  });
});

describe('verdicts of unsigned mail', () => {
  // Verdict workers remember the verdicts of unsigned mail by sender and From field: each must
  // be what computing that message alone gives, and a zone change must count.
  it('are each message’s own, from the same sender again, from another, and after a zone change', async () => {
    await api('PUT', '/dns/records', { name: 'unsigned.example', type: 'TXT', value: 'v=spf1 -all' });
    const transport = nodemailer.createTransport({ host: server.smtp.host, port: server.smtp.port, secure: false, ignoreTLS: true, name: 'localhost' });
    const send = async (from: string, subject: string): Promise<string> =>
      idOf((await transport.sendMail({ from, to: 'bob@example.test', subject, text: `${subject}\n` })).messageId);
    const alone = async (id: string, mailFrom: string): Promise<Authentication> => {
      const raw = Buffer.from(await (await fetch(`${server.url}/api/v1/messages/${id}/raw`)).arrayBuffer());
      const input = { raw, mailFrom, helo: 'localhost', clientIp: '127.0.0.1', authservId: 'mx.test' };
      return { ...(await computeAuthentication(input, { resolver: createZoneResolver(server.dnsZone) })), computedAt: null };
    };
    const checked: Authentication[] = [];
    for (const [from, subject] of [
      ['a@unsigned.example', 'first'],
      ['a@unsigned.example', 'second'],
      ['Someone Else <b@unsigned.example>', 'third'],
      ['a@other-unsigned.example', 'fourth'],
    ] as const) {
      const id = await send(from, subject);
      const { authentication } = await doneDetail(id);
      expect({ ...authentication, computedAt: null }, subject).toEqual(await alone(id, from.replace(/^.*<|>$/g, '')));
      expect(authentication.computedAt).not.toBeNull();
      checked.push(authentication);
    }
    expect(checked.map((authentication) => [authentication.spf.result, authentication.dmarc.result, authentication.dmarc.domain])).toEqual([
      ['fail', 'none', 'unsigned.example'],
      ['fail', 'none', 'unsigned.example'],
      ['fail', 'none', 'unsigned.example'],
      ['none', 'none', 'other-unsigned.example'],
    ]);
    await api('PUT', '/dns/records', { name: '_dmarc.unsigned.example', type: 'TXT', value: 'v=DMARC1; p=reject' });
    const id = await send('a@unsigned.example', 'after the zone changed');
    const { authentication } = await doneDetail(id);
    expect(authentication.dmarc).toMatchObject({ result: 'fail', policy: 'reject' });
    expect({ ...authentication, computedAt: null }).toEqual(await alone(id, 'a@unsigned.example'));
    transport.close();
  });
});

describe('the 250 never waits for verdicts', () => {
  let dns: Socket;
  let questions = 0;
  let slow: RunningMailwright;

  beforeAll(async () => {
    // A name server that reads every question and answers none.
    dns = createSocket('udp4');
    dns.on('message', () => (questions += 1));
    await new Promise<void>((resolve) => dns.bind(0, '127.0.0.1', resolve));
    slow = await createMailwright({
      smtpPort: 0,
      smtpsPort: 0,
      httpPort: 0,
      dns: 'live',
      dnsServers: [`127.0.0.1:${dns.address().port}`],
      dnsTimeoutMs: 300,
    });
  });

  afterAll(async () => {
    await slow?.close();
    dns?.close();
  });

  it('acknowledges at once while live DNS does not answer, and ends temperror', async () => {
    const transport = nodemailer.createTransport({
      host: slow.smtp.host,
      port: slow.smtp.port,
      secure: false,
      ignoreTLS: true,
      dkim: (await import('../dns/create-dkim-key.js').then((m) => m.createDkimKey({ domain: 'example.com', selector: 's1' }))).nodemailer ?? undefined,
    });
    const info = await transport.sendMail({ from: 'alice@example.com', to: 'bob@example.test', subject: 'slow dns', text: 'hi\n' });
    transport.close();
    expect(info.response).toMatch(/^250 /);
    // When the 250 came, the verdicts were still being computed: the reply did not wait for DNS.
    const { messages } = await slow.store.listMessages({ limit: 1 });
    const message = messages[0] as CapturedMessage;
    expect(message.authentication?.status).toBe('pending');
    await expect.poll(async () => (await slow.store.getAuthentication(message.id))?.status, { timeout: 15_000 }).toBe('done');
    const authentication = (await slow.store.getAuthentication(message.id)) as Authentication;
    expect(authentication.dkim[0]?.result).toBe('temperror');
    expect(authentication.spf.result).toBe('temperror');
    expect(questions).toBeGreaterThan(0);
  });
});

describe('waiting for verdicts', () => {
  it('tells stream clients when verdicts are done, delivers to verdict filters once, and lets REST waits wait for them', async () => {
    const key = (
      await api<{ dkim: { domainName: string; keySelector: string; privateKey: string } }>('POST', '/dkim/keys', { domain: 'example.com', selector: 'w1' })
    ).body;
    const after = await server.store.latestSeq();
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/stream`, 'mailwright.v1');
    const frames: { type: string; subscription?: string; id?: string; message?: CapturedMessage; authentication?: unknown }[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'subscribe', id: 'all', since: after }));
    socket.send(JSON.stringify({ type: 'subscribe', id: 'passing', since: after, filter: { dkim: 'pass' } }));
    await expect.poll(() => frames.filter((frame) => frame.type === 'subscribed').length).toBe(2);
    const wait = api<CapturedMessage>('GET', `/messages/wait?dkim=pass&after=${after}&timeout=10000`);

    const transport = nodemailer.createTransport({ host: server.smtp.host, port: server.smtp.port, secure: false, ignoreTLS: true, dkim: key.dkim });
    const info = await transport.sendMail({ from: 'alice@example.com', to: 'bob@example.test', subject: 'wait for it', text: 'hi\n' });
    transport.close();
    const waited = await wait;
    expect(waited.status).toBe(200);
    expect(waited.body).toMatchObject({ messageId: info.messageId, authentication: { status: 'done', dkim: 'pass' } });

    await expect.poll(() => frames.some((frame) => frame.type === 'authentication' && frame.id === waited.body.id)).toBe(true);
    const arrivals = frames.filter((frame) => frame.type === 'message' && frame.message?.id === waited.body.id);
    await expect.poll(() => frames.filter((frame) => frame.type === 'message' && frame.subscription === 'passing').length).toBe(1);
    expect(arrivals.find((frame) => frame.subscription === 'all')?.message?.authentication).toEqual({ status: 'pending', dkim: null, spf: null, dmarc: null });
    expect(frames.find((frame) => frame.type === 'message' && frame.subscription === 'passing')?.message?.authentication).toMatchObject({
      status: 'done',
      dkim: 'pass',
    });
    expect(frames.find((frame) => frame.type === 'authentication')).toEqual({
      type: 'authentication',
      id: waited.body.id,
      seq: waited.body.seq,
      authentication: { status: 'done', dkim: 'pass', spf: expect.any(String), dmarc: expect.any(String) },
    });

    // A recompute tells clients again, and delivers nothing twice.
    await api('POST', `/messages/${waited.body.id}/authentication`);
    await expect.poll(() => frames.filter((frame) => frame.type === 'authentication' && frame.id === waited.body.id).length).toBe(2);
    expect(frames.filter((frame) => frame.type === 'message' && frame.subscription === 'passing')).toHaveLength(1);
    socket.close();
  });
});

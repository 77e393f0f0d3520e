import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import nodemailer from 'nodemailer';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapturedMessage, IssuedKey, MessageDetail, Protection, RegisteredKey } from '@mailwright/core';
import { createMailwright, type RunningMailwright } from '../../mailwright.js';
import { findExecutable, runProcess } from '../../test-support/external-client.js';

// S/MIME produced by OpenSSL (`openssl cms`, `openssl smime`), sent with nodemailer as a
// pre-built body (what apps do), examined by a real server and read back over REST.

const openssl = findExecutable('openssl');
if (!openssl) throw new Error('openssl is needed by these tests and is not installed');

let server: RunningMailwright;
let dir: string;
let alice: IssuedKey;
let aliceCert: string;
let aliceKey: string;
const LIMIT_BYTES = 64 * 1024 * 1024;

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (response.status === 204 ? null : await response.json()) as T };
}

async function run(...args: string[]): Promise<void> {
  const result = await runProcess(openssl as string, args, { timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr}`);
}

let files = 0;
async function file(content: string | Buffer): Promise<string> {
  files += 1;
  const path = join(dir, `f${files}`);
  await writeFile(path, content);
  return path;
}

/** A MIME entity to protect: a text body (and an attachment when asked). */
function entity(text: string, attachment?: Buffer): string {
  if (!attachment) return `Content-Type: text/plain; charset=utf-8\r\n\r\n${text}\r\n`;
  const b64 = attachment.toString('base64').replace(/.{76}/g, '$&\r\n');
  return (
    'Content-Type: multipart/mixed; boundary="mix"\r\n\r\n--mix\r\nContent-Type: text/plain\r\n\r\n' +
    `${text}\r\n--mix\r\nContent-Type: application/pdf; name="statement.pdf"\r\nContent-Disposition: attachment; filename="statement.pdf"\r\n` +
    `Content-Transfer-Encoding: base64\r\n\r\n${b64}\r\n--mix--\r\n`
  );
}

/** Runs `openssl cms` (or `smime`) on `input`, adding the headers of a message; returns the bytes to send. */
async function produce(tool: 'cms' | 'smime', args: string[], input: string | Buffer, subject: string, recipients: string[] = []): Promise<Buffer> {
  const inPath = await file(input);
  const outPath = `${inPath}.out`;
  await run(tool, ...args, '-in', inPath, '-out', outPath, '-from', 'billing@example.com', '-to', 'alice@example.test', '-subject', subject, ...recipients);
  return Buffer.concat([Buffer.from(`Message-ID: <${randomUUID()}@example.com>\r\n`), await readFile(outPath)]);
}

/** Sends a pre-built message with nodemailer (`raw`), returns its id. */
async function send(raw: Buffer): Promise<string> {
  const transport = nodemailer.createTransport({ host: server.smtp.host, port: server.smtp.port, secure: false, ignoreTLS: true });
  await transport.sendMail({ envelope: { from: 'billing@example.com', to: ['alice@example.test'] }, raw });
  transport.close();
  const messageId = /^Message-ID: (<[^>]+>)/im.exec(raw.toString('latin1'))?.[1];
  let id: string | undefined;
  await expect
    .poll(async () => {
      const { body } = await api<{ messages: CapturedMessage[] }>('GET', '/messages?limit=1000');
      id = body.messages.find((message) => message.messageId === messageId)?.id;
      return id;
    })
    .toBeDefined();
  return id as string;
}

/** The detail once its protection is examined (after the 250: bounded polling). */
async function examined(id: string): Promise<MessageDetail & { protection: Protection }> {
  let detail: MessageDetail | null = null;
  await expect
    .poll(
      async () => {
        detail = (await api<MessageDetail>('GET', `/messages/${id}`)).body;
        return detail.protection?.status;
      },
      { timeout: 20_000 },
    )
    .toBe('done');
  return detail as unknown as MessageDetail & { protection: Protection };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mailwright-smime-'));
  server = await createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0, hostname: 'mx.test', logger: false, maxMessageSize: LIMIT_BYTES });
  const issued = await api<IssuedKey>('POST', '/keys/smime', { address: 'alice@example.test' });
  expect(issued.status).toBe(201);
  alice = issued.body;
  aliceCert = await file(alice.publicKey);
  aliceKey = await file(alice.privateKey);
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('S/MIME keys', () => {
  it('issues a certificate from the test CA with the e-mail protection EKU, registers it, and never lists its private key', async () => {
    const text = (await runProcess(openssl as string, ['x509', '-in', aliceCert, '-noout', '-text'])).stdout;
    expect(text).toContain('E-mail Protection');
    expect(text).toContain('email:alice@example.test');
    expect(text).toContain('Public-Key: (2048 bit)');
    await run('verify', '-CAfile', await file(server.ca), '-purpose', 'smimeencrypt', aliceCert);
    const { body } = await api<{ keys: RegisteredKey[] }>('GET', '/keys');
    const listed = body.keys.find((key) => key.id === alice.key.id);
    expect(listed).toMatchObject({ type: 'smime', address: 'alice@example.test', canDecrypt: true });
    expect(JSON.stringify(body)).not.toContain('PRIVATE KEY');
  });

  it('refuses a key that cannot be read, and a private key of another certificate', async () => {
    const garbage = await api<{ error: { code: string; message: string } }>('POST', '/keys', { type: 'smime', certificate: 'not a certificate' });
    expect(garbage.status).toBe(400);
    expect(garbage.body.error.code).toBe('INVALID_KEY');
    const other = (await api<IssuedKey>('POST', '/keys/smime', { address: 'other@example.test' })).body;
    const mismatched = await api<{ error: { code: string; message: string } }>('POST', '/keys', {
      type: 'smime',
      certificate: alice.publicKey,
      privateKey: other.privateKey,
    });
    expect(mismatched.status).toBe(400);
    expect(mismatched.body.error.message).toContain('does not belong');
    expect((await api('DELETE', `/keys/${other.key.id}`)).status).toBe(204);
    expect((await api<{ error: { code: string } }>('DELETE', `/keys/${other.key.id}`)).body.error.code).toBe('KEY_NOT_FOUND');
  });
});

describe('S/MIME signatures (openssl)', () => {
  it('verifies an opaque signature and trusts a signer issued by the test CA', async () => {
    const raw = await produce('cms', ['-sign', '-nodetach', '-signer', aliceCert, '-inkey', aliceKey, '-md', 'sha256'], entity('Signed opaque.'), 'opaque');
    const detail = await examined(await send(raw));
    expect(detail.protection).toMatchObject({ kind: 'smime', signed: true, encrypted: false, order: null, reason: null });
    expect(detail.protection.signatures).toHaveLength(1);
    expect(detail.protection.signatures[0]).toMatchObject({
      valid: true,
      trusted: true,
      signer: 'alice@example.test',
      digestAlgorithm: 'SHA-256',
      algorithm: 'RSA',
      reason: null,
      fingerprint: alice.key.fingerprint,
    });
    expect(Date.parse(detail.protection.signatures[0]?.signedAt ?? '')).not.toBeNaN();
  });

  it('verifies a detached signature (multipart/signed) made by openssl smime, and warns about SHA-1', async () => {
    const raw = await produce('smime', ['-sign', '-signer', aliceCert, '-inkey', aliceKey, '-md', 'sha1'], entity('Signed detached.'), 'detached');
    expect(raw.toString()).toContain('multipart/signed');
    const detail = await examined(await send(raw));
    expect(detail.protection.signatures[0]).toMatchObject({ valid: true, trusted: true, digestAlgorithm: 'SHA-1' });
    expect(detail.protection.warnings).toContain('SHA-1');
  });

  it('verifies an ECDSA signer issued with keyType ecdsa-p256', async () => {
    const dave = (await api<IssuedKey>('POST', '/keys/smime', { address: 'dave@example.test', keyType: 'ecdsa-p256' })).body;
    const raw = await produce('cms', ['-sign', '-signer', await file(dave.publicKey), '-inkey', await file(dave.privateKey)], entity('EC signed.'), 'ecdsa');
    const signature = (await examined(await send(raw))).protection.signatures[0];
    expect(signature).toMatchObject({ valid: true, trusted: true, signer: 'dave@example.test', algorithm: 'ECDSA', reason: null });
  });

  it('warns about an RSA key under 2048 bits', async () => {
    const key = await file('');
    const cert = `${key}.crt`;
    await run('req', '-x509', '-newkey', 'rsa:1024', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=weak', '-days', '2');
    const raw = await produce('cms', ['-sign', '-nodetach', '-signer', cert, '-inkey', key], entity('weak'), 'weak key');
    const { protection } = await examined(await send(raw));
    expect(protection.signatures[0]?.valid).toBe(true);
    expect(protection.warnings).toContain('RSA-1024');
  });

  it('says a tampered signature is not valid, and why', async () => {
    const raw = await produce('smime', ['-sign', '-signer', aliceCert, '-inkey', aliceKey], entity('Pay 100 EUR.'), 'tampered');
    const tampered = Buffer.from(raw.toString('latin1').replace('Pay 100 EUR.', 'Pay 900 EUR.'), 'latin1');
    const detail = await examined(await send(tampered));
    expect(detail.protection.signed).toBe(true);
    expect(detail.protection.signatures[0]?.valid).toBe(false);
    expect(detail.protection.signatures[0]?.reason).toContain('does not verify');
  });

  it('does not trust a self-signed signer that nobody registered', async () => {
    const key = await file('');
    const cert = `${key}.crt`;
    await run(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      '/CN=stranger/emailAddress=stranger@example.com',
      '-days',
      '2',
    );
    const raw = await produce('cms', ['-sign', '-nodetach', '-signer', cert, '-inkey', key], entity('Who am I?'), 'stranger');
    const signature = (await examined(await send(raw))).protection.signatures[0];
    expect(signature).toMatchObject({ valid: true, trusted: false, signer: 'stranger@example.com' });
    expect(signature?.reason).toContain('not trusted');
  });
});

describe('S/MIME encryption (openssl)', () => {
  const cases = [
    {
      name: 'AES-256-CBC with RSA PKCS#1 v1.5',
      args: ['-aes256'],
      algorithm: 'AES-256-CBC',
      keyTransport: 'RSA PKCS#1 v1.5',
      warnings: ['RSA PKCS#1 v1.5 key transport'],
    },
    {
      name: 'AES-256-GCM (AuthEnvelopedData)',
      args: ['-aes-256-gcm'],
      algorithm: 'AES-256-GCM',
      keyTransport: 'RSA PKCS#1 v1.5',
      warnings: ['RSA PKCS#1 v1.5 key transport'],
    },
    { name: '3DES', args: ['-des3'], algorithm: '3DES-CBC', keyTransport: 'RSA PKCS#1 v1.5', warnings: ['3DES', 'RSA PKCS#1 v1.5 key transport'] },
    {
      name: 'AES-128-CBC with RSA-OAEP',
      args: ['-aes128', '-recip', 'CERT', '-keyopt', 'rsa_padding_mode:oaep'],
      algorithm: 'AES-128-CBC',
      keyTransport: 'RSA-OAEP',
      warnings: [],
    },
  ];
  for (const test of cases) {
    it(`decrypts ${test.name} with the registered key, and serves the inner message`, async () => {
      const args = test.args.map((arg) => (arg === 'CERT' ? aliceCert : arg));
      const recipient = args.includes('-recip') ? [] : [aliceCert];
      const secret = `Statement ${randomUUID()}`;
      const raw = await produce('cms', ['-encrypt', ...args], entity(secret), `encrypted ${test.name}`, recipient);
      expect(raw.toString()).not.toContain(secret);
      const id = await send(raw);
      const detail = await examined(id);
      expect(detail.protection).toMatchObject({ kind: 'smime', signed: false, encrypted: true, reason: null });
      expect(detail.protection.encryption).toMatchObject({ algorithm: test.algorithm, decrypted: true, reason: null });
      expect(detail.protection.encryption?.recipients).toEqual([
        { id: expect.stringContaining('serial='), keyTransport: test.keyTransport, address: 'alice@example.test' },
      ]);
      expect([...detail.protection.warnings].sort()).toEqual([...test.warnings].sort());
      const summary = (await api<{ messages: CapturedMessage[] }>('GET', '/messages?encrypted=true&limit=1000')).body.messages.find(
        (message) => message.id === id,
      );
      expect(summary?.protection).toEqual({ status: 'done', kind: 'smime', signed: false, encrypted: true, decrypted: true });
      const decrypted = await api<MessageDetail>('GET', `/messages/${id}?view=decrypted`);
      expect(decrypted.status).toBe(200);
      expect(decrypted.body).toMatchObject({ id, view: 'decrypted', subject: `encrypted ${test.name}` });
      expect(decrypted.body.text?.trim()).toBe(secret);
      expect(detail.text ?? '').not.toContain(secret);
    });
  }

  it('recognizes RC2 (OpenSSL legacy provider) and says it is not decrypted, with the warning', async () => {
    const raw = await produce('cms', ['-encrypt', '-rc2', '-provider', 'legacy', '-provider', 'default'], entity('old'), 'rc2', [aliceCert]);
    const { protection } = await examined(await send(raw));
    expect(protection.encryption).toMatchObject({ algorithm: 'RC2-CBC', decrypted: false });
    expect(protection.encryption?.reason).toContain('not supported');
    expect(protection.warnings).toContain('RC2');
  });

  it('recognizes ECDH key agreement to an EC certificate, names its recipient, and says it is not decrypted', async () => {
    const erin = (await api<IssuedKey>('POST', '/keys/smime', { address: 'erin@example.test', keyType: 'ecdsa-p256' })).body;
    const raw = await produce('cms', ['-encrypt', '-aes128'], entity('agreed'), 'ecdh', [await file(erin.publicKey)]);
    const { protection } = await examined(await send(raw));
    expect(protection.encryption).toMatchObject({ algorithm: 'AES-128-CBC', decrypted: false });
    expect(protection.encryption?.recipients).toEqual([{ id: expect.stringContaining('serial='), keyTransport: 'ECDH', address: 'erin@example.test' }]);
    expect(protection.encryption?.reason).toContain('ECDH');
  });

  it('examines at most 32 recipients of an envelope and says how many it left', async () => {
    const raw = await produce('cms', ['-encrypt', '-aes128'], entity('to many'), 'forty recipients', Array<string>(40).fill(aliceCert));
    const { protection } = await examined(await send(raw));
    expect(protection.encryption?.recipients).toHaveLength(32);
    expect(protection.encryption?.decrypted).toBe(true);
    expect(protection.reason).toBe('8 more recipients were not examined');
  });

  it('reads encrypt-then-sign: a signature around an envelope', async () => {
    const enveloped = await file('');
    await run('cms', '-encrypt', '-aes256', '-in', await file(entity('inside')), '-out', enveloped, aliceCert);
    const raw = await produce('cms', ['-sign', '-nodetach', '-signer', aliceCert, '-inkey', aliceKey], await readFile(enveloped), 'encrypt then sign');
    const id = await send(raw);
    const { protection } = await examined(id);
    expect(protection).toMatchObject({ signed: true, encrypted: true, order: 'encrypt-then-sign' });
    expect(protection.signatures[0]?.valid).toBe(true);
    expect((await api<MessageDetail>('GET', `/messages/${id}?view=decrypted`)).body.text?.trim()).toBe('inside');
  });

  it('peels sign-then-encrypt: the order, the signature inside, and a decrypted PDF attachment', async () => {
    const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(2000)]);
    const signedPath = await file('');
    const inner = await file(entity('Your statement is attached.', pdf));
    await run('cms', '-sign', '-signer', aliceCert, '-inkey', aliceKey, '-in', inner, '-out', signedPath);
    const raw = await produce('cms', ['-encrypt', '-aes-256-gcm'], await readFile(signedPath), 'statement', [aliceCert]);
    const id = await send(raw);
    const { protection } = await examined(id);
    expect(protection).toMatchObject({ kind: 'smime', signed: true, encrypted: true, order: 'sign-then-encrypt', reason: null });
    expect(protection.signatures[0]).toMatchObject({ valid: true, trusted: true, signer: 'alice@example.test' });
    expect(protection.encryption).toMatchObject({ algorithm: 'AES-256-GCM', decrypted: true });
    const decrypted = (await api<MessageDetail>('GET', `/messages/${id}?view=decrypted`)).body;
    expect(decrypted.attachments).toEqual([expect.objectContaining({ filename: 'statement.pdf', contentType: 'application/pdf', size: pdf.length })]);
    const partId = (decrypted.attachments[0] as { partId: string }).partId;
    const download = await fetch(`${server.url}/api/v1/messages/${id}/attachments/${partId}?view=decrypted`);
    expect(download.status).toBe(200);
    expect(Buffer.from(await download.arrayBuffer()).equals(pdf)).toBe(true);
    const signedList = (await api<{ messages: CapturedMessage[] }>('GET', '/messages?signed=true&protection=smime&limit=1000')).body.messages;
    expect(signedList.map((message) => message.id)).toContain(id);
  });

  it('cannot decrypt without the recipient’s key and says so; registering it and re-examining decrypts it', async () => {
    const key = await file('');
    const cert = `${key}.crt`;
    await run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=bob/emailAddress=bob@example.test', '-days', '2');
    const raw = await produce('cms', ['-encrypt', '-aes256'], entity('For Bob only.'), 'for bob', [cert]);
    const id = await send(raw);
    const before = (await examined(id)).protection;
    expect(before.encryption).toMatchObject({ algorithm: 'AES-256-CBC', decrypted: false });
    expect(before.encryption?.recipients[0]?.address).toBeNull();
    expect(before.encryption?.reason).toContain('no registered key matches');
    expect((await api<{ error: { code: string } }>('GET', `/messages/${id}?view=decrypted`)).body.error.code).toBe('NOT_DECRYPTED');
    expect((await api('GET', `/messages?encrypted=true&limit=1000`)).status).toBe(200);

    const registered = await api<RegisteredKey>('POST', '/keys', {
      type: 'smime',
      certificate: await readFile(cert, 'utf8'),
      privateKey: await readFile(key, 'utf8'),
    });
    expect(registered.body).toMatchObject({ address: 'bob@example.test', canDecrypt: true });
    const after = await api<Protection>('POST', `/messages/${id}/protection`);
    expect(after.body.encryption).toMatchObject({ decrypted: true, reason: null });
    expect((await api<MessageDetail>('GET', `/messages/${id}?view=decrypted`)).body.text?.trim()).toBe('For Bob only.');
  });

  it('says the wrong key does not decrypt: a registered certificate whose key is not the one encrypted to', async () => {
    // A message addressed to alice (her issuer and serial) whose content key was encrypted to carol's key.
    const key = await file('');
    const cert = `${key}.crt`;
    await run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-subj', '/CN=carol', '-days', '2');
    const der = await file('');
    await run('cms', '-encrypt', '-aes256', '-outform', 'DER', '-in', await file(entity('x')), '-out', der, cert);
    const forged = await file('');
    await run('cms', '-encrypt', '-aes256', '-outform', 'DER', '-in', await file(entity('y')), '-out', forged, aliceCert);
    const aliceDer = await readFile(forged);
    const carolDer = await readFile(der);
    // Carol's encrypted content key in place of alice's: both are the first 256-byte OCTET STRING (04 82 01 00).
    const marker = Buffer.from('04820100', 'hex');
    const aliceAt = aliceDer.indexOf(marker);
    const carolAt = carolDer.indexOf(marker);
    expect(aliceAt).toBeGreaterThan(0);
    expect(carolAt).toBeGreaterThan(0);
    const swapped = Buffer.from(aliceDer);
    carolDer.copy(swapped, aliceAt + 4, carolAt + 4, carolAt + 4 + 256);
    const raw = Buffer.from(
      `Message-ID: <${randomUUID()}@example.com>\r\nSubject: wrong key\r\nMIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\r\nContent-Transfer-Encoding: base64\r\n\r\n${swapped.toString('base64').replace(/.{76}/g, '$&\r\n')}\r\n`,
    );
    const { protection } = await examined(await send(raw));
    expect(protection.encryption?.recipients[0]?.address).toBe('alice@example.test');
    expect(protection.encryption?.decrypted).toBe(false);
    expect(protection.encryption?.reason).toContain('does not decrypt');
  });
});

describe('S/MIME bad input', () => {
  const header = (subject: string, type = 'enveloped-data'): string =>
    `Message-ID: <${randomUUID()}@example.com>\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=${type}; name="smime.p7m"\r\nContent-Transfer-Encoding: base64\r\n\r\n`;

  it('gives truncated CMS a verdict with the reason', async () => {
    const der = await file('');
    await run('cms', '-encrypt', '-aes256', '-outform', 'DER', '-in', await file(entity('truncated')), '-out', der, aliceCert);
    const bytes = await readFile(der);
    const raw = Buffer.from(header('truncated') + bytes.subarray(0, bytes.length / 2).toString('base64'));
    const { protection } = await examined(await send(raw));
    expect(protection).toMatchObject({ kind: 'smime', encrypted: true });
    expect(protection.encryption?.decrypted).toBe(false);
    expect(protection.reason).toContain('cannot be read');
  });

  it('gives garbage base64 a verdict with the reason', async () => {
    const raw = Buffer.from(header('garbage') + '!!!! not base64 at all $$$$\r\n' + randomBytes(300).toString('base64'));
    const { protection } = await examined(await send(raw));
    expect(protection.encryption?.decrypted).toBe(false);
    expect(protection.reason).toContain('cannot be read');
  });

  it('stops an encryption nested 50 levels deep with a reason', async () => {
    let content: Buffer = Buffer.from(entity('the bottom'));
    for (let level = 0; level < 50; level++) {
      const der = await file('');
      await run('cms', '-encrypt', '-aes128', '-binary', '-outform', 'DER', '-in', await file(content), '-out', der, aliceCert);
      content = Buffer.concat([
        Buffer.from('Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: binary\r\n\r\n'),
        await readFile(der),
      ]);
    }
    const outer = content.subarray(content.indexOf('\r\n\r\n') + 4);
    const raw = Buffer.from(header('loop') + outer.toString('base64').replace(/.{76}/g, '$&\r\n'));
    const { protection } = await examined(await send(raw));
    expect(protection).toMatchObject({ kind: 'smime', encrypted: true });
    expect(protection.reason).toContain('layers of protection are nested');
  });

  it('decrypts a 20 MB encrypted attachment within bounds', async () => {
    const attachment = randomBytes(20 * 1024 * 1024);
    const raw = await produce('cms', ['-encrypt', '-aes-256-gcm', '-binary'], entity('big', attachment), 'big', [aliceCert]);
    const id = await send(raw);
    const { protection } = await examined(id);
    expect(protection.encryption).toMatchObject({ algorithm: 'AES-256-GCM', decrypted: true });
    expect(server.store.memoryUsage().messages).toBeGreaterThan(raw.length + 20 * 1024 * 1024);
  }, 120_000);
});

describe('S/MIME on the stream and in waits', () => {
  it('sends a protection frame once examined, delivers to an encrypted=true subscription once, and lets a wait wait for it', async () => {
    const after = await server.store.latestSeq();
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/stream`, 'mailwright.v1');
    const frames: { type: string; subscription?: string; id?: string; message?: CapturedMessage; protection?: unknown }[] = [];
    socket.on('message', (data) => frames.push(JSON.parse(String(data))));
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'subscribe', id: 'all', since: after }));
    socket.send(JSON.stringify({ type: 'subscribe', id: 'encrypted', since: after, filter: { encrypted: 'true' } }));
    await expect.poll(() => frames.filter((frame) => frame.type === 'subscribed').length).toBe(2);
    const wait = api<CapturedMessage>('GET', `/messages/wait?encrypted=true&protection=smime&after=${after}&timeout=20000`);

    const id = await send(await produce('cms', ['-encrypt', '-aes256'], entity('streamed'), 'streamed', [aliceCert]));
    const waited = await wait;
    expect(waited.status).toBe(200);
    expect(waited.body).toMatchObject({ id, protection: { status: 'done', kind: 'smime', encrypted: true, decrypted: true } });
    await expect.poll(() => frames.filter((frame) => frame.type === 'message' && frame.subscription === 'encrypted').length).toBe(1);
    expect(frames.find((frame) => frame.type === 'message' && frame.subscription === 'all')?.message?.protection).toEqual({
      status: 'pending',
      kind: 'none',
      signed: false,
      encrypted: false,
      decrypted: false,
    });
    expect(frames.find((frame) => frame.type === 'protection')).toEqual({
      type: 'protection',
      id,
      seq: waited.body.seq,
      protection: { status: 'done', kind: 'smime', signed: false, encrypted: true, decrypted: true },
    });
    // Examined again: clients are told again, and nothing is delivered twice.
    await api('POST', `/messages/${id}/protection`);
    await expect.poll(() => frames.filter((frame) => frame.type === 'protection' && frame.id === id).length).toBe(2);
    expect(frames.filter((frame) => frame.type === 'message' && frame.subscription === 'encrypted')).toHaveLength(1);
    socket.close();
  });
});

describe('plain mail', () => {
  it('is examined at once, with the shared none record, and matches encrypted=false', async () => {
    const transport = nodemailer.createTransport({ host: server.smtp.host, port: server.smtp.port, secure: false, ignoreTLS: true });
    const info = await transport.sendMail({ from: 'a@example.com', to: 'b@example.test', subject: 'plain', text: 'Nothing to see.' });
    transport.close();
    const { body } = await api<{ messages: CapturedMessage[] }>('GET', '/messages?encrypted=false&signed=false&limit=1000');
    const message = body.messages.find((candidate) => candidate.messageId === info.messageId);
    expect(message?.protection).toEqual({ status: 'done', kind: 'none', signed: false, encrypted: false, decrypted: false });
    const detail = (await api<MessageDetail>('GET', `/messages/${message?.id}`)).body;
    expect(detail.protection).toMatchObject({ status: 'done', kind: 'none', signatures: [], encryption: null });
    expect((await api<{ messages: CapturedMessage[] }>('GET', '/messages?protection=pgp')).body.messages).toEqual([]);
  });
});

describe('--protection off', () => {
  it('leaves the field out and refuses to examine', async () => {
    const off = await createMailwright({ smtpPort: 0, smtpsPort: 0, httpPort: 0, logger: false, protection: 'off' });
    try {
      const transport = nodemailer.createTransport({ host: off.smtp.host, port: off.smtp.port, secure: false, ignoreTLS: true });
      await transport.sendMail({
        envelope: { from: 'a@example.com', to: ['b@example.test'] },
        raw: 'Subject: x\r\nContent-Type: application/pkcs7-mime\r\n\r\nAAAA\r\n',
      });
      transport.close();
      const [message] = ((await (await fetch(`${off.url}/api/v1/messages`)).json()) as { messages: CapturedMessage[] }).messages;
      expect(message).toBeDefined();
      expect(message?.protection).toBeUndefined();
      const response = await fetch(`${off.url}/api/v1/messages/${message?.id}/protection`, { method: 'POST' });
      expect(response.status).toBe(409);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('PROTECTION_OFF');
    } finally {
      await off.close();
    }
  });
});

import { X509Certificate } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CapturedMessage } from '@mailwright/core';
import { loadTestAuthority, type CertificateAndKey } from '../tls/test-authority.js';
import { InteractiveProcess, requireExecutable, runProcess } from '../test-support/external-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { uniqueSubject } from '../test-support/unique-subject.js';

const HOST = '127.0.0.1';
const USER = { username: 'swaks-user', password: 's3cret-for-swaks' };
const CLIENT_CN = 'external-client';

let t: TestServer;
let caFile: string;
let clientCert: CertificateAndKey;
let clientCertFile: string;
let clientKeyFile: string;

beforeAll(async () => {
  t = await startTestServer({ authUsers: [USER], listeners: [{ name: 'mtls', tls: 'implicit', clientCertificate: 'request' }] });
  caFile = join(t.dataDir, 'client-trust.pem');
  await writeFile(caFile, t.server.ca);
  clientCert = await (await loadTestAuthority({ dataDir: t.dataDir, hostnames: [] })).issueClientCertificate(CLIENT_CN);
  clientCertFile = join(t.dataDir, 'client-cert.pem');
  clientKeyFile = join(t.dataDir, 'client-key.pem');
  await writeFile(clientCertFile, clientCert.cert);
  await writeFile(clientKeyFile, clientCert.key, { mode: 0o600 });
});

afterAll(() => t?.close());

async function stored(subject: string): Promise<CapturedMessage> {
  const { messages, total } = await t.messages({ subject });
  expect(total, `one message with subject "${subject}"`).toBe(1);
  return messages[0] as CapturedMessage;
}

/** The stored TLS record says what the client reported negotiating, on the name it asked for. */
function expectStoredTls(
  message: CapturedMessage,
  client: { mode: 'starttls' | 'implicit'; protocol: string | undefined; cipher: string | undefined; clientCertificate?: boolean },
): void {
  expect(message.tls.mode).toBe(client.mode);
  expect(message.tls.protocol).toBe(client.protocol);
  expect(message.tls.cipher?.name).toBe(client.cipher);
  expect(message.tls.servername).toBe('localhost');
  if (client.clientCertificate) {
    expect(message.tls.clientCertificate).toMatchObject({
      subject: `CN=${CLIENT_CN}`,
      fingerprint256: new X509Certificate(clientCert.cert).fingerprint256,
      authorized: true,
    });
  } else {
    expect(message.tls.clientCertificate).toBeNull();
  }
}

describe('swaks', () => {
  interface SwaksCase {
    name: string;
    port: () => number;
    args: () => string[];
    protocol: string | null;
    mode: 'starttls' | 'implicit';
    auth?: string;
    clientCertificate?: boolean;
  }
  const cases: SwaksCase[] = [
    {
      name: 'STARTTLS forced to TLS 1.2',
      port: () => t.server.smtp.port,
      args: () => ['--tls', '--tls-protocol', 'tlsv1_2'],
      protocol: 'TLSv1.2',
      mode: 'starttls',
    },
    {
      name: 'STARTTLS with TLS 1.3 and AUTH CRAM-MD5',
      port: () => t.server.smtp.port,
      args: () => ['--tls', '--tls-protocol', 'tlsv1_3'],
      protocol: 'TLSv1.3',
      mode: 'starttls',
      auth: 'CRAM-MD5',
    },
    {
      name: 'implicit TLS with AUTH LOGIN',
      port: () => t.server.smtps.port,
      args: () => ['--tls-on-connect'],
      protocol: null,
      mode: 'implicit',
      auth: 'LOGIN',
    },
    {
      name: 'implicit TLS with a client certificate',
      port: () => t.listenerPort('mtls'),
      args: () => ['--tls-on-connect', '--tls-cert', clientCertFile, '--tls-key', clientKeyFile],
      protocol: null,
      mode: 'implicit',
      clientCertificate: true,
    },
  ];

  it.for(cases)('$name: the stored TLS record matches what swaks negotiated', async (testCase, context) => {
    const swaks = requireExecutable('swaks', context);
    const subject = uniqueSubject(`swaks ${testCase.name}`);
    const result = await runProcess(swaks, [
      '--server',
      HOST,
      '--port',
      String(testCase.port()),
      '--from',
      'swaks@app.test',
      '--to',
      'inbox@receiver.test',
      '--header',
      `Subject: ${subject}`,
      '--tls-verify',
      '--tls-ca-path',
      caFile,
      '--tls-sni',
      'localhost',
      ...(testCase.auth ? ['--auth', testCase.auth, '--auth-user', USER.username, '--auth-password', USER.password] : []),
      ...testCase.args(),
    ]);
    const transcript = `${result.stdout}\n${result.stderr}`;
    expect(result.code, transcript).toBe(0);
    // "=== TLS started with cipher TLSv1.3:TLS_AES_256_GCM_SHA384:256"
    const negotiated = /TLS started with cipher (TLSv1(?:\.\d)?):([^:\s]+):\d+/.exec(transcript);
    expect(negotiated, transcript).not.toBeNull();
    const [, protocol, cipher] = negotiated as RegExpExecArray;
    if (testCase.protocol) expect(protocol).toBe(testCase.protocol);

    const message = await stored(subject);
    expectStoredTls(message, { mode: testCase.mode, protocol, cipher, clientCertificate: testCase.clientCertificate });
    expect(message.auth).toEqual(testCase.auth ? { mechanism: testCase.auth, username: USER.username } : null);
    const session = await t.closedSession(message.sessionId);
    expect(JSON.stringify(session)).not.toContain(USER.password);
  });
});

describe('openssl s_client', () => {
  interface OpensslCase {
    name: string;
    port: () => number;
    args: () => string[];
    protocol: 'TLSv1.2' | 'TLSv1.3';
    mode: 'starttls' | 'implicit';
    clientCertificate?: boolean;
  }
  const cases: OpensslCase[] = [
    { name: '-starttls smtp -tls1_2', port: () => t.server.smtp.port, args: () => ['-starttls', 'smtp', '-tls1_2'], protocol: 'TLSv1.2', mode: 'starttls' },
    { name: '-starttls smtp -tls1_3', port: () => t.server.smtp.port, args: () => ['-starttls', 'smtp', '-tls1_3'], protocol: 'TLSv1.3', mode: 'starttls' },
    { name: 'implicit TLS -tls1_2', port: () => t.server.smtps.port, args: () => ['-tls1_2'], protocol: 'TLSv1.2', mode: 'implicit' },
    {
      name: 'implicit TLS with -cert/-key',
      port: () => t.listenerPort('mtls'),
      args: () => ['-tls1_3', '-cert', clientCertFile, '-key', clientKeyFile],
      protocol: 'TLSv1.3',
      mode: 'implicit',
      clientCertificate: true,
    },
  ];

  it.for(cases)('$name: the stored TLS record matches what openssl negotiated', async (testCase, context) => {
    const openssl = requireExecutable('openssl', context);
    const subject = uniqueSubject(`openssl ${testCase.name}`);
    const client = new InteractiveProcess(openssl, [
      's_client',
      '-connect',
      `${HOST}:${testCase.port()}`,
      '-CAfile',
      caFile,
      '-servername',
      'localhost',
      '-verify_return_error',
      // Lines starting with R or Q would otherwise renegotiate or quit (RCPT, QUIT).
      '-nocommands',
      '-ign_eof',
      ...testCase.args(),
    ]);
    try {
      const [, protocol, cipher] = await client.waitFor(/New, (TLSv1\.[0-3]), Cipher is (\S+)/);
      expect(client.output).toContain('Verification: OK');
      expect(protocol).toBe(testCase.protocol);
      // Not anchored to a line start: s_client may print a TLS 1.3 session ticket's block without a final newline just before it.
      if (testCase.mode === 'implicit') await client.waitFor(/220 \S+ ESMTP/);

      const converse = async (line: string, reply: RegExp): Promise<void> => {
        const mark = client.output.length;
        client.writeLine(line);
        await client.waitFor(reply, mark);
      };
      await converse('EHLO openssl.client.test', /^250 /m);
      await converse('MAIL FROM:<openssl@app.test>', /^250 /m);
      await converse('RCPT TO:<inbox@receiver.test>', /^250 /m);
      await converse('DATA', /^354 /m);
      const mark = client.output.length;
      for (const line of [`Subject: ${subject}`, 'From: openssl@app.test', '', 'sent through openssl s_client', '.']) client.writeLine(line);
      await client.waitFor(/^250 .*queued as \S+/m, mark);
      await converse('QUIT', /^221 /m);
      const exit = await client.finish();
      expect(exit.code, exit.stderr).toBe(0);

      const message = await stored(subject);
      expectStoredTls(message, { mode: testCase.mode, protocol, cipher, clientCertificate: testCase.clientCertificate });
      expect(message.tls.cipher?.version).toBe(protocol);
    } finally {
      client.kill();
    }
  });
});

/** A message whose body has lines that a client must dot-stuff, and one that is only a dot. */
function messageWithDots(subject: string): string {
  return `From: sender@app.test\r\nTo: inbox@receiver.test\r\nSubject: ${subject}\r\n\r\nfirst\r\n.leading dot\r\n..two dots\r\n.\r\nlast\r\n`;
}

async function expectDotsKept(subject: string): Promise<CapturedMessage> {
  const message = await stored(subject);
  const raw = (await t.raw(message.id)).toString();
  expect(raw).toContain('\r\nfirst\r\n.leading dot\r\n..two dots\r\n.\r\nlast\r\n');
  return message;
}

describe("Python's smtplib", () => {
  // smtplib prefers CRAM-MD5 when offered, which it is with users configured; the body is dot-stuffed by sendmail().
  const SCRIPT = `
import smtplib, ssl, sys
port, cafile, user, password, message = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.stdin.read()
with smtplib.SMTP('127.0.0.1', port, local_hostname='python.client.test') as smtp:
    smtp.starttls(context=ssl.create_default_context(cafile=cafile))
    smtp.login(user, password)
    smtp.sendmail('sender@app.test', ['inbox@receiver.test'], message.encode())
`;

  it('sends over STARTTLS with CRAM-MD5; the message is stored byte for byte', async (context) => {
    const python = requireExecutable('python3', context);
    const subject = uniqueSubject('smtplib');
    const result = await runProcess(python, ['-c', SCRIPT, String(t.server.smtp.port), caFile, USER.username, USER.password], {
      input: messageWithDots(subject),
    });
    expect(result.code, result.stderr).toBe(0);
    const message = await expectDotsKept(subject);
    expect(message.tls.mode).toBe('starttls');
    expect(message.auth).toEqual({ mechanism: 'CRAM-MD5', username: USER.username });
    const session = await t.closedSession(message.sessionId);
    expect(session.clientName).toBe('python.client.test');
  });
});

describe('msmtp', () => {
  it('sends over STARTTLS with AUTH LOGIN; the message is stored byte for byte', async (context) => {
    const msmtp = requireExecutable('msmtp', context);
    const subject = uniqueSubject('msmtp');
    const result = await runProcess(
      msmtp,
      [
        '--file=/dev/null',
        '--host=127.0.0.1',
        `--port=${t.server.smtp.port}`,
        '--tls=on',
        '--tls-starttls=on',
        `--tls-trust-file=${caFile}`,
        '--auth=login',
        `--user=${USER.username}`,
        `--passwordeval=echo ${USER.password}`,
        '--from=sender@app.test',
        '--',
        'inbox@receiver.test',
      ],
      { input: messageWithDots(subject) },
    );
    expect(result.code, result.stderr).toBe(0);
    const message = await expectDotsKept(subject);
    expect(message.tls.mode).toBe('starttls');
    expect(message.tls.protocol).toBe('TLSv1.3');
    expect(message.auth).toEqual({ mechanism: 'LOGIN', username: USER.username });
  });
});

import { X509Certificate } from 'node:crypto';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, isMailwrightError, type ListenerConfig, type ListenerInfo, type SmtpSession } from '@mailwright/core';
import { createMailwright } from '../mailwright.js';
import { loadTestAuthority } from '../tls/test-authority.js';
import { requireExecutable, runProcess } from '../test-support/external-client.js';
import { RawSmtpClient } from '../test-support/raw-smtp-client.js';
import { pollFor, startTestServer, type TestServer } from '../test-support/test-server.js';

const HOST = '127.0.0.1';
/** What an OpenSSL 3 client needs to offer TLS 1.0/1.1 at all. */
const LEGACY_CLIENT_CIPHERS = 'DEFAULT@SECLEVEL=0';

let t: TestServer;
let caFile: string;

beforeAll(async () => {
  t = await startTestServer({
    listeners: [
      { name: 'legacy-starttls', tls: 'starttls', minVersion: 'TLSv1' },
      { name: 'legacy-implicit', tls: 'implicit', minVersion: 'TLSv1', maxVersion: 'TLSv1.1' },
      { name: 'rsa', tls: 'implicit', keyType: 'rsa-2048', ciphers: 'AES128-GCM-SHA256', maxVersion: 'TLSv1.2' },
      { name: 'weak-key', tls: 'implicit', keyType: 'rsa-1024' },
    ],
  });
  caFile = join(t.dataDir, 'ca.pem');
});

afterAll(async () => {
  await t?.close();
});

/** The newest session of a listener once it is closed (and, with `failed`, once it failed). */
async function lastSession(listener: string, after: Set<string>): Promise<SmtpSession> {
  return pollFor(async () => {
    const { sessions } = await t.getJson<{ sessions: SmtpSession[] }>(`/sessions?listener=${listener}`);
    return sessions.find((session) => !after.has(session.id) && session.closedAt !== null);
  }, `a closed session on ${listener}`);
}

async function sessionIds(listener: string): Promise<Set<string>> {
  const { sessions } = await t.getJson<{ sessions: SmtpSession[] }>(`/sessions?listener=${listener}`);
  return new Set(sessions.map((session) => session.id));
}

async function createListener(
  config: ListenerConfig,
): Promise<{ status: number; body: { error?: { code: string; message: string } } & Partial<ListenerInfo> }> {
  const response = await t.request('/listeners', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(config) });
  return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string } } & Partial<ListenerInfo> };
}

describe('TLS 1.0 and 1.1 windows really negotiate', () => {
  const cases = [
    { listener: 'legacy-starttls', flag: '-tls1', protocol: 'TLSv1', starttls: true },
    { listener: 'legacy-starttls', flag: '-tls1_1', protocol: 'TLSv1.1', starttls: true },
    { listener: 'legacy-implicit', flag: '-tls1', protocol: 'TLSv1', starttls: false },
    { listener: 'legacy-implicit', flag: '-tls1_1', protocol: 'TLSv1.1', starttls: false },
  ];

  it.for(cases)('openssl s_client $flag against $listener negotiates $protocol, and the record says so', async (testCase, context) => {
    const openssl = requireExecutable('openssl', context);
    const before = await sessionIds(testCase.listener);
    const result = await runProcess(
      openssl,
      [
        's_client',
        '-connect',
        `${HOST}:${t.listenerPort(testCase.listener)}`,
        ...(testCase.starttls ? ['-starttls', 'smtp'] : []),
        testCase.flag,
        '-cipher',
        LEGACY_CLIENT_CIPHERS,
        '-CAfile',
        caFile,
        '-servername',
        'localhost',
        '-verify_return_error',
        '-crlf',
        '-ign_eof',
      ],
      { input: 'EHLO legacy.client.test\nQUIT\n' },
    );
    expect(result.stdout).toMatch(new RegExp(`Protocol\\s*: ${testCase.protocol.replace('.', '\\.')}\\n`));
    expect(result.stdout).toContain('Verification: OK');
    expect(result.stdout).toMatch(/^221 /m);
    const session = await lastSession(testCase.listener, before);
    expect(session.error).toBeNull();
    expect(session.tls).toMatchObject({ mode: testCase.starttls ? 'starttls' : 'implicit', protocol: testCase.protocol, servername: 'localhost' });
  });

  it('sslscan sees TLS 1.0 and 1.1 enabled on the legacy listener and disabled on the default one', async (context) => {
    const sslscan = requireExecutable('sslscan', context);
    const scan = async (listener: string): Promise<string> => {
      const args = ['--no-colour', '--no-ciphersuites', '--no-groups', '--no-heartbleed', '--no-fallback', '--no-renegotiation', '--no-compression'];
      const result = await runProcess(sslscan, [...args, `${HOST}:${t.listenerPort(listener)}`], { timeoutMs: 60_000 });
      return result.stdout;
    };
    const legacy = await scan('legacy-implicit');
    expect(legacy).toMatch(/TLSv1\.0\s+enabled/);
    expect(legacy).toMatch(/TLSv1\.1\s+enabled/);
    expect(legacy).toMatch(/TLSv1\.2\s+disabled/);
    const defaults = await scan('smtps');
    expect(defaults).toMatch(/TLSv1\.0\s+disabled/);
    expect(defaults).toMatch(/TLSv1\.1\s+disabled/);
    expect(defaults).toMatch(/TLSv1\.2\s+enabled/);
    expect(defaults).toMatch(/TLSv1\.3\s+enabled/);
  });

  it('a Node.js client limited to TLS 1.0 delivers over TLS 1.0', async () => {
    const client = await RawSmtpClient.connect({
      host: HOST,
      port: t.listenerPort('legacy-implicit'),
      implicitTls: { ca: t.server.ca, servername: 'localhost', minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: LEGACY_CLIENT_CIPHERS },
    });
    expect(client.tls?.protocol).toBe('TLSv1');
    await client.ehlo();
    const replies = await client.sendMessage({ from: 'old@app.test', to: ['rcpt@inbox.test'], data: 'Subject: tls 1.0\r\n\r\nbody\r\n' });
    expect(replies.final?.code).toBe(250);
    await client.quit();
    const { messages } = await t.messages({ subject: 'tls 1.0' });
    expect(messages[0]?.tls.protocol).toBe('TLSv1');
  });

  it('a default listener (TLS 1.2–1.3) refuses a TLS 1.0 client, recorded as an implicit attempt', async (context) => {
    const openssl = requireExecutable('openssl', context);
    const before = await sessionIds('smtps');
    const result = await runProcess(openssl, [
      's_client',
      '-connect',
      `${HOST}:${t.listenerPort('smtps')}`,
      '-tls1',
      '-cipher',
      LEGACY_CLIENT_CIPHERS,
      '-servername',
      'legacy.sni.test',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/alert protocol version|no protocols available|unsupported protocol/i);
    const session = await lastSession('smtps', before);
    expect(session.error).toMatchObject({ stage: 'tls', code: 'protocol_version' });
    expect(session.tls).toMatchObject({ mode: 'implicit', protocol: null, cipher: null, servername: 'legacy.sni.test' });
  });

  it('the default listeners keep OpenSSL’s security level: a client offering only TLS 1.0 and 1.1 gets no session', async () => {
    const error = await new Promise<Error>((resolve, reject) => {
      const socket = tls.connect({
        host: HOST,
        port: t.listenerPort('smtps'),
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        ciphers: LEGACY_CLIENT_CIPHERS,
        rejectUnauthorized: false,
      });
      socket.once('secureConnect', () => reject(new Error(`negotiated ${String(socket.getProtocol())}`)));
      socket.once('error', resolve);
    });
    expect((error as NodeJS.ErrnoException).code).toMatch(/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/);
  });
});

describe('what a listener cannot do is refused at creation (400)', () => {
  it.each([
    [{ name: 'bad-ciphers', ciphers: 'NOT-A-CIPHER' }, /OpenSSL rejects the cipher list "NOT-A-CIPHER"/],
    [{ name: 'ecdsa-suites-rsa-key', keyType: 'rsa-2048', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, /TLSv1\.2: no cipher suite .* rsa-2048 key/],
    [{ name: 'rsa-suites-ecdsa-key', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA', maxVersion: 'TLSv1.2' }, /TLSv1\.2: no cipher suite .* ecdsa-p256 key/],
    [{ name: 'tls13-only-ignored', minVersion: 'TLSv1.3', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }, /names no TLS 1\.3 suite/],
    [{ name: 'tls13-suites-only', ciphers: 'TLS_AES_128_GCM_SHA256' }, /TLSv1\.2 is in the window TLSv1\.2–TLSv1\.3 but cannot be negotiated/],
    [{ name: 'tls10-high-level', minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=2' }, /TLSv1: .*forbids the SHA-1 signatures TLSv1 needs.*TLSv1\.1: /],
    [
      { name: 'implicit-bad', tls: 'implicit', keyType: 'rsa-2048', ciphers: 'ECDHE-ECDSA-AES256-SHA', minVersion: 'TLSv1', maxVersion: 'TLSv1.2' },
      /TLSv1: .*TLSv1\.1: .*TLSv1\.2: /,
    ],
  ] as [ListenerConfig, RegExp][])('POST /listeners %o → 400 INVALID_REQUEST saying why', async (config, reason) => {
    const { status, body } = await createListener(config);
    expect(status).toBe(400);
    expect(body.error?.code).toBe(ErrorCode.INVALID_REQUEST);
    expect(body.error?.message).toMatch(reason);
    // Nothing half-made stays behind.
    const { listeners } = await t.getJson<{ listeners: ListenerInfo[] }>('/listeners');
    expect(listeners.map((listener) => listener.name)).not.toContain(config.name);
  });

  it('a listener given at start (--listener / options) is refused the same way, and the server does not start', async () => {
    const error = await createMailwright({
      smtpPort: 0,
      smtpsPort: 0,
      httpPort: 0,
      dataDir: t.dataDir,
      listeners: [{ name: 'lab', keyType: 'rsa-2048', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }],
    }).then(
      (server) => server.close().then(() => null),
      (caught: unknown) => caught,
    );
    expect(isMailwrightError(error) && error.code).toBe(ErrorCode.INVALID_REQUEST);
    expect((error as Error).message).toMatch(/Listener "lab" cannot work as configured/);
  });

  it('a SHA-1-signed certificate at @SECLEVEL=1: refused where OpenSSL refuses it (3.0), served and proven where it allows it (3.2+)', async () => {
    const config: ListenerConfig = { name: 'weak-signature-level', tls: 'implicit', certificate: 'weak-signature', ciphers: 'DEFAULT:@SECLEVEL=1' };
    const { status, body } = await createListener(config);
    if (status === 400) {
      expect(body.error?.message).toMatch(/refuses the listener's own certificate \(ERR_SSL_CA_MD_TOO_WEAK\)/);
      const { listeners } = await t.getJson<{ listeners: ListenerInfo[] }>('/listeners');
      expect(listeners.map((listener) => listener.name)).not.toContain(config.name);
      return;
    }
    // Created: a real handshake must then present the SHA-1-signed certificate.
    expect(status).toBe(201);
    const peer = await new Promise<X509Certificate>((resolve, reject) => {
      const socket = tls.connect({ host: HOST, port: body.port!, rejectUnauthorized: false, servername: 'localhost', ciphers: LEGACY_CLIENT_CIPHERS }, () => {
        const certificate = socket.getPeerX509Certificate();
        socket.destroy();
        if (certificate) resolve(certificate);
        else reject(new Error('no peer certificate'));
      });
      socket.once('error', reject);
    });
    // sha1WithRSAEncryption or ecdsa-with-SHA1, read from the certificate the handshake presented.
    expect(AsnConvert.parse(peer.raw, Certificate).signatureAlgorithm.algorithm).toMatch(/^(1\.2\.840\.113549\.1\.1\.5|1\.2\.840\.10045\.4\.1)$/);
    await t.request('/listeners/weak-signature-level', { method: 'DELETE' });
  });

  it('a TLS 1.3-only listener may restrict its TLS 1.3 suites', async () => {
    const created = await createListener({ name: 'tls13-restricted', tls: 'implicit', minVersion: 'TLSv1.3', ciphers: 'TLS_CHACHA20_POLY1305_SHA256' });
    expect(created.status).toBe(201);
    const client = await RawSmtpClient.connect({ host: HOST, port: created.body.port!, implicitTls: { ca: t.server.ca, servername: 'localhost' } });
    expect(client.tls?.cipher?.name).toBe('TLS_CHACHA20_POLY1305_SHA256');
    await client.quit();
    await t.request('/listeners/tls13-restricted', { method: 'DELETE' });
  });

  it.each([
    [
      { name: 'plain-ciphers', tls: 'none', ciphers: 'NOPE' },
      /ciphers: a plaintext-only listener \(tls "none"\) never negotiates TLS, so ciphers "NOPE" would have no effect/,
    ],
    [{ name: 'plain-mtls', tls: 'none', clientCertificate: 'require' }, /clientCertificate: .* never negotiates TLS/],
    [{ name: 'stripped-expired', starttls: 'off', certificate: 'expired' }, /certificate: a listener with starttls "off" never negotiates TLS/],
    [{ name: 'failing-old', starttls: 'fail', minVersion: 'TLSv1' }, /minVersion: a listener with starttls "fail" never negotiates TLS/],
  ] as [ListenerConfig, RegExp][])('TLS settings on a listener that never negotiates TLS are refused: %o', async (config, reason) => {
    const { status, body } = await createListener(config);
    expect(status).toBe(400);
    expect(body.error?.message).toMatch(reason);
  });

  it('a plaintext-only listener without TLS settings is created', async () => {
    const created = await createListener({ name: 'plain-fine', tls: 'none' });
    expect(created.status).toBe(201);
    await t.request('/listeners/plain-fine', { method: 'DELETE' });
  });
});

describe('keyType', () => {
  it('rsa-2048 with an RSA-only suite (TLS_RSA_WITH_AES_128_GCM_SHA256) negotiates it, and the listener reports its key type', async () => {
    const info = t.server.listeners().find((listener) => listener.name === 'rsa');
    expect(info).toMatchObject({ keyType: 'rsa-2048', ciphers: 'AES128-GCM-SHA256' });
    const client = await RawSmtpClient.connect({ host: HOST, port: t.listenerPort('rsa'), implicitTls: { ca: t.server.ca, servername: 'localhost' } });
    expect(client.tls?.cipher?.standardName).toBe('TLS_RSA_WITH_AES_128_GCM_SHA256');
    const peer = (client.currentSocket as tls.TLSSocket).getPeerCertificate();
    expect(peer.bits).toBe(2048);
    await client.quit();
  });

  it('with a certificate of your own (--tls-cert), the listeners serving it report keyType null', async () => {
    const ownDir = await mkdtemp(join(tmpdir(), 'mailwright-own-cert-'));
    const own = await (await loadTestAuthority({ dataDir: ownDir, hostnames: [] })).serverCertificate('valid', 'rsa-2048');
    const server = await startTestServer({ tlsCert: own.cert, tlsKey: own.key, listeners: [{ name: 'lab-rsa', tls: 'implicit', keyType: 'rsa-2048' }] });
    try {
      const keyTypes = Object.fromEntries(server.server.listeners().map((listener) => [listener.name, listener.keyType]));
      expect(keyTypes).toEqual({ smtp: null, smtps: null, 'lab-rsa': 'rsa-2048' });
      const served = async (port: number) => {
        const client = await RawSmtpClient.connect({ host: HOST, port, implicitTls: { rejectUnauthorized: false, servername: 'localhost' } });
        const certificate = (client.currentSocket as tls.TLSSocket).getPeerX509Certificate();
        await client.quit();
        return certificate;
      };
      expect((await served(server.listenerPort('smtps')))?.raw.equals(new X509Certificate(own.cert).raw)).toBe(true);
      // An explicit key type gets the test CA's certificate, not yours.
      expect((await served(server.listenerPort('lab-rsa')))?.checkIssued(new X509Certificate(server.server.ca))).toBe(true);
    } finally {
      await server.close();
      await rm(ownDir, { recursive: true, force: true });
    }
  });

  it('the default key type is ecdsa-p256', () => {
    expect(t.server.listeners().find((listener) => listener.name === 'smtps')?.keyType).toBe('ecdsa-p256');
  });

  it('rsa-1024 is served, and a default-configured OpenSSL client refuses it (key too weak); the session records the refusal', async (context) => {
    const openssl = requireExecutable('openssl', context);
    const before = await sessionIds('weak-key');
    const result = await runProcess(
      openssl,
      ['s_client', '-connect', `${HOST}:${t.listenerPort('weak-key')}`, '-CAfile', caFile, '-servername', 'localhost', '-verify_return_error'],
      { input: 'QUIT\r\n' },
    );
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/key too (small|weak)/i);
    const session = await lastSession('weak-key', before);
    // OpenSSL answers a failed verification with the bad_certificate alert.
    expect(session.error).toMatchObject({ stage: 'tls', code: 'bad_certificate' });
    expect(session.tls).toMatchObject({ mode: 'implicit', servername: 'localhost', protocol: null });
  });

  it('rsa-1024: a Node.js client at security level 2 refuses it; at level 1 (the default before Node.js 24) it is accepted', async () => {
    const connect = (ciphers?: string) =>
      new Promise<string>((resolve) => {
        const socket = tls.connect({ host: HOST, port: t.listenerPort('weak-key'), ca: t.server.ca, servername: 'localhost', ...(ciphers ? { ciphers } : {}) });
        socket.once('secureConnect', () => (resolve('accepted'), socket.destroy()));
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.message));
      });
    expect(await connect('DEFAULT:@SECLEVEL=2')).toBe('EE certificate key too weak');
    expect(await connect('DEFAULT:@SECLEVEL=1')).toBe('accepted');
    // What a client that sets nothing gets depends on the Node.js version's default level.
    expect(await connect()).toBe(Number(process.versions.node.split('.')[0]) >= 24 ? 'EE certificate key too weak' : 'accepted');
  });
});

describe('cipher.version is the suite’s lowest version, protocol the negotiated one', () => {
  it('ECDHE-ECDSA-AES256-SHA over TLS 1.2 records protocol TLSv1.2 and cipher.version TLSv1.0', async () => {
    const client = await RawSmtpClient.connect({ host: HOST, port: t.listenerPort('smtp') });
    await client.ehlo();
    await client.starttls({ ca: t.server.ca, servername: 'localhost', maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-SHA' });
    await client.ehlo();
    const replies = await client.sendMessage({ from: 'app@app.test', to: ['rcpt@inbox.test'], data: 'Subject: cipher version\r\n\r\nbody\r\n' });
    expect(replies.final?.code).toBe(250);
    await client.quit();
    const { messages } = await t.messages({ subject: 'cipher version' });
    expect(messages[0]?.tls).toMatchObject({ protocol: 'TLSv1.2', cipher: { name: 'ECDHE-ECDSA-AES256-SHA', version: 'TLSv1.0' } });
  });
});

describe('PEM over the API ends with a newline', () => {
  it('GET /tls/ca.pem, GET /tls/intermediate.pem and POST /tls/client-certificates', async () => {
    const ca = await (await t.request('/tls/ca.pem')).text();
    expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
    expect(await (await t.request('/tls/intermediate.pem')).text()).toMatch(/-----END CERTIFICATE-----\n$/);
    const response = await t.request('/tls/client-certificates', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ commonName: 'billing' }),
    });
    expect(response.status).toBe(201);
    const issued = (await response.json()) as { cert: string; key: string; ca: string };
    expect(issued.cert).toMatch(/-----END CERTIFICATE-----\n$/);
    expect(issued.key).toMatch(/-----END PRIVATE KEY-----\n$/);
    expect(issued.ca).toBe(ca);
    // Concatenated, they are still well-formed PEM blocks.
    expect((issued.cert + issued.ca).match(/^-----BEGIN CERTIFICATE-----$/gm)).toHaveLength(2);
  });
});

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmtpSession } from '@mailwright/core';
import { loadTestAuthority, type CertificateAndKey } from '../tls/test-authority.js';
import { requireExecutable, runProcess } from '../test-support/external-client.js';
import { RawSmtpClient } from '../test-support/raw-smtp-client.js';
import { pollFor, startTestServer, type TestServer } from '../test-support/test-server.js';
import { uniqueSubject } from '../test-support/unique-subject.js';

const HOST = '127.0.0.1';
const SNI = 'mx.customer.example';
const KINDS = ['starttls', 'implicit'] as const;
const CLIENT_CERTIFICATE = ['off', 'request', 'require'] as const;
const listenerName = (kind: string, clientCertificate: string): string => `${kind}-${clientCertificate}`;

let t: TestServer;
let clientCert: CertificateAndKey;
let workDir: string;

beforeAll(async () => {
  t = await startTestServer({
    listeners: KINDS.flatMap((kind) =>
      CLIENT_CERTIFICATE.map((clientCertificate) => ({ name: listenerName(kind, clientCertificate), tls: kind, clientCertificate })),
    ),
  });
  clientCert = await (await loadTestAuthority({ dataDir: t.dataDir, hostnames: [] })).issueClientCertificate('resuming-client');
  workDir = await mkdtemp(join(tmpdir(), 'mailwright-resumption-'));
});

afterAll(async () => {
  await t?.close();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function sessionIds(listener: string): Promise<Set<string>> {
  const { sessions } = await t.getJson<{ sessions: SmtpSession[] }>(`/sessions?listener=${listener}`);
  return new Set(sessions.map((session) => session.id));
}

async function nextSession(listener: string, known: Set<string>): Promise<SmtpSession> {
  return pollFor(async () => {
    const { sessions } = await t.getJson<{ sessions: SmtpSession[] }>(`/sessions?listener=${listener}`);
    return sessions.find((session) => !known.has(session.id) && session.closedAt !== null);
  }, `a new closed session on ${listener}`);
}

/** One SMTP session with a message, over `kind`; returns the TLS session to resume and what the client saw. */
async function deliver(
  kind: (typeof KINDS)[number],
  listener: string,
  options: tls.ConnectionOptions,
  subject: string,
): Promise<{ session: Buffer | undefined; resumed: boolean }> {
  const port = t.listenerPort(listener);
  const client =
    kind === 'implicit' ? await RawSmtpClient.connect({ host: HOST, port, implicitTls: options }) : await RawSmtpClient.connect({ host: HOST, port });
  await client.ehlo();
  if (kind === 'starttls') await client.starttls(options);
  // The EHLO round trip after the handshake also brings in a TLS 1.3 session ticket.
  await client.ehlo();
  const replies = await client.sendMessage({ from: 'app@app.test', to: ['rcpt@inbox.test'], data: `Subject: ${subject}\r\n\r\nbody\r\n` });
  expect(replies.final?.code).toBe(250);
  const socket = client.currentSocket as tls.TLSSocket;
  const result = { session: socket.getSession(), resumed: socket.isSessionReused() };
  await client.quit();
  return result;
}

describe('session resumption works on every listener kind and is recorded', () => {
  const cases = KINDS.flatMap((kind) =>
    CLIENT_CERTIFICATE.flatMap((clientCertificate) => (['TLSv1.2', 'TLSv1.3'] as const).map((version) => ({ kind, clientCertificate, version }))),
  );

  it.for(cases)('$kind, clientCertificate $clientCertificate, $version (Node.js client with session:)', async ({ kind, clientCertificate, version }) => {
    const listener = listenerName(kind, clientCertificate);
    const options: tls.ConnectionOptions = {
      ca: t.server.ca,
      servername: SNI,
      checkServerIdentity: () => undefined,
      minVersion: version,
      maxVersion: version,
      ...(clientCertificate === 'off' ? {} : { cert: clientCert.cert, key: clientCert.key }),
    };
    const first = await deliver(kind, listener, options, uniqueSubject(`${listener} ${version} first`));
    expect(first.resumed).toBe(false);
    expect(first.session).toBeInstanceOf(Buffer);

    const known = await sessionIds(listener);
    const subject = uniqueSubject(`${listener} ${version} resumed`);
    const second = await deliver(kind, listener, { ...options, session: first.session }, subject);
    expect(second.resumed).toBe(true);

    const session = await nextSession(listener, known);
    expect(session.error).toBeNull();
    expect(session.tls).toMatchObject({ mode: kind, protocol: version, resumed: true, servername: SNI });
    const { messages } = await t.messages({ subject });
    expect(messages).toHaveLength(1);
    expect(messages[0]?.tls).toMatchObject({ mode: kind, protocol: version, resumed: true, servername: SNI });
    if (clientCertificate !== 'off') {
      // A resumed session carries the client certificate of the session it resumes.
      expect(messages[0]?.tls.clientCertificate).toMatchObject({ subject: 'CN=resuming-client', authorized: true });
    }
  });
});

describe('openssl s_client -sess_out / -sess_in resumes too', () => {
  const cases = KINDS.flatMap((kind) => (['-tls1_2', '-tls1_3'] as const).map((flag) => ({ kind, flag, listener: listenerName(kind, 'request') })));

  it.for(cases)('$listener with $flag', async ({ kind, flag, listener }, context) => {
    const openssl = requireExecutable('openssl', context);
    const caFile = join(workDir, 'ca.pem');
    const certFile = join(workDir, 'client.pem');
    const keyFile = join(workDir, 'client-key.pem');
    await writeFile(caFile, t.server.ca);
    await writeFile(certFile, clientCert.cert);
    await writeFile(keyFile, clientCert.key);
    const sessionFile = join(workDir, `${listener}${flag}.session`);
    const run = (sessionArgs: string[]) =>
      runProcess(
        openssl,
        [
          's_client',
          '-connect',
          `${HOST}:${t.listenerPort(listener)}`,
          ...(kind === 'starttls' ? ['-starttls', 'smtp'] : []),
          flag,
          '-CAfile',
          caFile,
          '-cert',
          certFile,
          '-key',
          keyFile,
          '-servername',
          SNI,
          '-crlf',
          '-ign_eof',
          ...sessionArgs,
        ],
        { input: 'EHLO openssl.client.test\nQUIT\n' },
      );
    const first = await run(['-sess_out', sessionFile]);
    expect(first.stdout).toMatch(/^New, TLSv1\.[23]/m);
    const known = await sessionIds(listener);
    const second = await run(['-sess_in', sessionFile]);
    expect(second.stdout).toMatch(/^Reused, TLSv1\.[23]/m);
    expect(second.stdout).toMatch(/^221 /m);
    const session = await nextSession(listener, known);
    expect(session.error).toBeNull();
    expect(session.tls).toMatchObject({ mode: kind, resumed: true, servername: SNI, protocol: flag === '-tls1_2' ? 'TLSv1.2' : 'TLSv1.3' });
  });
});

describe('the SNI of a failed handshake is recorded, with the mode that was attempted', () => {
  for (const kind of KINDS) {
    it(`${kind}: a client refused for its TLS version`, async () => {
      const listener = listenerName(kind, 'require');
      const known = await sessionIds(listener);
      const attempt = async (): Promise<void> => {
        const options = { ca: t.server.ca, servername: SNI, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', cert: clientCert.cert, key: clientCert.key } as const;
        // TLS 1.3 with a client certificate works; a certificate-less client is refused instead.
        const { cert: _cert, key: _key, ...withoutCertificate } = options;
        if (kind === 'implicit')
          await RawSmtpClient.connect({ host: HOST, port: t.listenerPort(listener), implicitTls: withoutCertificate }).then((client) => client.quit());
        else {
          const client = await RawSmtpClient.connect({ host: HOST, port: t.listenerPort(listener) });
          await client.ehlo();
          await client.starttls(withoutCertificate);
          await client.ehlo();
        }
      };
      await expect(attempt()).rejects.toThrow();
      const session = await nextSession(listener, known);
      expect(session.error).toMatchObject({ stage: 'tls' });
      expect(session.tls).toMatchObject({ mode: kind, protocol: null, cipher: null, resumed: false, servername: SNI });
    });
  }

  it('implicit: a handshake that fails before OpenSSL reads the server name (no common version)', async () => {
    const known = await sessionIds('implicit-off');
    const error = await new Promise<Error>((resolve, reject) => {
      const socket = tls.connect({
        host: HOST,
        port: t.listenerPort('implicit-off'),
        servername: SNI,
        minVersion: 'TLSv1',
        maxVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
        rejectUnauthorized: false,
      });
      socket.once('secureConnect', () => reject(new Error('negotiated')));
      socket.once('error', resolve);
    });
    expect(error).toBeInstanceOf(Error);
    const session = await nextSession('implicit-off', known);
    expect(session.error).toMatchObject({ stage: 'tls', code: 'protocol_version' });
    expect(session.tls).toMatchObject({ mode: 'implicit', servername: SNI });
  });

  it('starttls: a client that rejects the certificate and hangs up', async () => {
    const known = await sessionIds('starttls-off');
    const client = await RawSmtpClient.connect({ host: HOST, port: t.listenerPort('starttls-off') });
    await client.ehlo();
    // No CA given: the client refuses the test CA's certificate during the handshake.
    await expect(client.starttls({ servername: SNI, checkServerIdentity: () => undefined })).rejects.toThrow();
    client.currentSocket.destroy();
    const session = await nextSession('starttls-off', known);
    expect(session.error?.stage).toBe('tls');
    expect(session.tls).toMatchObject({ mode: 'starttls', starttlsOffered: true, protocol: null, servername: SNI });
  });
});

// Every recipe of docs/tls.md, as a test.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import nodemailer from 'nodemailer';
import { Mailwright } from '@mailwright/sdk';
import '@mailwright/sdk/vitest';

let mail: Mailwright;

beforeAll(async () => {
  mail = await Mailwright.start();
});

afterAll(async () => {
  await mail?.close();
});

const OPENSSL = '/usr/bin/openssl';

/** Skips the test, with the reason, when openssl is missing; under CI=true that fails it instead. */
function requireOpenssl(context: TestContext): void {
  if (existsSync(OPENSSL)) return;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error('openssl is required under CI=true (apt-get install openssl)');
  context.skip(`openssl is not installed at ${OPENSSL}`);
}

/** Runs `openssl s_client` to completion and returns its exit code. */
function sClient(args: string[], input = 'QUIT\r\n'): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(OPENSSL, ['s_client', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
    child.stdin.end(input);
  });
}

describe('recipe: assert STARTTLS', () => {
  it('the app upgrades with STARTTLS and uses TLS 1.2 or newer', async () => {
    const inbox = mail.inbox();
    const app = nodemailer.createTransport({ host: mail.smtp.host, port: mail.smtp.port, requireTLS: true, tls: { ca: mail.ca, servername: 'localhost' } });
    await app.sendMail({ from: 'app@example.test', to: inbox.address, subject: 'Hello', text: 'x' });

    const message = await inbox.waitForMessage();
    expect(message).toBeDeliveredOverTls({ mode: 'starttls', minVersion: 'TLSv1.2' });
    expect(message.tls.starttlsOffered).toBe(true);
  });
});

describe('recipe: assert implicit TLS', () => {
  it('the app connects with TLS from the first byte (secure: true)', async () => {
    const inbox = mail.inbox();
    const app = nodemailer.createTransport({ host: mail.smtps.host, port: mail.smtps.port, secure: true, tls: { ca: mail.ca, servername: 'localhost' } });
    await app.sendMail({ from: 'app@example.test', to: inbox.address, subject: 'Hello', text: 'x' });

    expect(await inbox.waitForMessage()).toBeDeliveredOverTls({ mode: 'implicit' });
  });
});

describe('recipe: prove the app verifies certificates', () => {
  for (const tls of ['implicit', 'starttls'] as const) {
    for (const certificate of ['expired', 'wrong-host', 'self-signed', 'not-yet-valid'] as const) {
      it(`refuses a ${certificate} certificate over ${tls}, and the handshake failure is recorded`, async () => {
        await using lab = await mail.listeners.create({ tls, certificate });
        const app = nodemailer.createTransport({
          host: lab.endpoint.host,
          port: lab.endpoint.port,
          secure: tls === 'implicit',
          requireTLS: tls === 'starttls',
          tls: { ca: mail.ca, servername: 'localhost' },
        });

        await expect(app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' })).rejects.toThrow();

        const session = await mail.sessions.waitFor({ listener: lab.name, failed: true });
        // Node.js clients hang up once they have seen the certificate: during the handshake
        // with TLS 1.3, right after it with TLS 1.2.
        expect(session).toHaveFailedTls({ code: /^closed_(during|after)_handshake$/ });
        await expect(lab).toHaveNoDelivery();
      });
    }
  }

  it('a TLS 1.2 Node.js client that rejects the certificate is recorded as closed_after_handshake', async () => {
    await using lab = await mail.listeners.create({ tls: 'implicit', certificate: 'expired', maxVersion: 'TLSv1.2' });
    const app = nodemailer.createTransport({ host: lab.endpoint.host, port: lab.endpoint.port, secure: true, tls: { ca: mail.ca, servername: 'localhost' } });
    await expect(app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' })).rejects.toThrow(/expired/);
    const session = await mail.sessions.waitFor({ listener: lab.name, failed: true });
    expect(session).toHaveFailedTls({ code: 'closed_after_handshake' });
  });

  it('accepts the valid certificate once it trusts the test CA', async () => {
    await using lab = await mail.listeners.create({ tls: 'implicit', certificate: 'valid' });
    const app = nodemailer.createTransport({ host: lab.endpoint.host, port: lab.endpoint.port, secure: true, tls: { ca: mail.ca, servername: 'localhost' } });
    await app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' });
    expect(await lab.messages()).toHaveLength(1);
  });

  it('openssl s_client -verify_return_error against an expired certificate is recorded as certificate_expired', async (context) => {
    requireOpenssl(context);
    await using lab = await mail.listeners.create({ tls: 'implicit', certificate: 'expired' });
    const caFile = `${process.env.TMPDIR ?? '/tmp'}/mailwright-ca-${process.pid}.pem`;
    await import('node:fs/promises').then((fs) => fs.writeFile(caFile, mail.ca));
    const { code } = await sClient([
      '-connect',
      `${lab.endpoint.host}:${lab.endpoint.port}`,
      '-CAfile',
      caFile,
      '-verify_return_error',
      '-servername',
      'localhost',
    ]);
    expect(code).not.toBe(0);
    const session = await mail.sessions.waitFor({ listener: lab.name, failed: true });
    expect(session).toHaveFailedTls({ code: 'certificate_expired' });
  });
});

describe('recipe: require TLS 1.2+ (and see what an old client does)', () => {
  it('a TLS 1.2 client against a TLS 1.3-only listener fails with a protocol-version error', async () => {
    await using lab = await mail.listeners.create({ tls: 'implicit', minVersion: 'TLSv1.3' });
    const app = nodemailer.createTransport({
      host: lab.endpoint.host,
      port: lab.endpoint.port,
      secure: true,
      tls: { ca: mail.ca, servername: 'localhost', maxVersion: 'TLSv1.2' },
    });
    await expect(app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' })).rejects.toThrow();
    const session = await mail.sessions.waitFor({ listener: lab.name, failed: true });
    expect(session).toHaveFailedTls({ code: 'protocol_version' });
  });

  it('openssl with -tls1_2 against a TLS 1.3-only STARTTLS listener fails the same way', async (context) => {
    requireOpenssl(context);
    await using lab = await mail.listeners.create({ tls: 'starttls', minVersion: 'TLSv1.3' });
    const { code } = await sClient(['-connect', `${lab.endpoint.host}:${lab.endpoint.port}`, '-starttls', 'smtp', '-tls1_2']);
    expect(code).not.toBe(0);
    const session = await mail.sessions.waitFor({ listener: lab.name, failed: true });
    expect(session).toHaveFailedTls({ code: 'protocol_version' });
  });
});

describe('recipe: prove the app refuses to fall back to plaintext', () => {
  it('a requireTLS app sends nothing when STARTTLS is stripped (starttls: off)', async () => {
    await using lab = await mail.listeners.create({ tls: 'starttls', starttls: 'off' });
    const app = nodemailer.createTransport({
      host: lab.endpoint.host,
      port: lab.endpoint.port,
      requireTLS: true,
      tls: { ca: mail.ca, servername: 'localhost' },
    });
    await expect(app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' })).rejects.toThrow();
    await expect(lab).toHaveNoDelivery();
  });

  it('a requireTLS app sends nothing when STARTTLS fails (starttls: fail → 454)', async () => {
    await using lab = await mail.listeners.create({ tls: 'starttls', starttls: 'fail' });
    const app = nodemailer.createTransport({
      host: lab.endpoint.host,
      port: lab.endpoint.port,
      requireTLS: true,
      tls: { ca: mail.ca, servername: 'localhost' },
    });
    await expect(app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' })).rejects.toThrow(/454|TLS/);
    await expect(lab).toHaveNoDelivery();
    const [session] = await lab.sessions();
    expect(session?.transcript.some((line) => line.line.startsWith('454'))).toBe(true);
  });

  it('an app WITHOUT requireTLS silently falls back — which is exactly what this catches', async () => {
    await using lab = await mail.listeners.create({ tls: 'starttls', starttls: 'off' });
    const app = nodemailer.createTransport({ host: lab.endpoint.host, port: lab.endpoint.port, tls: { ca: mail.ca, servername: 'localhost' } });
    await app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' });
    const [message] = await lab.messages();
    expect(message).toBeDeliveredInPlaintext();
    expect(message).not.toBeDeliveredOverTls();
  });
});

describe('recipe: credentials only over TLS', () => {
  it('AUTH after STARTTLS keeps authBeforeTls false', async () => {
    const inbox = mail.inbox();
    const app = nodemailer.createTransport({
      host: mail.smtp.host,
      port: mail.smtp.port,
      requireTLS: true,
      auth: { user: 'app', pass: 'secret' },
      tls: { ca: mail.ca, servername: 'localhost' },
    });
    await app.sendMail({ from: 'app@example.test', to: inbox.address, subject: 'Hi', text: 'x' });
    const message = await inbox.waitForMessage();
    expect(message).toHaveBeenAuthenticated({ username: 'app' });
    expect(await message.session()).toHaveSentCredentialsOverTls();
  });

  it('AUTH in plaintext is flagged', async () => {
    const inbox = mail.inbox();
    const app = nodemailer.createTransport({ host: mail.smtp.host, port: mail.smtp.port, ignoreTLS: true, auth: { user: 'app', pass: 'secret' } });
    await app.sendMail({ from: 'app@example.test', to: inbox.address, subject: 'Hi', text: 'x' });
    const session = await (await inbox.waitForMessage()).session();
    expect(session.authBeforeTls).toBe(true);
    expect(session).not.toHaveSentCredentialsOverTls();
  });
});

describe('recipe: mutual TLS (client certificates)', () => {
  it('records the client certificate issued by the test CA', async () => {
    await using lab = await mail.listeners.create({ tls: 'implicit', clientCertificate: 'require' });
    const { cert, key } = await mail.issueClientCertificate('billing-service');
    const app = nodemailer.createTransport({
      host: lab.endpoint.host,
      port: lab.endpoint.port,
      secure: true,
      tls: { ca: mail.ca, servername: 'localhost', cert, key },
    });
    await app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' });
    const [message] = await lab.messages();
    expect(message).toHavePresentedClientCertificate({ subject: 'CN=billing-service', authorized: true });
    expect(message!.tls.clientCertificate?.issuer).toMatch(/Mailwright Test CA/);
    expect(message!.tls.clientCertificate?.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('refuses a client without a certificate when clientCertificate is require', async () => {
    await using lab = await mail.listeners.create({ tls: 'implicit', clientCertificate: 'require' });
    const app = nodemailer.createTransport({ host: lab.endpoint.host, port: lab.endpoint.port, secure: true, tls: { ca: mail.ca, servername: 'localhost' } });
    await expect(app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' })).rejects.toThrow();
    await expect(lab).toHaveNoDelivery();
    const session = await mail.sessions.waitFor({ listener: lab.name, failed: true });
    expect(session).toHaveFailedTls();
  });
});

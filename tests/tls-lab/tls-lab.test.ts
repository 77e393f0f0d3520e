// Every recipe of docs/tls.md, as a test.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodemailer from 'nodemailer';
import { Mailwright } from '@mailwright/sdk';
import '@mailwright/sdk/vitest';
import { findExecutable, requireExecutable } from '../../packages/server/src/test-support/external-client.js';

let mail: Mailwright;

beforeAll(async () => {
  mail = await Mailwright.start();
});

afterAll(async () => {
  await mail?.close();
});

const OPENSSL = findExecutable('openssl') ?? 'openssl';

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
    const app = nodemailer.createTransport(mail.transportOptions({ tls: 'starttls' }));
    await app.sendMail({ from: 'app@example.test', to: inbox.address, subject: 'Hello', text: 'x' });

    const message = await inbox.waitForMessage();
    expect(message).toBeDeliveredOverTls({ mode: 'starttls', minVersion: 'TLSv1.2' });
    expect(message.tls.starttlsOffered).toBe(true);
  });
});

describe('recipe: assert implicit TLS', () => {
  it('the app connects with TLS from the first byte (secure: true)', async () => {
    const inbox = mail.inbox();
    const app = nodemailer.createTransport(mail.transportOptions({ tls: 'implicit' }));
    await app.sendMail({ from: 'app@example.test', to: inbox.address, subject: 'Hello', text: 'x' });

    expect(await inbox.waitForMessage()).toBeDeliveredOverTls({ mode: 'implicit' });
  });
});

describe('recipe: prove the app verifies certificates', () => {
  for (const tls of ['implicit', 'starttls'] as const) {
    for (const certificate of ['expired', 'wrong-host', 'self-signed', 'not-yet-valid'] as const) {
      it(`refuses a ${certificate} certificate over ${tls}, and the handshake failure is recorded`, async () => {
        await using lab = await mail.listeners.create({ tls, certificate });
        const app = nodemailer.createTransport(mail.transportOptions({ tls, endpoint: lab.endpoint }));

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
    const app = nodemailer.createTransport(mail.transportOptions({ tls: 'implicit', endpoint: lab.endpoint }));
    await expect(app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' })).rejects.toThrow(/expired/);
    const session = await mail.sessions.waitFor({ listener: lab.name, failed: true });
    expect(session).toHaveFailedTls({ code: 'closed_after_handshake' });
  });

  it('accepts the valid certificate once it trusts the test CA', async () => {
    await using lab = await mail.listeners.create({ tls: 'implicit', certificate: 'valid' });
    const app = nodemailer.createTransport(mail.transportOptions({ tls: 'implicit', endpoint: lab.endpoint }));
    await app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' });
    expect(await lab.messages()).toHaveLength(1);
  });

  it('openssl s_client -verify_return_error against an expired certificate is recorded as certificate_expired', async (context) => {
    requireExecutable('openssl', context);
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
    const options = mail.transportOptions({ tls: 'implicit', endpoint: lab.endpoint });
    const app = nodemailer.createTransport({ ...options, tls: { ...options.tls, maxVersion: 'TLSv1.2' } });
    await expect(app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' })).rejects.toThrow();
    const session = await mail.sessions.waitFor({ listener: lab.name, failed: true });
    expect(session).toHaveFailedTls({ code: 'protocol_version' });
  });

  it('openssl with -tls1_2 against a TLS 1.3-only STARTTLS listener fails the same way', async (context) => {
    requireExecutable('openssl', context);
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
    const app = nodemailer.createTransport(mail.transportOptions({ tls: 'starttls', endpoint: lab.endpoint }));
    await expect(app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' })).rejects.toThrow();
    await expect(lab).toHaveNoDelivery();
  });

  it('a requireTLS app sends nothing when STARTTLS fails (starttls: fail → 454)', async () => {
    await using lab = await mail.listeners.create({ tls: 'starttls', starttls: 'fail' });
    const app = nodemailer.createTransport(mail.transportOptions({ tls: 'starttls', endpoint: lab.endpoint }));
    await expect(app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' })).rejects.toThrow(/454|TLS/);
    await expect(lab).toHaveNoDelivery();
    const [session] = await lab.sessions();
    expect(session?.transcript.some((line) => line.line.startsWith('454'))).toBe(true);
  });

  it('an app WITHOUT requireTLS silently falls back — which is exactly what this catches', async () => {
    await using lab = await mail.listeners.create({ tls: 'starttls', starttls: 'off' });
    // STARTTLS when offered, plaintext otherwise: what an app without requireTLS does.
    const app = nodemailer.createTransport({ ...mail.transportOptions({ endpoint: lab.endpoint }), requireTLS: false });
    await app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' });
    const [message] = await lab.messages();
    expect(message).toBeDeliveredInPlaintext();
    expect(message).not.toBeDeliveredOverTls();
  });
});

describe('recipe: credentials only over TLS', () => {
  it('AUTH after STARTTLS keeps authBeforeTls false', async () => {
    const inbox = mail.inbox();
    const app = nodemailer.createTransport({ ...mail.transportOptions({ tls: 'starttls' }), auth: { user: 'app', pass: 'secret' } });
    await app.sendMail({ from: 'app@example.test', to: inbox.address, subject: 'Hi', text: 'x' });
    const message = await inbox.waitForMessage();
    expect(message).toHaveBeenAuthenticated({ username: 'app' });
    expect(await message.session()).toHaveSentCredentialsOverTls();
  });

  it('AUTH in plaintext is flagged', async () => {
    const inbox = mail.inbox();
    const app = nodemailer.createTransport({ ...mail.transportOptions({ tls: 'none' }), auth: { user: 'app', pass: 'secret' } });
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
    const options = mail.transportOptions({ tls: 'implicit', endpoint: lab.endpoint });
    const app = nodemailer.createTransport({ ...options, tls: { ...options.tls, cert, key } });
    await app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' });
    const [message] = await lab.messages();
    expect(message).toHavePresentedClientCertificate({ subject: 'CN=billing-service', authorized: true });
    expect(message!.tls.clientCertificate?.issuer).toMatch(/Mailwright Test CA/);
    expect(message!.tls.clientCertificate?.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('refuses a client without a certificate when clientCertificate is require', async () => {
    await using lab = await mail.listeners.create({ tls: 'implicit', clientCertificate: 'require' });
    const app = nodemailer.createTransport(mail.transportOptions({ tls: 'implicit', endpoint: lab.endpoint }));
    await expect(app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' })).rejects.toThrow();
    await expect(lab).toHaveNoDelivery();
    const session = await mail.sessions.waitFor({ listener: lab.name, failed: true });
    expect(session).toHaveFailedTls();
  });
});

describe('recipe: the certificates a sender meets in the wild', () => {
  /** The test CA (and optionally more) as a file for openssl -CAfile. */
  async function caFile(name: string, pem: string): Promise<string> {
    const fs = await import('node:fs/promises');
    const path = `${process.env.TMPDIR ?? '/tmp'}/mailwright-${name}-${process.pid}.pem`;
    await fs.writeFile(path, pem);
    return path;
  }

  async function intermediatePem(): Promise<string> {
    const response = await fetch(`${mail.url}/api/v1/tls/intermediate.pem`);
    expect(response.status).toBe(200);
    return response.text();
  }

  // The table of docs/tls.md ("Certificate profiles").
  const cases = [
    { certificate: 'expired', opensslSays: /certificate has expired/, alert: 'certificate_expired', nodeSays: /certificate has expired/ },
    { certificate: 'not-yet-valid', opensslSays: /certificate is not yet valid/, alert: 'bad_certificate', nodeSays: /certificate is not yet valid/ },
    { certificate: 'self-signed', opensslSays: /self-signed certificate/, alert: 'unknown_ca', nodeSays: /self-signed certificate/ },
    { certificate: 'wrong-host', opensslSays: /hostname mismatch/, alert: 'bad_certificate', nodeSays: /Hostname\/IP does not match certificate's altnames/ },
    {
      certificate: 'unknown-ca',
      opensslSays: /unable to get local issuer certificate/,
      alert: 'unknown_ca',
      nodeSays: /unable to verify the first certificate/,
    },
    { certificate: 'weak-signature', opensslSays: /CA signature digest algorithm too weak/, alert: 'bad_certificate', nodeSays: /digest algorithm too weak/ },
    {
      certificate: 'incomplete-chain',
      opensslSays: /unable to get local issuer certificate/,
      alert: 'unknown_ca',
      nodeSays: /unable to verify the first certificate/,
    },
  ] as const;

  for (const { certificate, opensslSays, alert, nodeSays } of cases) {
    for (const tls of ['implicit', 'starttls'] as const) {
      it(`${certificate} over ${tls}: openssl -verify_return_error with the test CA refuses it (${alert})`, async (context) => {
        requireExecutable('openssl', context);
        await using lab = await mail.listeners.create({ tls, certificate });
        const { code, output } = await sClient([
          '-connect',
          `${lab.endpoint.host}:${lab.endpoint.port}`,
          ...(tls === 'starttls' ? ['-starttls', 'smtp'] : []),
          '-CAfile',
          await caFile('ca', mail.ca),
          '-verify_return_error',
          '-verify_hostname',
          'localhost',
          '-servername',
          'localhost',
        ]);
        expect(code).not.toBe(0);
        expect(output).toMatch(opensslSays);
        const session = await mail.sessions.waitFor({ listener: lab.name, failed: true });
        expect(session).toHaveFailedTls({ code: alert });
        expect(session.tls.servername).toBe('localhost');
        await expect(lab).toHaveNoDelivery();
      });
    }

    it(`${certificate}: an app on nodemailer that trusts the test CA refuses it`, async () => {
      await using lab = await mail.listeners.create({ tls: 'implicit', certificate });
      const app = nodemailer.createTransport(mail.transportOptions({ tls: 'implicit', endpoint: lab.endpoint }));
      await expect(app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' })).rejects.toThrow(nodeSays);
      const session = await mail.sessions.waitFor({ listener: lab.name, failed: true });
      expect(session).toHaveFailedTls();
      await expect(lab).toHaveNoDelivery();
    });
  }

  it('weak-signature: openssl shows the SHA-1 signature', async (context) => {
    requireExecutable('openssl', context);
    await using lab = await mail.listeners.create({ tls: 'implicit', certificate: 'weak-signature' });
    const { output } = await sClient(['-connect', `${lab.endpoint.host}:${lab.endpoint.port}`, '-servername', 'localhost', '-showcerts']);
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(output)?.[0];
    expect(pem).toBeDefined();
    // The certificate, as openssl reads it: issued by the test CA, signed with SHA-1.
    const { spawnSync } = await import('node:child_process');
    const text = spawnSync(OPENSSL, ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' }).stdout;
    expect(text).toMatch(/Issuer: .*Mailwright Test CA/);
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA1/);
  });

  it('incomplete-chain: the server sends the leaf alone, and a client given the intermediate as well accepts it', async (context) => {
    requireExecutable('openssl', context);
    await using lab = await mail.listeners.create({ tls: 'implicit', certificate: 'incomplete-chain' });
    const intermediate = await intermediatePem();
    const shown = await sClient(['-connect', `${lab.endpoint.host}:${lab.endpoint.port}`, '-servername', 'localhost', '-showcerts']);
    expect(shown.output.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(1);
    expect(shown.output).toMatch(/i:.*CN ?= ?Mailwright Test Intermediate CA/);

    const withIntermediate = await sClient([
      '-connect',
      `${lab.endpoint.host}:${lab.endpoint.port}`,
      '-CAfile',
      await caFile('ca-and-intermediate', mail.ca + intermediate),
      '-verify_return_error',
      '-servername',
      'localhost',
    ]);
    expect(withIntermediate.output).toContain('Verification: OK');

    const app = nodemailer.createTransport({ ...mail.transportOptions({ tls: 'implicit', endpoint: lab.endpoint }), tls: { ca: [mail.ca, intermediate] } });
    await app.sendMail({ from: 'app@example.test', to: 'user@example.test', subject: 'Hi', text: 'x' });
    expect(await lab.messages()).toHaveLength(1);
  });

  it('unknown-ca: the right host names, issued by a CA that is not the test CA and not self-signed', async (context) => {
    requireExecutable('openssl', context);
    await using lab = await mail.listeners.create({ tls: 'implicit', certificate: 'unknown-ca' });
    const { output } = await sClient(['-connect', `${lab.endpoint.host}:${lab.endpoint.port}`, '-servername', 'localhost', '-showcerts']);
    expect(output).toMatch(/i:.*CN ?= ?Mailwright Untrusted CA/);
    expect(output).toMatch(/s:.*CN ?= ?localhost/);
  });
});

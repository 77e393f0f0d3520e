// The application under test: it sends invoices protected end to end, the way apps do it —
// S/MIME made by `openssl cms` (signed with the billing certificate, encrypted to the
// customer's), or PGP/MIME (RFC 3156) made with openpgp.js — over SMTP with STARTTLS required.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import * as openpgp from 'openpgp';

const run = promisify(execFile);
const FROM = 'billing@acme.test';

/** The invoice itself: a text body and a PDF, as one MIME entity (the content to protect). */
async function invoiceEntity(number) {
  const pdf = Buffer.from(`%PDF-1.4\n% invoice ${number}\n%%EOF\n`);
  const entity = await new MailComposer({
    text: `Invoice ${number} is attached.`,
    attachments: [{ filename: `invoice-${number}.pdf`, content: pdf, contentType: 'application/pdf' }],
  })
    .compile()
    .build();
  // The composer writes a whole message; the protected content is its MIME entity (Content-* headers and body).
  const text = entity.toString();
  const split = text.indexOf('\r\n\r\n');
  const headers = text
    .slice(0, split)
    .split(/\r\n(?![ \t])/)
    .filter((line) => /^(content-|mime-version)/i.test(line));
  return `${headers.join('\r\n')}\r\n\r\n${text.slice(split + 4)}`;
}

/** Runs `openssl cms` with files in a scratch directory. */
async function cms(args, files) {
  const dir = await mkdtemp(join(tmpdir(), 'secure-mailer-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    const { stdout } = await run('openssl', ['cms', ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * @param {{ host: string, port: number, ca: string }} smtp
 * @param {{ smime?: { certificate: string, privateKey: string } }} [keys]
 *   `smime`: the billing certificate and key the app signs with, as production configures them.
 */
export function createSecureMailer(smtp, keys = {}) {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    requireTLS: true,
    tls: { ca: smtp.ca, servername: 'localhost', minVersion: 'TLSv1.2' },
  });
  const send = (to, raw) => transport.sendMail({ envelope: { from: FROM, to }, raw });
  const headers = (to, number) => [`From: Acme Billing <${FROM}>`, `To: ${to}`, `Subject: Invoice ${number}`, 'MIME-Version: 1.0'];

  return {
    /**
     * S/MIME: signs the invoice with the billing certificate (detached, multipart/signed), then
     * encrypts it to the customer's certificate (AES-256-GCM, RSA-OAEP) unless `encrypt` is false.
     * @param {string} to @param {string} certificate the customer's certificate (PEM)
     */
    async sendSmimeInvoice(to, certificate, { number = '2026-001', sign = true, encrypt = true } = {}) {
      let entity = await invoiceEntity(number);
      if (sign) {
        if (!keys.smime) throw new Error('no signing certificate configured');
        entity = await cms(['-sign', '-in', 'entity.eml', '-signer', 'signer.pem', '-inkey', 'signer.key', '-md', 'sha256', '-crlfeol'], {
          'entity.eml': entity,
          'signer.pem': keys.smime.certificate,
          'signer.key': keys.smime.privateKey,
        });
      }
      if (encrypt) {
        entity = await cms(['-encrypt', '-in', 'entity.eml', '-aes-256-gcm', '-recip', 'recipient.pem', '-keyopt', 'rsa_padding_mode:oaep', '-crlfeol'], {
          'entity.eml': entity,
          'recipient.pem': certificate,
        });
      }
      await send(to, `${headers(to, number).join('\r\n')}\r\n${entity.replace(/^MIME-Version: 1\.0\r?\n/i, '')}`);
    },

    /**
     * PGP/MIME (RFC 3156): encrypts the invoice to the customer's OpenPGP public key.
     * @param {string} to @param {string} armoredKey the customer's public key
     */
    async sendPgpInvoice(to, armoredKey, { number = '2026-002' } = {}) {
      const encryptionKeys = await openpgp.readKey({ armoredKey });
      const encrypted = await openpgp.encrypt({ message: await openpgp.createMessage({ text: await invoiceEntity(number) }), encryptionKeys });
      const boundary = `pgp-${Math.random().toString(36).slice(2)}`;
      const body = [
        `Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary="${boundary}"`,
        '',
        `--${boundary}`,
        'Content-Type: application/pgp-encrypted',
        '',
        'Version: 1',
        '',
        `--${boundary}`,
        'Content-Type: application/octet-stream; name="encrypted.asc"',
        '',
        String(encrypted).trim(),
        `--${boundary}--`,
        '',
      ];
      await send(to, [...headers(to, number), ...body].join('\r\n').replace(/\r?\n/g, '\r\n'));
    },

    close: () => transport.close(),
  };
}

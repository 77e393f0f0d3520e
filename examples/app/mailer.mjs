// The application under test: it sends a password-reset mail over SMTP, the way a
// real app does, with STARTTLS required and the server certificate verified.
import nodemailer from 'nodemailer';

/**
 * @param {{ host: string, port: number, ca: string, secure?: boolean,
 *   dkim?: { domainName: string, keySelector: string, privateKey: string } }} smtp
 *   `dkim`: the app's DKIM signing key, as production configures it.
 */
export function createMailer(smtp) {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure ?? false,
    requireTLS: !smtp.secure,
    tls: { ca: smtp.ca, servername: 'localhost', minVersion: 'TLSv1.2' },
    ...(smtp.dkim ? { dkim: smtp.dkim } : {}),
  });
  return {
    /** @param {string} to */
    async sendPasswordReset(to) {
      const token = Math.random().toString(36).slice(2);
      await transport.sendMail({
        from: 'Acme <no-reply@acme.test>',
        to,
        subject: 'Reset your password',
        text: `Reset it here: https://acme.test/reset?token=${token}`,
        html: `<p><a href="https://acme.test/reset?token=${token}">Reset your password</a></p>`,
      });
      return token;
    },
    close: () => transport.close(),
  };
}

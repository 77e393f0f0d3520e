// The application's outbox: it sends over SMTP (STARTTLS required, the server certificate
// verified) and retries what a receiving server defers (4xx replies, dropped connections)
// a few times with a growing pause; a permanent failure (5xx) is not retried.
import { setTimeout as sleep } from 'node:timers/promises';
import nodemailer from 'nodemailer';

const CONNECTION_ERRORS = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT']);

/**
 * @param {{ host: string, port: number, ca: string }} smtp
 * @param {{ attempts?: number, backoffMs?: number }} [retry]
 */
export function createOutbox(smtp, { attempts = 5, backoffMs = 50 } = {}) {
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    requireTLS: true,
    tls: { ca: smtp.ca, servername: 'localhost', minVersion: 'TLSv1.2' },
  });
  /** @param {{ responseCode?: number, code?: string }} error */
  const temporary = (error) => (error.responseCode === undefined ? CONNECTION_ERRORS.has(error.code ?? '') : error.responseCode < 500);
  return {
    /**
     * Sends one message; resolves with nodemailer's info (its `rejected` lists recipients
     * refused for good), rejects once the attempts are used up or on a permanent failure.
     * @param {import('nodemailer').SendMailOptions} message
     */
    async send(message) {
      // One Message-ID for every attempt, as a real queue keeps it: retries must not duplicate.
      const withId = { messageId: `<${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}@acme.test>`, ...message };
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await transport.sendMail(withId);
        } catch (error) {
          if (!temporary(/** @type {{ responseCode?: number, code?: string }} */ (error)) || attempt >= attempts) throw error;
          await sleep(backoffMs * attempt);
        }
      }
    },
    close: () => transport.close(),
  };
}

// SMTP clients for the container suites: nodemailer as an application would use it, and an
// idle raw connection.
import { connect, type Socket } from 'node:net';
import nodemailer from 'nodemailer';

/** Where and how to send one message. */
export interface SendOptions {
  host: string;
  port: number;
  /** true: implicit TLS (SMTPS); false: STARTTLS, required. */
  secure: boolean;
  /** The CA to trust (PEM). Without it, Node's trust store (plus NODE_EXTRA_CA_CERTS) applies. */
  ca?: string;
  /** The certificate name to check; default: the host. */
  servername?: string;
  auth?: { user: string; pass: string };
  to: string;
  subject: string;
}

/** Sends one message with the server certificate verified, as an application would. */
export async function sendMail(options: SendOptions): Promise<void> {
  const transport = nodemailer.createTransport({
    host: options.host,
    port: options.port,
    secure: options.secure,
    requireTLS: !options.secure,
    ...(options.auth ? { auth: options.auth } : {}),
    tls: { rejectUnauthorized: true, ...(options.ca ? { ca: options.ca } : {}), ...(options.servername ? { servername: options.servername } : {}) },
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
  });
  try {
    await transport.sendMail({ from: 'App <app@acme.test>', to: options.to, subject: options.subject, text: `${options.subject}\n` });
  } finally {
    transport.close();
  }
}

/**
 * An SMTP connection that has said EHLO and then sits idle, like a pooled client between
 * messages. Resolves once the server answered the EHLO.
 */
export function openIdleSmtpConnection(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = '';
    let saidEhlo = false;
    socket.setEncoding('utf8');
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      received += chunk;
      if (!saidEhlo && /^220 /m.test(received)) {
        saidEhlo = true;
        socket.write('EHLO idle.acme.test\r\n');
      } else if (saidEhlo && /^250 /m.test(received)) {
        socket.off('error', reject);
        socket.on('error', () => undefined);
        resolve(socket);
      }
    });
  });
}

import type { SmtpEndpoint } from './mailwright.js';

/** How the app under test should reach a listener. */
export interface TransportOptionsInput {
  /**
   * `starttls`: plaintext, then STARTTLS, refusing to send without it (the default);
   * `implicit`: TLS from the first byte (SMTPS); `none`: plaintext, STARTTLS never tried.
   */
  tls?: 'starttls' | 'implicit' | 'none';
  /** Where to connect; default: the `smtps` listener for `implicit`, otherwise `smtp`. */
  endpoint?: SmtpEndpoint;
}

/**
 * Options for nodemailer's SMTP transport (`nodemailer.createTransport(options)`), and a plain
 * description for any other client: where to connect, how TLS starts, and the test CA to
 * trust. Spread it to add `auth`, a pinned TLS version or a client certificate.
 */
export interface SmtpTransportOptions {
  host: string;
  port: number;
  /** TLS from the first byte. */
  secure: boolean;
  /** Refuse to send unless STARTTLS succeeds. */
  requireTLS: boolean;
  /** Never try STARTTLS. */
  ignoreTLS: boolean;
  /** The test CA to trust; absent for plaintext. */
  tls?: { ca: string };
}

/** The transport options for one of the server's listeners (see {@link SmtpTransportOptions}). */
export function transportOptions(listeners: { smtp: SmtpEndpoint; smtps: SmtpEndpoint; ca: string }, input: TransportOptionsInput = {}): SmtpTransportOptions {
  const mode = input.tls ?? 'starttls';
  const { host, port } = input.endpoint ?? (mode === 'implicit' ? listeners.smtps : listeners.smtp);
  if (mode === 'none') return { host, port, secure: false, requireTLS: false, ignoreTLS: true };
  return { host, port, secure: mode === 'implicit', requireTLS: mode === 'starttls', ignoreTLS: false, tls: { ca: listeners.ca } };
}

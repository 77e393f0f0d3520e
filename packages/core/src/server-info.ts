import type { ListenerInfo } from './listener-config.js';

/** `GET /api/v1/info`: what a client needs to know to talk to this server. */
export interface ServerInfo {
  name: 'mailwright';
  version: string;
  /** Greeting name and certificate name. */
  hostname: string;
  http: { host: string; port: number; url: string };
  listeners: ListenerInfo[];
  limits: {
    maxMessageSize: number;
    maxMessages: number;
    maxRecipients: number;
    /** Memory budget of messages, transcripts and caches, in bytes. */
    maxMemory: number;
    /** SMTP connections at once, in total and per client address. */
    maxConnections: number;
    maxConnectionsPerIp: number;
    /** Absolute limits per command line (and STARTTLS handshake) and per DATA phase, in milliseconds. */
    commandTimeoutMs: number;
    dataTimeoutMs: number;
  };
  auth: { mode: 'off' | 'optional' | 'required'; users: number };
  /** Whether an API token is required. */
  apiTokenRequired: boolean;
  /**
   * Base URLs of the compatibility APIs: `mailpit` is what a Mailpit client takes as its base URL
   * (it calls `${mailpit}/api/v1/…`), `mailhog` the URL under which MailHog's `/api/v1/…` and
   * `/api/v2/…` are served. See docs/compatibility.md.
   */
  compatibility: { mailpit: string; mailhog: string };
}

import { z } from 'zod';
import { IpAddressSchema, TLS_VERSIONS, type ListenerConfig, type ListenerConfigSchema } from './listener-config.js';
import { withFlag } from './option-flags.js';

const MIB = 1024 * 1024;
const port = z.number().int().min(0).max(65535);
const TlsVersion = z.enum(TLS_VERSIONS);

/** A pino-compatible logger: structured fields first, then the message. */
export interface Logger {
  debug(fields: object, message?: string): void;
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

/**
 * The options schema of the server; it holds every default. Each field also carries what the
 * CLI needs (see `describeOptionFlags`): flags, environment twins, defaults, choices and the
 * help text are derived from here.
 */
export const MailwrightOptionsSchema = z
  .object({
    /** Address every listener binds to. Default `127.0.0.1` (loopback only). */
    host: withFlag(z.string().min(1).default('127.0.0.1'), {
      kind: 'text',
      value: '<address>',
      description: 'Address every listener and the HTTP server bind to',
    }),
    /** Port of the `smtp` listener (plaintext, STARTTLS offered); 0 = a free port. Default 1025. */
    smtpPort: withFlag(port.default(1025), { kind: 'port', description: 'Port of the smtp listener (plaintext, STARTTLS); 0 picks a free port' }),
    /** Port of the `smtps` listener (implicit TLS); 0 = a free port. Default 1465. */
    smtpsPort: withFlag(port.default(1465), { kind: 'port', description: 'Port of the smtps listener (implicit TLS); 0 picks a free port' }),
    /** Port of the HTTP server (web UI, REST, WebSocket); 0 = a free port. Default 8025. */
    httpPort: withFlag(port.default(8025), { kind: 'port', description: 'Port of the web UI, REST and WebSocket API; 0 picks a free port' }),
    /** Greeting name, and a name the server certificate covers. Default `localhost`. */
    hostname: withFlag(z.string().min(1).default('localhost'), {
      kind: 'text',
      value: '<name>',
      description: 'Greeting name, also covered by the server certificate',
    }),
    /** More host names and IP addresses the test certificate covers (clients that connect by another name). */
    tlsNames: withFlag(z.array(z.string().min(1)).default([]), {
      kind: 'host-name',
      description: 'Another host name or IP address the test certificate covers (repeatable)',
    }),
    /** A server certificate (PEM) to present instead of one from the test CA. */
    tlsCert: withFlag(z.string().min(1).optional(), {
      kind: 'pem-file',
      description: 'PEM certificate to present instead of one from the test CA (needs --tls-key)',
    }),
    /** The private key (PEM) of `tlsCert`. */
    tlsKey: withFlag(z.string().min(1).optional(), { kind: 'pem-file', description: 'PEM private key of --tls-cert' }),
    /** Where the test CA is kept. Default: a fresh temporary directory, removed on close. */
    dataDir: withFlag(z.string().min(1).optional(), {
      kind: 'path',
      description: 'Where the test CA is kept between runs',
      defaultText: '$XDG_DATA_HOME/mailwright or ~/.local/share/mailwright',
    }),
    /** STARTTLS policy of the `smtp` listener. Default `offer`. */
    starttls: withFlag(z.enum(['offer', 'require', 'off']).default('offer'), { kind: 'choice', description: 'STARTTLS policy of the smtp listener' }),
    /** Lowest TLS version of the default listeners. Default `TLSv1.2`. */
    tlsMinVersion: withFlag(TlsVersion.default('TLSv1.2'), { kind: 'choice', value: '<version>', description: 'Lowest TLS version' }),
    /** Highest TLS version of the default listeners. Default `TLSv1.3`. */
    tlsMaxVersion: withFlag(TlsVersion.default('TLSv1.3'), { kind: 'choice', value: '<version>', description: 'Highest TLS version' }),
    /** AUTH policy. Default `optional`. */
    auth: withFlag(z.enum(['off', 'optional', 'required']).default('optional'), { kind: 'choice', description: 'SMTP AUTH policy' }),
    /** Accepted credentials; none = any username and password are accepted. */
    authUsers: withFlag(z.array(z.object({ username: z.string().min(1), password: z.string() }).strict()).default([]), {
      kind: 'credentials',
      description: 'Accepted credentials (repeatable); none = any credentials are accepted',
    }),
    /** Largest message accepted, in bytes (SIZE); larger ones get 552. Default 50 MiB. */
    maxMessageSize: withFlag(
      z
        .number()
        .int()
        .positive()
        .default(50 * MIB),
      { kind: 'size', description: 'Largest message accepted: bytes, or with a unit (10MB, 50MiB)' },
    ),
    /** Retention: the oldest messages are dropped beyond this. Default 10000. */
    maxMessages: withFlag(z.number().int().positive().default(10_000), { kind: 'count', description: 'Messages kept; the oldest are dropped beyond this' }),
    /** Retention of SMTP sessions. Default 10000. */
    maxSessions: withFlag(z.number().int().positive().default(10_000), {
      kind: 'count',
      description: 'SMTP sessions kept; the oldest are dropped beyond this',
    }),
    /** Recipients per message; more get 452. Default 1000. */
    maxRecipients: withFlag(z.number().int().positive().default(1000), { kind: 'count', description: 'Recipients per message; more are refused with 452' }),
    /**
     * Memory budget of the store, in bytes: raw messages, session transcripts and caches of
     * parsed messages. Beyond it the oldest messages and sessions are dropped (announced like
     * count retention). Default 512 MiB.
     */
    maxMemory: withFlag(
      z
        .number()
        .int()
        .positive()
        .default(512 * MIB),
      { kind: 'size', description: 'Memory for messages, transcripts and caches; the oldest messages and sessions are dropped beyond this' },
    ),
    /** SMTP connections open at once across every listener; more get 421 and are closed. Default 2000. */
    maxConnections: withFlag(z.number().int().positive().default(2000), {
      kind: 'count',
      description: 'SMTP connections open at once (all listeners); more get 421',
    }),
    /** SMTP connections open at once from one client address, across every listener. Default 1000. */
    maxConnectionsPerIp: withFlag(z.number().int().positive().default(1000), {
      kind: 'count',
      description: 'SMTP connections open at once from one client address; more get 421',
    }),
    /**
     * Time a client has to send one whole SMTP command line, in milliseconds, however it
     * trickles in; then 421 and the connection is closed. Default 60000.
     */
    commandTimeoutMs: withFlag(z.number().int().positive().default(60_000), {
      kind: 'milliseconds',
      description: 'Time to send one whole SMTP command line, in milliseconds; then 421 and close',
    }),
    /** Time a client has to send a whole message after DATA, in milliseconds; then 451 and close. Default 600000. */
    dataTimeoutMs: withFlag(z.number().int().positive().default(600_000), {
      kind: 'milliseconds',
      description: 'Time to send a whole message after DATA, in milliseconds; then 451 and close',
    }),
    /**
     * Where DNS answers for the authentication checks come from: `mock` (the zone of `dnsZone`
     * and `/api/v1/dns/records`; nothing is sent to the network) or `live`. Default `mock`.
     */
    dns: withFlag(z.enum(['mock', 'live']).default('mock'), {
      kind: 'choice',
      description: 'DNS for SPF, DKIM and DMARC checks: the mock zone, or the network',
    }),
    /** A zone file (`name TYPE value` per line) loaded into the mock zone at start. */
    dnsZone: withFlag(z.string().min(1).optional(), {
      kind: 'zone-file',
      description: 'Zone file loaded into the mock DNS zone (name TYPE value per line)',
    }),
    /** Timeout of one live DNS query, in milliseconds. Default 2000. */
    dnsTimeoutMs: withFlag(z.number().int().positive().default(2_000), {
      kind: 'milliseconds',
      description: 'Timeout of one live DNS query, in milliseconds',
    }),
    /** Name servers live DNS asks (`'192.0.2.53'`, `'127.0.0.1:5353'`). Default: the system's. */
    dnsServers: withFlag(z.array(z.string().min(1)).optional(), {
      kind: 'name-server',
      description: 'A name server live DNS asks, address[:port] (repeatable)',
      defaultText: "the system's",
    }),
    /** Whether SPF, DKIM, DMARC and ARC verdicts are computed for every message. Default `on`. */
    authentication: withFlag(z.enum(['on', 'off']).default('on'), {
      kind: 'choice',
      description: 'Compute SPF, DKIM, DMARC and ARC verdicts for every message',
    }),
    /** Whether S/MIME and OpenPGP protection is examined (verified, decrypted with registered keys) for every message. Default `on`. */
    protection: withFlag(z.enum(['on', 'off']).default('on'), {
      kind: 'choice',
      description: 'Examine S/MIME and OpenPGP signatures and encryption of every message',
    }),
    /** The client address SPF judges the default listeners' connections for. Default: the connection's address. */
    clientIp: withFlag(IpAddressSchema.optional(), {
      kind: 'text',
      value: '<address>',
      description: "Client address SPF judges the default listeners' connections for",
      defaultText: "the connection's address",
    }),
    /** More listeners (the TLS lab). */
    listeners: withFlag(z.array(z.unknown()).default([]), {
      kind: 'listener',
      description: 'An extra listener, e.g. name=lab,port=2526,certificate=expired (repeatable)',
    }),
    /** When set, REST and the stream require it (`Authorization: Bearer <token>` or `?token=`). */
    apiToken: withFlag(z.string().min(8, 'at least 8 characters').optional(), {
      kind: 'text',
      value: '<token>',
      description: 'Require this token on REST and the stream (at least 8 characters); never printed',
    }),
    /** Browser origins allowed to use the API and stream besides the server's own; `*` = any. Default none. */
    allowedOrigins: withFlag(z.array(z.string().min(1)).default([]), {
      kind: 'origin',
      description: "A browser origin allowed to use the API besides the server's own; * = any (repeatable)",
    }),
    // Exposure: who may reach the API from where.
    /**
     * More host names the HTTP server answers to (the `Host` header), besides loopback names
     * and addresses, any IP address, `hostname` and `tlsNames`: DNS rebinding pages reach the
     * server by a name of their own, which gets 403 `HOST_NOT_ALLOWED`. A leading dot allows
     * subdomains (`.example.test`); `*` allows any name. Not checked when `apiToken` is set.
     * Default none.
     */
    allowedHosts: withFlag(z.array(z.string().min(1)).default([]), {
      kind: 'host-pattern',
      description: 'Another host name the HTTP server answers to (.example.test = with subdomains, * = any); repeatable',
      defaultText: 'loopback names, IP addresses, --hostname and --tls-name',
    }),
    /**
     * Allows binding `host` to a non-loopback address without `apiToken`: anyone who can reach
     * the port can then read and delete every message. Only for private networks (a CI
     * service container). Default false.
     */
    insecureNoToken: withFlag(z.boolean().default(false), {
      kind: 'switch',
      description: 'Allow a non-loopback --host without --api-token (private networks only: anyone who reaches it reads all mail)',
    }),
    /** Allows listeners created over the API to bind ports below 1024. Default false. */
    allowPrivilegedPorts: withFlag(z.boolean().default(false), {
      kind: 'switch',
      description: 'Allow listeners created over the API to bind ports below 1024',
    }),
    /** Stream clients with more unsent data than this are closed with 4008. Default 8 MiB. */
    streamMaxBufferedBytes: withFlag(
      z
        .number()
        .int()
        .positive()
        .default(8 * MIB),
      { kind: 'size', description: 'Unsent data a stream client may fall behind by; then it is closed with 4008 and resumes' },
    ),
    /** Stream ping interval; a client that misses a pong is dropped. Default 30000. */
    streamPingIntervalMs: withFlag(z.number().int().positive().default(30_000), {
      kind: 'milliseconds',
      description: 'Stream ping interval, in milliseconds; a client that misses a pong is dropped',
    }),
    /** Directory of the built inbox viewer, served at `/`. Default: none (API only). */
    webRoot: withFlag(z.string().min(1).optional(), {
      kind: 'directory',
      description: 'Directory of the built inbox viewer, served at /',
      defaultText: 'the built apps/web, when present',
    }),
    /** Log sink; default silent. */
    logger: withFlag(z.custom<Logger | false>((value) => value === false || (typeof value === 'object' && value !== null)).optional(), {
      kind: 'none',
      description: 'an object; the CLI picks its own logger with --log-level and --log-format',
    }),
  })
  .strict();

/** Options of `createMailwright` and the SDK's `Mailwright.start()`; every field is optional. */
export type MailwrightOptions = Omit<z.input<typeof MailwrightOptionsSchema>, 'listeners' | 'logger'> & {
  /** More listeners (the TLS lab). */
  listeners?: ListenerConfig[];
  /** Log sink; default silent. */
  logger?: Logger | false;
};

/** Options after validation, with every default filled in. */
export type ResolvedMailwrightOptions = Readonly<
  Omit<z.output<typeof MailwrightOptionsSchema>, 'listeners' | 'logger'> & {
    listeners: readonly z.output<typeof ListenerConfigSchema>[];
    logger: Logger | false;
  }
>;

/** Log levels of `--log-level`. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;
/** A log level of `--log-level`. */
export type LogLevel = (typeof LOG_LEVELS)[number];
/** Formats of `--log-format`. */
export const LOG_FORMATS = ['pretty', 'json'] as const;
/** A format of `--log-format`. */
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * The options of the `mailwright` command besides the server's: how it logs. The CLI's flags
 * are derived from this schema and {@link MailwrightOptionsSchema}, and from nothing else.
 */
export const CliOptionsSchema = z
  .object({
    /** Log level. Default `info`. */
    logLevel: withFlag(z.enum(LOG_LEVELS).default('info'), { kind: 'choice', value: '<level>', description: 'How much to log' }),
    /** Log format. Default: `pretty` on a terminal, else `json`. */
    logFormat: withFlag(z.enum(LOG_FORMATS).optional(), {
      kind: 'choice',
      description: 'Human-readable or one JSON object per line',
      defaultText: 'pretty on a terminal, else json',
    }),
  })
  .strict();

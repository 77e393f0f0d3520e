import { z } from 'zod';
import { ErrorCode, ListenerConfigSchema, MailwrightError, TLS_VERSIONS, type ListenerConfig } from '@mailwright/core';
import type { Logger } from './logger.js';

const MIB = 1024 * 1024;
const port = z.number().int().min(0).max(65535);
const TlsVersion = z.enum(TLS_VERSIONS);

/** The names of the two default listeners. */
export const DEFAULT_LISTENER_NAMES = ['smtp', 'smtps'] as const;

/** The options schema; it holds every default. */
export const MailwrightOptionsSchema = z
  .object({
    /** Address every listener binds to. Default `127.0.0.1` (loopback only). */
    host: z.string().min(1).default('127.0.0.1'),
    /** Port of the `smtp` listener (plaintext, STARTTLS offered); 0 = a free port. Default 1025. */
    smtpPort: port.default(1025),
    /** Port of the `smtps` listener (implicit TLS); 0 = a free port. Default 1465. */
    smtpsPort: port.default(1465),
    /** Port of the HTTP server (web UI, REST, WebSocket); 0 = a free port. Default 8025. */
    httpPort: port.default(8025),
    /** Greeting name, and a name the server certificate covers. Default `localhost`. */
    hostname: z.string().min(1).default('localhost'),
    /** More host names and IP addresses the test certificate covers (clients that connect by another name). */
    tlsNames: z.array(z.string().min(1)).default([]),
    /** A server certificate (PEM) to present instead of one from the test CA. */
    tlsCert: z.string().min(1).optional(),
    /** The private key (PEM) of `tlsCert`. */
    tlsKey: z.string().min(1).optional(),
    /** Where the test CA is kept. Default: a fresh temporary directory, removed on close. */
    dataDir: z.string().min(1).optional(),
    /** STARTTLS policy of the `smtp` listener. Default `offer`. */
    starttls: z.enum(['offer', 'require', 'off']).default('offer'),
    /** Lowest TLS version of the default listeners. Default `TLSv1.2`. */
    tlsMinVersion: TlsVersion.default('TLSv1.2'),
    /** Highest TLS version of the default listeners. Default `TLSv1.3`. */
    tlsMaxVersion: TlsVersion.default('TLSv1.3'),
    /** AUTH policy. Default `optional`. */
    auth: z.enum(['off', 'optional', 'required']).default('optional'),
    /** Accepted credentials; none = any username and password are accepted. */
    authUsers: z.array(z.object({ username: z.string().min(1), password: z.string() }).strict()).default([]),
    /** Largest message accepted, in bytes (SIZE); larger ones get 552. Default 50 MiB. */
    maxMessageSize: z
      .number()
      .int()
      .positive()
      .default(50 * MIB),
    /** Retention: the oldest messages are dropped beyond this. Default 10000. */
    maxMessages: z.number().int().positive().default(10_000),
    /** Retention of SMTP sessions. Default 10000. */
    maxSessions: z.number().int().positive().default(10_000),
    /** Recipients per message; more get 452. Default 1000. */
    maxRecipients: z.number().int().positive().default(1000),
    /**
     * Memory budget of the store, in bytes: raw messages, session transcripts and caches of
     * parsed messages. Beyond it the oldest messages and sessions are dropped (announced like
     * count retention). Default 512 MiB.
     */
    maxMemory: z
      .number()
      .int()
      .positive()
      .default(512 * MIB),
    /** SMTP connections open at once across every listener; more get 421 and are closed. Default 2000. */
    maxConnections: z.number().int().positive().default(2000),
    /** SMTP connections open at once from one client address, across every listener. Default 1000. */
    maxConnectionsPerIp: z.number().int().positive().default(1000),
    /**
     * Time a client has to send one whole SMTP command line, in milliseconds, however it
     * trickles in; then 421 and the connection is closed. Default 60000.
     */
    commandTimeoutMs: z.number().int().positive().default(60_000),
    /** Time a client has to send a whole message after DATA, in milliseconds; then 451 and close. Default 600000. */
    dataTimeoutMs: z.number().int().positive().default(600_000),
    /** More listeners (the TLS lab). */
    listeners: z.array(z.unknown()).default([]),
    /** When set, REST and the stream require it (`Authorization: Bearer <token>` or `?token=`). */
    apiToken: z.string().min(8, 'at least 8 characters').optional(),
    /** Browser origins allowed to use the API and stream besides the server's own; `*` = any. Default none. */
    allowedOrigins: z.array(z.string().min(1)).default([]),
    // Exposure: who may reach the API from where.
    /**
     * More host names the HTTP server answers to (the `Host` header), besides loopback names
     * and addresses, any IP address, `hostname` and `tlsNames`: DNS rebinding pages reach the
     * server by a name of their own, which gets 403 `HOST_NOT_ALLOWED`. A leading dot allows
     * subdomains (`.example.test`); `*` allows any name. Not checked when `apiToken` is set.
     * Default none.
     */
    allowedHosts: z.array(z.string().min(1)).default([]),
    /**
     * Allows binding `host` to a non-loopback address without `apiToken`: anyone who can reach
     * the port can then read and delete every message. Only for private networks (a CI
     * service container). Default false.
     */
    insecureNoToken: z.boolean().default(false),
    /** Allows listeners created over the API to bind ports below 1024. Default false. */
    allowPrivilegedPorts: z.boolean().default(false),
    /** Stream clients with more unsent data than this are closed with 4008. Default 8 MiB. */
    streamMaxBufferedBytes: z
      .number()
      .int()
      .positive()
      .default(8 * MIB),
    /** Stream ping interval; a client that misses a pong is dropped. Default 30000. */
    streamPingIntervalMs: z.number().int().positive().default(30_000),
    /** Directory of the built inbox viewer, served at `/`. Default: none (API only). */
    webRoot: z.string().min(1).optional(),
    /** Log sink; default silent. */
    logger: z.custom<Logger | false>((value) => value === false || (typeof value === 'object' && value !== null)).optional(),
  })
  .strict();

/** Options of `createMailwright`; every field is optional. */
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

/** Whether an address to bind to is loopback only (`localhost`, 127.0.0.0/8, `::1`). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(?:\.\d{1,3}){3}$/.test(bare) || /^::ffff:127(?:\.\d{1,3}){3}$/.test(bare);
}

/** One problem of a configuration: where, and what. */
export interface OptionsProblem {
  path: string;
  message: string;
}

function pathOf(path: readonly PropertyKey[]): string {
  return path
    .map((part) => (typeof part === 'number' ? `[${part}]` : String(part)))
    .join('.')
    .replace(/\.\[/g, '[');
}

/**
 * Validates options once and fills in defaults. Every problem is reported at once in a
 * `MailwrightError` with code `INVALID_OPTIONS` and `details: OptionsProblem[]`.
 */
export function resolveMailwrightOptions(options: MailwrightOptions = {}): ResolvedMailwrightOptions {
  const problems: OptionsProblem[] = [];
  const parsed = MailwrightOptionsSchema.safeParse(options);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push({ path: pathOf(issue.path), message: issue.message });
  }
  /** Valid listeners with their index in the input, so that problems name the right one. */
  const listeners: [number, z.output<typeof ListenerConfigSchema>][] = [];
  const rawListeners = Array.isArray(options.listeners) ? options.listeners : [];
  rawListeners.forEach((raw, index) => {
    const listener = ListenerConfigSchema.safeParse(raw);
    if (!listener.success) {
      for (const issue of listener.error.issues) problems.push({ path: pathOf(['listeners', index, ...issue.path]), message: issue.message });
    } else listeners.push([index, listener.data]);
  });
  if (parsed.success) {
    const data = parsed.data;
    if ((data.tlsCert === undefined) !== (data.tlsKey === undefined)) {
      problems.push({ path: data.tlsCert === undefined ? 'tlsCert' : 'tlsKey', message: 'tlsCert and tlsKey must be given together' });
    }
    if (TLS_VERSIONS.indexOf(data.tlsMinVersion) > TLS_VERSIONS.indexOf(data.tlsMaxVersion)) {
      problems.push({ path: 'tlsMinVersion', message: `${data.tlsMinVersion} is above tlsMaxVersion ${data.tlsMaxVersion}` });
    }
    const names = new Set<string>(DEFAULT_LISTENER_NAMES);
    const ports = new Map<number, string>();
    for (const [name, value] of [
      ['smtpPort', data.smtpPort],
      ['smtpsPort', data.smtpsPort],
      ['httpPort', data.httpPort],
    ] as const) {
      if (value === 0) continue;
      const other = ports.get(value);
      if (other) problems.push({ path: name, message: `port ${value} is also used by ${other}` });
      else ports.set(value, name);
    }
    for (const [index, listener] of listeners) {
      if (names.has(listener.name)) problems.push({ path: `listeners[${index}].name`, message: `listener name "${listener.name}" is already taken` });
      names.add(listener.name);
      if (listener.port !== 0) {
        const other = ports.get(listener.port);
        if (other) problems.push({ path: `listeners[${index}].port`, message: `port ${listener.port} is also used by ${other}` });
        else ports.set(listener.port, `listener ${listener.name}`);
      }
    }
    if (!isLoopbackHost(data.host) && data.apiToken === undefined && !data.insecureNoToken) {
      problems.push({
        path: 'host',
        message: `binding to ${data.host} lets anyone who reaches it read and delete every message; set apiToken, or insecureNoToken on a private network`,
      });
    }
    const usernames = new Set<string>();
    for (const [index, user] of data.authUsers.entries()) {
      if (usernames.has(user.username)) problems.push({ path: `authUsers[${index}]`, message: `user "${user.username}" is listed twice` });
      usernames.add(user.username);
    }
  }
  if (problems.length > 0 || !parsed.success) {
    throw new MailwrightError(
      ErrorCode.INVALID_OPTIONS,
      `Invalid Mailwright options:\n${problems.map((problem) => `  - ${problem.path || '(options)'}: ${problem.message}`).join('\n')}`,
      { details: problems },
    );
  }
  return Object.freeze({ ...parsed.data, listeners: Object.freeze(listeners.map(([, listener]) => listener)), logger: parsed.data.logger ?? false });
}

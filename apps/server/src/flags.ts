import type { MailwrightOptions } from '@mailwright/server';

/** The prefix of every environment twin of a flag. */
export const ENV_PREFIX = 'MAILWRIGHT_';

/** One command-line flag and how it maps onto the environment and the server options. */
export interface FlagSpec {
  /** Long name without dashes, e.g. `smtp-port`. */
  readonly name: string;
  /** One-letter alias, e.g. `h` for `-h`. */
  readonly short?: string;
  /** `string` flags take a value; `boolean` flags take none. */
  readonly type: 'string' | 'boolean';
  /** Whether the flag may be repeated; every occurrence is kept. */
  readonly multiple?: boolean;
  /** Placeholder of the value in `--help`, e.g. `<port>`. */
  readonly value?: string;
  /** One-line description for `--help`. */
  readonly description: string;
  /** The default as shown in `--help`. */
  readonly defaultText?: string;
  /** The environment twin, or null for flags without one (`--help`, `--version`). */
  readonly env: string | null;
  /** How a repeatable flag's environment twin separates its items. */
  readonly envSeparator?: string;
  /** The `createMailwright` option this flag sets, if any. */
  readonly option?: keyof MailwrightOptions;
}

/** The environment twin of a flag: `--smtp-port` ↔ `MAILWRIGHT_SMTP_PORT`. */
export function envNameOf(flag: string): string {
  return ENV_PREFIX + flag.toUpperCase().replace(/-/g, '_');
}

/** Flags of `mailwright` (serving). */
export const SERVE_FLAGS: readonly FlagSpec[] = [
  {
    name: 'host',
    type: 'string',
    value: '<address>',
    description: 'Address every listener and the HTTP server bind to',
    defaultText: '127.0.0.1',
    env: envNameOf('host'),
    option: 'host',
  },
  {
    name: 'smtp-port',
    type: 'string',
    value: '<port>',
    description: 'Port of the smtp listener (plaintext, STARTTLS); 0 picks a free port',
    defaultText: '1025',
    env: envNameOf('smtp-port'),
    option: 'smtpPort',
  },
  {
    name: 'smtps-port',
    type: 'string',
    value: '<port>',
    description: 'Port of the smtps listener (implicit TLS); 0 picks a free port',
    defaultText: '1465',
    env: envNameOf('smtps-port'),
    option: 'smtpsPort',
  },
  {
    name: 'http-port',
    type: 'string',
    value: '<port>',
    description: 'Port of the web UI, REST and WebSocket API; 0 picks a free port',
    defaultText: '8025',
    env: envNameOf('http-port'),
    option: 'httpPort',
  },
  {
    name: 'hostname',
    type: 'string',
    value: '<name>',
    description: 'Greeting name, also covered by the server certificate',
    defaultText: 'localhost',
    env: envNameOf('hostname'),
    option: 'hostname',
  },
  {
    name: 'tls-name',
    type: 'string',
    multiple: true,
    value: '<name>',
    description: 'Another host name or IP address the test certificate covers (repeatable)',
    env: envNameOf('tls-names'),
    envSeparator: ',',
    option: 'tlsNames',
  },
  {
    name: 'tls-cert',
    type: 'string',
    value: '<file>',
    description: 'PEM certificate to present instead of one from the test CA (needs --tls-key)',
    env: envNameOf('tls-cert'),
    option: 'tlsCert',
  },
  { name: 'tls-key', type: 'string', value: '<file>', description: 'PEM private key of --tls-cert', env: envNameOf('tls-key'), option: 'tlsKey' },
  {
    name: 'data-dir',
    type: 'string',
    value: '<dir>',
    description: 'Where the test CA is kept between runs',
    defaultText: '$XDG_DATA_HOME/mailwright or ~/.local/share/mailwright',
    env: envNameOf('data-dir'),
    option: 'dataDir',
  },
  {
    name: 'starttls',
    type: 'string',
    value: 'offer|require|off',
    description: 'STARTTLS policy of the smtp listener',
    defaultText: 'offer',
    env: envNameOf('starttls'),
    option: 'starttls',
  },
  {
    name: 'tls-min-version',
    type: 'string',
    value: '<version>',
    description: 'Lowest TLS version: TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3',
    defaultText: 'TLSv1.2',
    env: envNameOf('tls-min-version'),
    option: 'tlsMinVersion',
  },
  {
    name: 'tls-max-version',
    type: 'string',
    value: '<version>',
    description: 'Highest TLS version',
    defaultText: 'TLSv1.3',
    env: envNameOf('tls-max-version'),
    option: 'tlsMaxVersion',
  },
  {
    name: 'auth',
    type: 'string',
    value: 'off|optional|required',
    description: 'SMTP AUTH policy',
    defaultText: 'optional',
    env: envNameOf('auth'),
    option: 'auth',
  },
  {
    name: 'auth-user',
    type: 'string',
    multiple: true,
    value: '<user:pass>',
    description: 'Accepted credentials (repeatable); none = any credentials are accepted',
    env: envNameOf('auth-users'),
    envSeparator: ',',
    option: 'authUsers',
  },
  {
    name: 'max-message-size',
    type: 'string',
    value: '<size>',
    description: 'Largest message accepted: bytes, or with a unit (10MB, 50MiB)',
    defaultText: '50MiB',
    env: envNameOf('max-message-size'),
    option: 'maxMessageSize',
  },
  {
    name: 'max-messages',
    type: 'string',
    value: '<count>',
    description: 'Messages kept; the oldest are dropped beyond this',
    defaultText: '10000',
    env: envNameOf('max-messages'),
    option: 'maxMessages',
  },
  {
    name: 'max-sessions',
    type: 'string',
    value: '<count>',
    description: 'SMTP sessions kept; the oldest are dropped beyond this',
    defaultText: '10000',
    env: envNameOf('max-sessions'),
    option: 'maxSessions',
  },
  {
    name: 'max-recipients',
    type: 'string',
    value: '<count>',
    description: 'Recipients per message; more are refused with 452',
    defaultText: '1000',
    env: envNameOf('max-recipients'),
    option: 'maxRecipients',
  },
  {
    name: 'max-memory',
    type: 'string',
    value: '<size>',
    description: 'Memory for messages, transcripts and caches; the oldest messages and sessions are dropped beyond this',
    defaultText: '512MiB',
    env: envNameOf('max-memory'),
    option: 'maxMemory',
  },
  {
    name: 'max-connections',
    type: 'string',
    value: '<count>',
    description: 'SMTP connections open at once (all listeners); more get 421',
    defaultText: '2000',
    env: envNameOf('max-connections'),
    option: 'maxConnections',
  },
  {
    name: 'max-connections-per-ip',
    type: 'string',
    value: '<count>',
    description: 'SMTP connections open at once from one client address; more get 421',
    defaultText: '1000',
    env: envNameOf('max-connections-per-ip'),
    option: 'maxConnectionsPerIp',
  },
  {
    name: 'command-timeout',
    type: 'string',
    value: '<ms>',
    description: 'Time to send one whole SMTP command line, in milliseconds; then 421 and close',
    defaultText: '60000',
    env: envNameOf('command-timeout'),
    option: 'commandTimeoutMs',
  },
  {
    name: 'data-timeout',
    type: 'string',
    value: '<ms>',
    description: 'Time to send a whole message after DATA, in milliseconds; then 451 and close',
    defaultText: '600000',
    env: envNameOf('data-timeout'),
    option: 'dataTimeoutMs',
  },
  {
    name: 'listener',
    type: 'string',
    multiple: true,
    value: '<key=value,...>',
    description: 'An extra listener, e.g. name=lab,port=2526,certificate=expired (repeatable)',
    env: envNameOf('listeners'),
    envSeparator: ';',
    option: 'listeners',
  },
  {
    name: 'api-token',
    type: 'string',
    value: '<token>',
    description: 'Require this token on REST and the stream (at least 8 characters); never printed',
    env: envNameOf('api-token'),
    option: 'apiToken',
  },
  {
    name: 'allowed-origin',
    type: 'string',
    multiple: true,
    value: '<origin>',
    description: "A browser origin allowed to use the API besides the server's own; * = any (repeatable)",
    env: envNameOf('allowed-origins'),
    envSeparator: ',',
    option: 'allowedOrigins',
  },
  // Exposure: which host names are answered, and the explicit opt-outs.
  {
    name: 'allowed-host',
    type: 'string',
    multiple: true,
    value: '<name>',
    description: 'Another host name the HTTP server answers to (.example.test = with subdomains, * = any); repeatable',
    defaultText: 'loopback names, IP addresses, --hostname and --tls-name',
    env: envNameOf('allowed-hosts'),
    envSeparator: ',',
    option: 'allowedHosts',
  },
  {
    name: 'insecure-no-token',
    type: 'boolean',
    description: 'Allow a non-loopback --host without --api-token (private networks only: anyone who reaches it reads all mail)',
    env: envNameOf('insecure-no-token'),
    option: 'insecureNoToken',
  },
  {
    name: 'allow-privileged-ports',
    type: 'boolean',
    description: 'Allow listeners created over the API to bind ports below 1024',
    env: envNameOf('allow-privileged-ports'),
    option: 'allowPrivilegedPorts',
  },
  {
    name: 'web-root',
    type: 'string',
    value: '<dir>',
    description: 'Directory of the built inbox viewer, served at /',
    defaultText: 'the built apps/web, when present',
    env: envNameOf('web-root'),
    option: 'webRoot',
  },
  {
    name: 'log-level',
    type: 'string',
    value: '<level>',
    description: 'trace, debug, info, warn, error or silent',
    defaultText: 'info',
    env: envNameOf('log-level'),
  },
  {
    name: 'log-format',
    type: 'string',
    value: 'pretty|json',
    description: 'Human-readable or one JSON object per line',
    defaultText: 'pretty on a terminal, else json',
    env: envNameOf('log-format'),
  },
  { name: 'help', short: 'h', type: 'boolean', description: 'Show this help and exit', env: null },
  { name: 'version', short: 'v', type: 'boolean', description: 'Show the version and exit', env: null },
];

/** Flags of `mailwright healthcheck`. */
export const HEALTHCHECK_FLAGS: readonly FlagSpec[] = [
  {
    name: 'url',
    type: 'string',
    value: '<url>',
    description: 'Base URL of the server to check',
    defaultText: `http://<${envNameOf('host')} or 127.0.0.1>:<${envNameOf('http-port')} or 8025>`,
    env: envNameOf('healthcheck-url'),
  },
  {
    name: 'timeout',
    type: 'string',
    value: '<ms>',
    description: 'How long to wait for the answer, in milliseconds',
    defaultText: '3000',
    env: envNameOf('healthcheck-timeout'),
  },
  { name: 'help', short: 'h', type: 'boolean', description: 'Show this help and exit', env: null },
];

/** The subcommands besides serving. */
export const SUBCOMMANDS = ['healthcheck'] as const;

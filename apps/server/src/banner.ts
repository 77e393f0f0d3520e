import type { ListenerInfo, ServerInfo } from '@mailwright/core';

/** Path of the test CA certificate under the HTTP base URL. */
export const CA_PATH = '/api/v1/tls/ca.pem';

/** What the banner shows, as a structured record (the `json` log format logs this). */
export interface BannerRecord {
  version: string;
  /** Base URL of the HTTP server. */
  url: string;
  /** Where the inbox viewer is served, or null when no built viewer was found. */
  webUrl: string | null;
  apiUrl: string;
  caUrl: string;
  /** Whether REST and the stream need the API token (the CA download included; `/health` not). */
  apiTokenRequired: boolean;
  dataDir: string;
  hostname: string;
  auth: { mode: ServerInfo['auth']['mode']; users: number };
  listeners: {
    name: string;
    host: string;
    port: number;
    tls: ListenerInfo['tls'];
    starttls: ListenerInfo['starttls'] | null;
    minVersion: string | null;
    maxVersion: string | null;
    certificate: string | null;
    clientCertificate: ListenerInfo['clientCertificate'] | null;
    auth: ListenerInfo['auth'];
  }[];
}

/** Context the server info does not carry. */
export interface BannerContext {
  dataDir: string;
  /** Whether `--tls-cert` replaced the test CA's certificate on `valid` listeners. */
  customCertificate: boolean;
  /** Whether the inbox viewer is served. */
  webUi: boolean;
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The banner's content; holds no secret (users are counted, never listed). */
export function bannerRecord(info: ServerInfo, context: BannerContext): BannerRecord {
  return {
    version: info.version,
    url: info.http.url,
    webUrl: context.webUi ? `${info.http.url}/` : null,
    apiUrl: `${info.http.url}/api/v1`,
    caUrl: info.http.url + CA_PATH,
    apiTokenRequired: info.apiTokenRequired,
    dataDir: context.dataDir,
    hostname: info.hostname,
    auth: { mode: info.auth.mode, users: info.auth.users },
    listeners: info.listeners.map((listener) => {
      const usesTls = listener.tls !== 'none';
      return {
        name: listener.name,
        host: listener.host,
        port: listener.port,
        tls: listener.tls,
        starttls: listener.tls === 'starttls' ? listener.starttls : null,
        minVersion: usesTls ? listener.minVersion : null,
        maxVersion: usesTls ? listener.maxVersion : null,
        certificate: usesTls ? (listener.certificate === 'valid' && context.customCertificate ? 'custom' : listener.certificate) : null,
        clientCertificate: usesTls ? listener.clientCertificate : null,
        auth: listener.auth,
      };
    }),
  };
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, index) => (widths[index] = Math.max(widths[index] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd((widths[index] ?? 0) + 2)))
      .join('')
      .trimEnd(),
  );
}

/** The human-readable startup banner printed on stdout in the `pretty` log format. */
export function formatBanner(record: BannerRecord): string {
  const showClientCertificate = record.listeners.some((listener) => listener.clientCertificate !== null && listener.clientCertificate !== 'off');
  const header = ['LISTENER', 'ADDRESS', 'TLS', 'STARTTLS', 'VERSIONS', 'CERTIFICATE', ...(showClientCertificate ? ['CLIENT CERT'] : []), 'AUTH'];
  const rows = record.listeners.map((listener) => [
    listener.name,
    hostPort(listener.host, listener.port),
    listener.tls,
    listener.starttls ?? '-',
    listener.minVersion === null ? '-' : listener.minVersion === listener.maxVersion ? listener.minVersion : `${listener.minVersion}-${listener.maxVersion}`,
    listener.certificate ?? '-',
    ...(showClientCertificate ? [listener.clientCertificate ?? '-'] : []),
    listener.auth,
  ]);
  const users = record.auth.users === 0 ? 'any user name and password accepted' : `${record.auth.users} configured user${record.auth.users === 1 ? '' : 's'}`;
  return [
    '',
    `  Mailwright ${record.version} is running`,
    '',
    ...table([header, ...rows]).map((line) => `  ${line}`),
    '',
    ...table([
      ['Web UI', record.webUrl ?? 'not served (build apps/web or pass --web-root)'],
      ['REST API', `${record.apiUrl}${record.apiTokenRequired ? '  (API token required)' : ''}`],
      ['Test CA', record.caUrl],
      ['Data directory', record.dataDir],
      ['Hostname', record.hostname],
      ['AUTH', `${record.auth.mode} (${users})`],
    ]).map((line) => `  ${line}`),
    '',
    '  Press Ctrl+C to stop.',
    '',
    '',
  ].join('\n');
}

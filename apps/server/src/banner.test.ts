import { describe, expect, it } from 'vitest';
import type { ListenerInfo, ServerInfo } from '@mailwright/core';
import { bannerRecord, formatBanner } from './banner.js';

const listener = (overrides: Partial<ListenerInfo>): ListenerInfo => ({
  name: 'smtp',
  host: '127.0.0.1',
  port: 1025,
  tls: 'starttls',
  starttls: 'offer',
  certificate: 'valid',
  keyType: 'ecdsa-p256',
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: null,
  clientCertificate: 'off',
  auth: 'optional',
  ...overrides,
});

const info: ServerInfo = {
  name: 'mailwright',
  version: '9.8.7',
  hostname: 'mail.test',
  http: { host: '127.0.0.1', port: 8025, url: 'http://127.0.0.1:8025' },
  listeners: [
    listener({}),
    listener({ name: 'smtps', port: 1465, tls: 'implicit', starttls: 'off' }),
    listener({ name: 'plain', port: 2525, tls: 'none', starttls: 'off', auth: 'required' }),
    listener({ name: 'lab', host: '::1', port: 2526, starttls: 'require', certificate: 'expired', minVersion: 'TLSv1.3', clientCertificate: 'require' }),
  ],
  limits: {
    maxMessageSize: 1,
    maxMessages: 1,
    maxRecipients: 1,
    maxMemory: 1,
    maxConnections: 1,
    maxConnectionsPerIp: 1,
    commandTimeoutMs: 1,
    dataTimeoutMs: 1,
  },
  auth: { mode: 'optional', users: 2 },
  apiTokenRequired: true,
  compatibility: { mailpit: 'http://127.0.0.1:8025/compat/mailpit', mailhog: 'http://127.0.0.1:8025/compat/mailhog' },
};

describe('banner', () => {
  const record = bannerRecord(info, { dataDir: '/data/mw', customCertificate: true, webUi: true });

  it('records each listener with its TLS policy, and the URLs', () => {
    expect(record).toMatchObject({
      url: 'http://127.0.0.1:8025',
      webUrl: 'http://127.0.0.1:8025/',
      caUrl: 'http://127.0.0.1:8025/api/v1/tls/ca.pem',
      dataDir: '/data/mw',
    });
    expect(record.listeners.map((entry) => [entry.name, entry.port, entry.tls, entry.starttls, entry.certificate, entry.auth])).toEqual([
      ['smtp', 1025, 'starttls', 'offer', 'custom', 'optional'],
      ['smtps', 1465, 'implicit', null, 'custom', 'optional'],
      ['plain', 2525, 'none', null, null, 'required'],
      ['lab', 2526, 'starttls', 'require', 'expired', 'optional'],
    ]);
  });

  it('prints one row per listener, and the web, API and CA URLs', () => {
    const text = formatBanner(record);
    expect(text).toContain('Mailwright 9.8.7 is running');
    expect(text).toMatch(/^\s+smtp\s+127\.0\.0\.1:1025\s+starttls\s+offer\s+TLSv1\.2-TLSv1\.3\s+custom\s+off\s+optional$/m);
    expect(text).toMatch(/^\s+smtps\s+127\.0\.0\.1:1465\s+implicit\s+-\s+TLSv1\.2-TLSv1\.3\s+custom\s+off\s+optional$/m);
    expect(text).toMatch(/^\s+plain\s+127\.0\.0\.1:2525\s+none\s+-\s+-\s+-\s+-\s+required$/m);
    expect(text).toMatch(/^\s+lab\s+\[::1\]:2526\s+starttls\s+require\s+TLSv1\.3\s+expired\s+require\s+optional$/m);
    expect(text).toMatch(/Web UI\s+http:\/\/127\.0\.0\.1:8025\/$/m);
    expect(text).toMatch(/REST API\s+http:\/\/127\.0\.0\.1:8025\/api\/v1 {2}\(API token required\)$/m);
    expect(text).toMatch(/Test CA\s+http:\/\/127\.0\.0\.1:8025\/api\/v1\/tls\/ca\.pem$/m);
    expect(text).toMatch(/Data directory\s+\/data\/mw$/m);
    expect(text).toMatch(/AUTH\s+optional \(2 configured users\)$/m);
  });

  it('leaves out the client-certificate column when no listener asks for one, and says when there is no web UI', () => {
    const plain = formatBanner(bannerRecord({ ...info, listeners: [listener({})] }, { dataDir: '/d', customCertificate: false, webUi: false }));
    expect(plain).not.toContain('CLIENT CERT');
    expect(plain).toMatch(/^\s+smtp\s+127\.0\.0\.1:1025\s+starttls\s+offer\s+TLSv1\.2-TLSv1\.3\s+valid\s+optional$/m);
    expect(plain).toMatch(/Web UI\s+not served/);
  });
});

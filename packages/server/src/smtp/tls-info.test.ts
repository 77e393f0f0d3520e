import { describe, expect, it } from 'vitest';
import { tlsFailureCode } from './tls-info.js';

describe('tlsFailureCode', () => {
  it.each([
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', 'certificate_expired'],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'unknown_ca'],
    // How OpenSSL 3.2 and later (Node.js 22, 24) name the same alerts.
    ['ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', 'bad_certificate'],
    ['ERR_SSL_SSL/TLS_ALERT_CERTIFICATE_EXPIRED', 'certificate_expired'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'protocol_version'],
    ['ERR_SSL_NO_SHARED_CIPHER', 'handshake_failure'],
    ['ECONNRESET', 'closed_during_handshake'],
  ])('%s → %s', (code, expected) => {
    expect(tlsFailureCode(Object.assign(new Error('handshake'), { code }))).toBe(expected);
  });
});

import { createHash } from 'node:crypto';
import tls from 'node:tls';
import { ErrorCode, MailwrightError, TLS_VERSIONS, type ListenerInfo, type TlsVersion } from '@mailwright/core';
import { tlsFailureCode } from './tls-info.js';

/** How long one loopback handshake of the capability check may take. */
const PROBE_TIMEOUT_MS = 5_000;
/** What the probing client accepts: anything OpenSSL can still do, so that only the server limits the result. */
const PROBE_CLIENT_CIPHERS = 'ALL:@SECLEVEL=0';
const SECURITY_LEVEL = /@SECLEVEL=\d/i;
const TLS13_SUITE = /(?:^|:)TLS_/;

type TlsPolicy = Pick<ListenerInfo, 'name' | 'certificate' | 'keyType' | 'minVersion' | 'maxVersion' | 'ciphers'>;

/**
 * Whether a listener needs OpenSSL's security level 0: OpenSSL 3 refuses TLS 1.0 and 1.1
 * (they sign with SHA-1/MD5), SHA-1 certificate signatures and RSA keys under 2048 bits
 * at its default levels. Only such a listener gets the lower level.
 */
export function needsLegacySecurityLevel(policy: TlsPolicy): boolean {
  return TLS_VERSIONS.indexOf(policy.minVersion) < TLS_VERSIONS.indexOf('TLSv1.2') || policy.keyType === 'rsa-1024' || policy.certificate === 'weak-signature';
}

/**
 * The cipher list the listener's secure context gets: the configured one (or OpenSSL's
 * DEFAULT), with `@SECLEVEL=0` appended when the listener needs legacy algorithms and the
 * list does not set a level itself.
 */
export function effectiveCipherList(policy: TlsPolicy): string | undefined {
  if (!needsLegacySecurityLevel(policy)) return policy.ciphers ?? undefined;
  const base = policy.ciphers ?? 'DEFAULT';
  return SECURITY_LEVEL.test(base) ? base : `${base}:@SECLEVEL=0`;
}

/**
 * The TLS session id context of a listener: without one, OpenSSL refuses to resume any
 * session on a socket that asks for a client certificate (tls.Server sets one; a bare
 * TLSSocket does not). Sessions of one listener do not resume on another.
 */
export function sessionIdContextOf(listenerName: string): string {
  return createHash('sha256').update(`mailwright:${listenerName}`).digest('hex').slice(0, 32);
}

function versionsOf(policy: TlsPolicy): TlsVersion[] {
  return TLS_VERSIONS.slice(TLS_VERSIONS.indexOf(policy.minVersion), TLS_VERSIONS.indexOf(policy.maxVersion) + 1);
}

function refuse(name: string, problems: string[]): MailwrightError {
  return new MailwrightError(ErrorCode.INVALID_REQUEST, `Listener "${name}" cannot work as configured: ${problems.join('; ')}`, {
    statusCode: 400,
    details: problems,
  });
}

/** One handshake over loopback, client limited to `version`; resolves with the failure, or null. */
async function probeHandshake(options: tls.SecureContextOptions, version: TlsVersion): Promise<string | null> {
  let serverError: unknown = null;
  const server = tls.createServer(options, (socket) => socket.end());
  server.on('tlsClientError', (error) => (serverError = error));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, resolve);
    });
    const { port } = server.address() as { port: number };
    return await new Promise<string | null>((resolve) => {
      const client = tls.connect({
        host: '127.0.0.1',
        port,
        minVersion: version,
        maxVersion: version,
        ciphers: PROBE_CLIENT_CIPHERS,
        rejectUnauthorized: false,
      });
      const timer = setTimeout(() => client.destroy(new Error('no answer')), PROBE_TIMEOUT_MS);
      client.once('secureConnect', () => {
        clearTimeout(timer);
        const negotiated = client.getProtocol();
        client.destroy();
        resolve(negotiated === version ? null : `negotiated ${negotiated ?? 'nothing'}`);
      });
      client.once('error', (error) => {
        clearTimeout(timer);
        client.destroy();
        // The server's own reason is the precise one (no_shared_cipher, …); wait for it briefly.
        setImmediate(() => resolve(tlsFailureCode(serverError ?? error)));
      });
    });
  } finally {
    server.close();
  }
}

/** Why OpenSSL would not build the listener's secure context, for people. */
function secureContextProblem(policy: TlsPolicy, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const reason = typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  if (reason === 'ERR_SSL_CA_MD_TOO_WEAK' || reason === 'ERR_SSL_EE_KEY_TOO_SMALL') {
    return `the security level set in ciphers "${policy.ciphers ?? ''}" refuses the listener's own certificate (${reason}); leave @SECLEVEL out and the lab lowers it for weak-signature and rsa-1024`;
  }
  if (policy.ciphers !== null && /CIPHER/i.test(reason)) {
    return `OpenSSL rejects the cipher list "${policy.ciphers}" (${reason}); see \`openssl ciphers -v\` for the names`;
  }
  return `the certificate and key cannot be used (${reason})`;
}

/** The security level a cipher list sets (`@SECLEVEL=n`), or null when it sets none. */
function securityLevel(ciphers: string | null): number | null {
  const level = /@SECLEVEL=(\d)/.exec(ciphers ?? '');
  return level ? Number(level[1]) : null;
}

function explain(policy: TlsPolicy, version: TlsVersion, failure: string): string {
  // OpenSSL 3.0 fails such a handshake for want of a SHA-1 signature it may use, OpenSSL 3.2 and
  // later refuse the version itself: either way the security level is what stands in the way.
  const legacy = version === 'TLSv1' || version === 'TLSv1.1';
  if (failure === 'no_suitable_signature_algorithm' || (legacy && failure === 'protocol_version' && (securityLevel(policy.ciphers) ?? 0) >= 1)) {
    return `${version}: a handshake fails (${failure}): the security level set in ciphers "${policy.ciphers ?? ''}" forbids the SHA-1 signatures ${version} needs; leave @SECLEVEL out and the lab lowers it for such a window`;
  }
  if (failure === 'handshake_failure' || failure === 'no_shared_cipher') {
    return `${version}: no cipher suite of ciphers "${policy.ciphers ?? 'DEFAULT'}" can be used with the listener's ${policy.keyType} key (an RSA key needs *-RSA-* or plain RSA suites, an ECDSA key *-ECDSA-* suites)`;
  }
  if (failure === 'protocol_version' || failure.startsWith('negotiated')) {
    return `${version} is in the window ${policy.minVersion}–${policy.maxVersion} but cannot be negotiated (${failure}); for TLS 1.2 and below, ciphers must name at least one suite of that version, and TLS 1.3 needs a TLS_* suite if ciphers lists any`;
  }
  return `${version}: a handshake fails (${failure})`;
}

/**
 * Refuses (MailwrightError INVALID_REQUEST, 400) a TLS configuration the listener cannot
 * honour: a cipher list OpenSSL rejects, or a TLS version of its window that no client can
 * negotiate with it (a cipher list the key cannot use, a security level too high for
 * TLS 1.0). Each version of the window is tried with a real handshake over loopback.
 * Returns the secure context it built, for the listener to use.
 */
export async function assertTlsCapabilities(policy: TlsPolicy, options: tls.SecureContextOptions, handshakes: boolean): Promise<tls.SecureContext> {
  let context: tls.SecureContext;
  try {
    context = tls.createSecureContext(options);
  } catch (error) {
    throw refuse(policy.name, [secureContextProblem(policy, error)]);
  }
  // Node.js applies the TLS_* names of a list to TLS 1.3 and the rest to TLS 1.2 and below: a
  // TLS 1.3-only listener whose list names no TLS 1.3 suite would silently ignore it.
  if (policy.ciphers !== null && policy.minVersion === 'TLSv1.3' && !TLS13_SUITE.test(policy.ciphers)) {
    throw refuse(policy.name, [
      `ciphers "${policy.ciphers}" names no TLS 1.3 suite (such as TLS_AES_128_GCM_SHA256) and the window ${policy.minVersion}–${policy.maxVersion} has no older version it would apply to`,
    ]);
  }
  if (!handshakes) return context;
  const versions = versionsOf(policy);
  const failures = await Promise.all(versions.map((version) => probeHandshake(options, version)));
  const problems = versions.flatMap((version, index) => {
    const failure = failures[index];
    return failure ? [explain(policy, version, failure)] : [];
  });
  if (problems.length > 0) throw refuse(policy.name, problems);
  return context;
}
